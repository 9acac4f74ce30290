{#- dbt's own should_full_refresh (configs.sql in dbt-core's global project), which the incremental
    materialization and is_incremental() ask, with one more reason to build in full: an incremental model
    last built from another data source than this run's (data_source.sql). A model's own full_refresh
    config wins, as in dbt (full_refresh=false: never rebuilt); seeds and the other materializations keep
    dbt's rule. -#}
{% macro should_full_refresh() %}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none -%}
        {{ return(configured) }}
    {%- endif -%}
    {%- if flags.FULL_REFRESH -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if not execute or model.resource_type != 'model' or model.config.materialized != 'incremental' -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(not built_from_run_source()) }}
{% endmacro %}
