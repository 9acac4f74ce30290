{#- Models that an incremental build updates by key (the rows of a changed session or transaction are
    replaced): their materialization and incremental strategy on each engine. DuckDB deletes the keys and
    inserts them again. Spark merges, which needs a table format that can (Delta, Iceberg or Hudi: the config
    file_format, set in dbt_project.yml); on plain Parquet such a model is rebuilt in full as a table. -#}
{% macro upsert_materialization() %}
    {{ return(adapter.dispatch('upsert_materialization', 'sales_insights')()) }}
{% endmacro %}

{% macro default__upsert_materialization() %}
    {{ return('incremental') }}
{% endmacro %}

{% macro spark__upsert_materialization() %}
    {{ return('incremental' if config.get('file_format', 'parquet') in ['delta', 'iceberg', 'hudi'] else 'table') }}
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
