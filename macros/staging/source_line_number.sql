{#- The line of the source CSV a raw row came from (line 1 is the header). Raw tables are written in
    file order, so the storage row id gives it without an extra column. The number must be the same on
    every scan of the table (base_ga4__events reads it twice); DuckDB's rowid is. The default's
    row_number() over () is not guaranteed to be: an engine without a stable row id needs the loader to
    write the line number as a column. -#}
{% macro source_line_number() %}
    {{ return(adapter.dispatch('source_line_number', 'sales_insights')()) }}
{% endmacro %}

{% macro default__source_line_number() -%}
    row_number() over () + 1
{%- endmacro %}

{% macro duckdb__source_line_number() -%}
    rowid + 2
{%- endmacro %}
