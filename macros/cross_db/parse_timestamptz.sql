{#- An ISO-8601 timestamp that carries its UTC offset (2025-09-28T14:03:11-04:00), or null. A timestamp
    without an offset is ambiguous and gives null too. -#}
{% macro parse_timestamptz(column) %}
    {{ return(adapter.dispatch('parse_timestamptz', 'sales_insights')(column)) }}
{% endmacro %}

{% macro default__parse_timestamptz(column) -%}
    case
        when {{ column }} rlike '([+-][0-9]{2}(:?[0-9]{2})?|Z)$'
            then {{ dbt.safe_cast(column, type_timestamptz()) }}
    end
{%- endmacro %}

{% macro duckdb__parse_timestamptz(column) -%}
    case
        when regexp_matches({{ column }}, '([+-][0-9]{2}(:?[0-9]{2})?|Z)$')
            then {{ dbt.safe_cast(column, type_timestamptz()) }}
    end
{%- endmacro %}
