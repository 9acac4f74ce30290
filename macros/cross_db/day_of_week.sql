{#- Day of the week of a date as a number (the numbering differs between engines; use it to group
    and join, not to name days). -#}
{% macro day_of_week(column) %}
    {{ return(adapter.dispatch('day_of_week', 'sales_insights')(column)) }}
{% endmacro %}

{% macro default__day_of_week(column) -%}
    dayofweek({{ column }})
{%- endmacro %}

{% macro duckdb__day_of_week(column) -%}
    isodow({{ column }})
{%- endmacro %}
