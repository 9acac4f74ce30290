{#- True when `column` matches the regular expression `pattern` anywhere (null when column is null). -#}
{% macro regex_matches(column, pattern) %}
    {{ return(adapter.dispatch('regex_matches', 'sales_insights')(column, pattern)) }}
{% endmacro %}

{% macro default__regex_matches(column, pattern) -%}
    ({{ column }} rlike {{ pattern }})
{%- endmacro %}

{% macro duckdb__regex_matches(column, pattern) -%}
    regexp_matches({{ column }}, {{ pattern }})
{%- endmacro %}
