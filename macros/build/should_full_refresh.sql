{#- dbt's own should_full_refresh (configs.sql in dbt-core's global project), which the incremental
    materialization and is_incremental() ask, with one more reason to build in full: an incremental model
    last built from another data source than this run's (data_source.sql). Seeds and other materializations
    keep dbt's rule. -#}
{% macro should_full_refresh() %}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is none -%}
        {%- set configured = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- if configured or not execute or model.resource_type != 'model'
        or model.config.materialized != 'incremental' -%}
        {{ return(configured) }}
    {%- endif -%}
    {{ return(not built_from_run_source()) }}
{% endmacro %}
