{#- True when the build has the loader's record `name` of where the raw rows were read, so it can name a
    raw row by where it is in its source rather than by its record line (source_line_number: the n-th
    record is line n + 1):
    - raw_line_offsets: for the CSV files where the two differ (after a quoted field holding a line break,
      or a blank line), the ranges of record lines that start further down (pipeline/raw_lines.py);
    - raw_row_locations: for each row of a table loaded from another layout (Shopify's Bulk Operation
      JSONL, Fivetran's tables), the file and line it was read from (pipeline/shopify_layouts.py).
    The loader keeps them in meta (source loader), which the base_loader__ models read; `sales-insights dbt
    --data-dir` writes them to Spark beside the raw tables. Not for the mock seeds, whose rows the loader
    did not write (a Spark build of the seeds, and a raw schema written by another tool, have no such
    table): their rows are named by their record line. -#}
{% macro has_loader_record(name) %}
    {{ return(adapter.dispatch('has_loader_record', 'sales_insights')(name)) }}
{% endmacro %}

{% macro default__has_loader_record(name) %}
    {{ return(false) }}
{% endmacro %}

{% macro duckdb__has_loader_record(name) %}
    {{ return(execute and not use_mock_data() and meta_table_exists(name)) }}
{% endmacro %}

{% macro spark__has_loader_record(name) %}
    {%- if not execute or use_mock_data() or not run_query("show databases like 'meta'").rows -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(run_query("show tables in meta like '" ~ name ~ "'").rows | length > 0) }}
{% endmacro %}
