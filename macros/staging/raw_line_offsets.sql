{#- True when the build can name a raw row by the physical line of its file rather than by its record
    line (source_line_number: the n-th record is line n + 1), which differ after a quoted field holding a
    line break or a blank line. The loader (scripts/sales_insights/raw_lines.py) keeps, for the files
    where they differ, the ranges of record lines that start further down in the source
    loader.raw_line_offsets (meta.raw_line_offsets); stg_rejected_rows joins them. Not for the mock seeds,
    whose rows the loader did not write, and not on Spark, which builds from the seeds or from raw tables
    that spark.py writes without the ranges: there the rows are named by their record line. -#}
{% macro has_raw_line_offsets() %}
    {{ return(adapter.dispatch('has_raw_line_offsets', 'sales_insights')()) }}
{% endmacro %}

{% macro default__has_raw_line_offsets() %}
    {{ return(false) }}
{% endmacro %}

{% macro duckdb__has_raw_line_offsets() %}
    {{ return(execute and not use_mock_data() and meta_table_exists('raw_line_offsets')) }}
{% endmacro %}
