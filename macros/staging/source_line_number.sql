{#- The line of the source CSV a raw row came from (line 1 is the header). Raw tables are written in
    file order, so the storage row id gives it without an extra column. -#}
{% macro source_line_number() %}
    {{ return(adapter.dispatch('source_line_number', 'sales_insights')()) }}
{% endmacro %}

{% macro default__source_line_number() -%}
    row_number() over () + 1
{%- endmacro %}

{% macro duckdb__source_line_number() -%}
    rowid + 2
{%- endmacro %}
