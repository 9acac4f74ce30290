{#- True when the build can name a raw row by the physical line of its file rather than by its record
    line (source_line_number: the n-th record is line n + 1), which differ after a quoted field holding a
    line break or a blank line. The loader (scripts/sales_insights/pipeline/raw_lines.py) keeps, for the files
    where they differ, the ranges of record lines that start further down in the source
    loader.raw_line_offsets (meta.raw_line_offsets), which base_loader__raw_line_offsets reads; `sales-insights dbt
    --data-dir` writes it to Spark beside the raw tables. Not for the mock seeds, whose rows the loader
    did not write (a Spark build of the seeds, and a raw schema written by another tool, have no such
    table): their rows are named by their record line. -#}
{% macro has_raw_line_offsets() %}
    {{ return(adapter.dispatch('has_raw_line_offsets', 'sales_insights')()) }}
{% endmacro %}

{% macro default__has_raw_line_offsets() %}
    {{ return(false) }}
{% endmacro %}

{% macro duckdb__has_raw_line_offsets() %}
    {{ return(execute and not use_mock_data() and meta_table_exists('raw_line_offsets')) }}
{% endmacro %}

{% macro spark__has_raw_line_offsets() %}
    {%- if not execute or use_mock_data() or not run_query("show databases like 'meta'").rows -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(run_query("show tables in meta like 'raw_line_offsets'").rows | length > 0) }}
{% endmacro %}
