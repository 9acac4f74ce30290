{#- The calendar date of an instant in the reporting time zone (dbt var reporting_timezone). -#}
{% macro to_reporting_date(column) %}
    {{ return(adapter.dispatch('to_reporting_date', 'sales_insights')(column)) }}
{% endmacro %}

{% macro default__to_reporting_date(column) -%}
    to_date(from_utc_timestamp({{ column }}, '{{ var("reporting_timezone") }}'))
{%- endmacro %}

{% macro duckdb__to_reporting_date(column) -%}
    cast(timezone('{{ var("reporting_timezone") }}', {{ column }}) as date)
{%- endmacro %}
