{#- The record line of the source CSV a raw row came from: the n-th record is line n + 1 (line 1 is the
    header), its line in the file unless a quoted field with a line break or a blank line comes before it
    (stg_rejected_rows names rejected rows by the line of the file: raw_line_offsets.sql). The number must
    be the same on every scan of the table (base_ga4__events reads it twice). DuckDB's raw tables are
    written in file order, so its storage row id gives the line without an extra column. Spark has no
    stable row id and reads a table's files in any order: its raw tables carry the line as a column,
    _source_line, written by the seed loader (spark_seeds.sql). -#}
{% macro source_line_number() %}
    {{ return(adapter.dispatch('source_line_number', 'sales_insights')()) }}
{% endmacro %}

{% macro default__source_line_number() -%}
    _source_line
{%- endmacro %}

{% macro duckdb__source_line_number() -%}
    rowid + 2
{%- endmacro %}
