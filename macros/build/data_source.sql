{#- One data source per warehouse, whatever dbt command writes it.

    A dbt run writes into tables that earlier runs built, perhaps from other raw data: the committed mock
    seeds, or the raw schema that `sales-insights build` loaded from a data directory (another directory,
    another GA4 layout or grain). Incremental models would add the new source's rows to the old source's
    and leave a warehouse that mixes two stores with every test passing. So:
    - the run states its source once (on-run-start: meta.run_data_source);
    - every model records the source it was built from (meta.model_data_sources), in a post-hook that
      commits with the model;
    - an incremental model whose record names another source builds in full (should_full_refresh.sql);
    - a run that would leave models it does not select built from another source is refused: each
      model's pre-hook fails before it builds;
    - a run that ends with models of two sources anyway (one failed and its children were skipped) fails
      and names them.
    A dbt command that writes models outside `sales-insights build` (which passes the var cli_build) also
    removes meta.build_info: the warehouse is then no longer the build the CLI checked and published.
    DuckDB only: the Spark target builds from one source per run, in its own folder. -#}

{% macro run_data_source() %}
    {{ return(adapter.dispatch('run_data_source', 'sales_insights')()) }}
{% endmacro %}

{#- This run's data source, as text: where its raw tables come from and the GA4 vars that pick the models
    reading them. -#}
{% macro default__run_data_source() %}
    {%- set vars_text = 'ga4_grain ' ~ var('ga4_grain') ~ ', ga4_layout ' ~ var('ga4_layout') -%}
    {%- if use_mock_data() -%}
        {{ return('the committed mock seeds (' ~ vars_text ~ ')') }}
    {%- endif -%}
    {%- set loaded = none -%}
    {%- if execute and meta_table_exists('raw_source') -%}
        {%- set loaded = run_query(
            "select 'the raw schema loaded from ' || data_path || ' (GA4 ' || ga4_grain || ', ' || ga4_layout || ')'"
            ~ " from meta.raw_source"
        ).columns[0].values() | first -%}
    {%- endif -%}
    {{ return((loaded or 'the raw schema (not loaded by sales-insights)') ~ '; ' ~ vars_text) }}
{% endmacro %}

{#- True when the table meta.<name> exists in the warehouse this run writes. -#}
{% macro meta_table_exists(name) %}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        ~ "and table_schema = 'meta' and table_name = '" ~ name ~ "'"
    ) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}

{#- The models of this project a run can build (enabled ones), by unique id. -#}
{% macro project_model_ids() %}
    {%- set ids = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name -%}
        {%- do ids.append(node.unique_id) -%}
    {%- endfor -%}
    {{ return(ids) }}
{% endmacro %}

{#- SQL that fails with `message` (a hook whose statement fails makes the dbt command fail). -#}
{% macro fail_with(message) %}
    select error('{{ message | replace("'", "''") }}')
{% endmacro %}

{#- on-run-start. -#}
{% macro start_data_source_run() %}
    {{ return(adapter.dispatch('start_data_source_run', 'sales_insights')()) }}
{% endmacro %}

{% macro default__start_data_source_run() %}
{% endmacro %}

{% macro duckdb__start_data_source_run() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set source = run_data_source() -%}
    {%- set refusal = none -%}
    {%- if flags.WHICH in ['build', 'run'] and meta_table_exists('model_data_sources') -%}
        {%- set built = run_query(
            "select model, data_source from meta.model_data_sources order by model"
        ) -%}
        {%- set model_ids = project_model_ids() -%}
        {%- set left_behind = [] -%}
        {%- for row in built.rows
            if row[1] != source and row[0] in model_ids and row[0] not in selected_resources -%}
            {%- do left_behind.append(row[0].split('.')[-1] ~ ' (' ~ row[1] ~ ')') -%}
        {%- endfor -%}
        {%- if left_behind -%}
            {%- set refusal = 'This run builds from ' ~ source ~ ' but does not select '
                ~ left_behind | length ~ ' model(s) built from another source, which would be left beside '
                ~ 'it: ' ~ left_behind[:5] | join(', ') ~ (', ...' if left_behind | length > 5 else '')
                ~ '. No model was built. Build every model (dbt build, without --select) or keep to the '
                ~ 'source they were built from.' -%}
        {%- endif -%}
    {%- endif -%}
    create schema if not exists meta;
    create table if not exists meta.model_data_sources (
        model varchar primary key,
        relation varchar,
        data_source varchar,
        invocation_id varchar,
        built_at timestamptz
    );
    create or replace table meta.run_data_source as
    select
        '{{ source | replace("'", "''") }}' as data_source,
        '{{ invocation_id }}' as invocation_id,
        current_timestamp as started_at,
        '{{ flags.WHICH }}' as command,
        {{ 'true' if var('cli_build', false) else 'false' }} as cli_build,
        {{ "'" ~ refusal | replace("'", "''") ~ "'" if refusal else 'null::varchar' }} as refusal;
    {#- dbt goes on to the models after a failed on-run-start: their pre-hook fails with the refusal. -#}
    {%- if refusal %}
    {{ fail_with(refusal) }}
    {%- endif -%}
{% endmacro %}

{#- Every model's pre-hook: the model is not built when this run was refused, or when its on-run-start did
    not say what the run builds from (its post-hook could not record it). -#}
{% macro refuse_mixed_run() %}
    {{ return(adapter.dispatch('refuse_mixed_run', 'sales_insights')()) }}
{% endmacro %}

{% macro default__refuse_mixed_run() %}
{% endmacro %}

{% macro duckdb__refuse_mixed_run() %}
    select error(coalesce(max(refusal), 'the on-run-start hook did not record the data source of this run'))
    from meta.run_data_source
    where invocation_id = '{{ invocation_id }}'
    having count(*) = 0 or max(refusal) is not null
{% endmacro %}

{#- Every model's post-hook. -#}
{% macro record_data_source() %}
    {{ return(adapter.dispatch('record_data_source', 'sales_insights')()) }}
{% endmacro %}

{% macro default__record_data_source() %}
{% endmacro %}

{% macro duckdb__record_data_source() %}
    insert or replace into meta.model_data_sources
    select '{{ model.unique_id }}', '{{ this }}', data_source, '{{ invocation_id }}', current_timestamp
    from meta.run_data_source
    where invocation_id = '{{ invocation_id }}'
{% endmacro %}

{#- True when the model was last built from this run's source (false when it has no record: built
    before records were kept, or never). The committed mock seeds count as a new source on every run: dbt
    reloads them whole, so nothing says their rows were only appended to. -#}
{% macro built_from_run_source() %}
    {{ return(adapter.dispatch('built_from_run_source', 'sales_insights')()) }}
{% endmacro %}

{% macro default__built_from_run_source() %}
    {{ return(true) }}
{% endmacro %}

{% macro duckdb__built_from_run_source() %}
    {%- if use_mock_data() -%}{{ return(false) }}{%- endif -%}
    {%- if not (meta_table_exists('run_data_source') and meta_table_exists('model_data_sources')) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set same = run_query(
        "select count(*) from meta.model_data_sources as built inner join meta.run_data_source as run "
        ~ "on built.data_source = run.data_source where built.model = '" ~ model.unique_id ~ "'"
    ) -%}
    {{ return(same.columns[0].values()[0] > 0) }}
{% endmacro %}

{#- on-run-end. -#}
{% macro end_data_source_run() %}
    {{ return(adapter.dispatch('end_data_source_run', 'sales_insights')()) }}
{% endmacro %}

{% macro default__end_data_source_run() %}
{% endmacro %}

{% macro duckdb__end_data_source_run() %}
    {%- if not execute or not meta_table_exists('model_data_sources') -%}{{ return('') }}{%- endif -%}
    {%- set outside_cli = not var('cli_build', false) and flags.WHICH in ['build', 'run', 'seed', 'snapshot'] -%}
    {%- set model_ids = project_model_ids() -%}
    {%- set built = run_query(
        "select data_source, model from meta.model_data_sources order by data_source, model"
    ) -%}
    {%- set by_source = {} -%}
    {%- for row in built.rows if row[1] in model_ids -%}
        {%- do by_source.setdefault(row[0], []).append(row[1].split('.')[-1]) -%}
    {%- endfor -%}
    {%- if by_source | length > 1 -%}
        {%- set parts = [] -%}
        {%- for source, models in by_source.items() -%}
            {%- do parts.append(models | length ~ ' from ' ~ source ~ ' (' ~ models[:5] | join(', ')
                ~ (', ...' if models | length > 5 else '') ~ ')') -%}
        {%- endfor -%}
        {%- set mixed = 'The warehouse now holds models built from ' ~ by_source | length ~ ' data sources: '
            ~ parts | join('; ') ~ '. Build every model from one source (dbt build) before reading it.' -%}
    {%- endif -%}
    {%- if outside_cli -%}
        drop table if exists meta.build_info;
    {%- endif -%}
    {%- if mixed is defined -%}
        {{ fail_with(mixed) }}
    {%- endif -%}
{% endmacro %}
