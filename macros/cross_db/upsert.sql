{#- Models that an incremental build updates by key (the rows of a changed session or transaction are
    replaced): their materialization and incremental strategy on each engine. DuckDB deletes the keys and
    inserts them again. Spark merges, which needs a table format that can: Delta, Iceberg or Hudi, chosen
    with the var spark_file_format (--vars '{spark_file_format: delta}'), which also sets every model's
    file_format in dbt_project.yml. On plain Parquet, the default, such a model is rebuilt in full as a
    table. (A model's config() runs at parse time, where config.get cannot see the project's file_format:
    the var is read by both.) -#}
{% macro upsert_materialization() %}
    {{ return(adapter.dispatch('upsert_materialization', 'sales_insights')()) }}
{% endmacro %}

{% macro default__upsert_materialization() %}
    {{ return('incremental') }}
{% endmacro %}

{% macro spark__upsert_materialization() %}
    {{ return('incremental' if var('spark_file_format', 'parquet') in ['delta', 'iceberg', 'hudi'] else 'table') }}
{% endmacro %}

{% macro upsert_strategy() %}
    {{ return(adapter.dispatch('upsert_strategy', 'sales_insights')()) }}
{% endmacro %}

{% macro default__upsert_strategy() %}
    {{ return('merge') }}
{% endmacro %}

{% macro duckdb__upsert_strategy() %}
    {{ return('delete+insert') }}
{% endmacro %}
