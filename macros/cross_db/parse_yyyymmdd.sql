{#- A GA4 event_date ('20250928') as a date, or null when it is not eight digits of a real date. -#}
{% macro parse_yyyymmdd(column) %}
    {{ return(adapter.dispatch('parse_yyyymmdd', 'sales_insights')(column)) }}
{% endmacro %}

{% macro default__parse_yyyymmdd(column) -%}
    case when {{ column }} rlike '^[0-9]{8}$' then to_date({{ column }}, 'yyyyMMdd') end
{%- endmacro %}

{% macro duckdb__parse_yyyymmdd(column) -%}
    case
        when regexp_full_match({{ column }}, '[0-9]{8}')
            then cast(try_strptime({{ column }}, '%Y%m%d') as date)
    end
{%- endmacro %}
