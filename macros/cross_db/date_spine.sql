{#- One row per calendar day from start_date to end_date inclusive, in a column named date_day.
    Both arguments are SQL expressions of type date (they may be scalar subqueries). -#}
{% macro date_spine(start_date, end_date) %}
    {{ return(adapter.dispatch('date_spine', 'sales_insights')(start_date, end_date)) }}
{% endmacro %}

{% macro default__date_spine(start_date, end_date) -%}
    select explode(sequence({{ start_date }}, {{ end_date }}, interval 1 day)) as date_day
{%- endmacro %}

{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(generate_series as date) as date_day
    from generate_series(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
    )
{%- endmacro %}
