{#- One data source per warehouse, whatever dbt command writes it.

    A dbt run writes into tables that earlier runs built, perhaps from other raw data: the committed mock
    seeds, or the raw schema that `sales-insights build` loaded from a data directory (another directory,
    another GA4 layout or grain). Incremental models would add the new source's rows to the old source's
    and leave a warehouse that mixes two stores with every test passing. So:
    - the run states its source once (on-run-start: meta.run_data_source);
    - every model records the source it was built from (meta.model_data_sources), in a post-hook that
      commits with the model;
    - an incremental model whose record names another source builds in full (should_full_refresh.sql);
    - on-run-start refuses a run that would leave models it does not select on another source, a run whose
      GA4 vars differ from the raw schema's, and any other command on a warehouse that already mixes two
      sources (an interrupted run): the command fails, and each model's pre-hook fails before it builds
      (dbt goes on to the nodes after a failed on-run-start; its flag skip_nodes_if_on_run_start_fails
      would skip them, but dbt 1.11 then crashes on the exposures of a `dbt build`);
    - a run that ends with models of two sources anyway (one failed and its children were skipped) fails
      and names them.
    A dbt command that builds models outside `sales-insights build` (which passes the var cli_build) also
    removes meta.build_info and says so in meta.outside_cli_write: the warehouse is then no longer the build
    the CLI checked and published.
    DuckDB only: the Spark target builds from one source per run, in its own folder. -#}

{#- `value` as a SQL string literal. -#}
{% macro sql_text(value) %}
    {{- return("'" ~ (value | string | replace("'", "''")) ~ "'") -}}
{% endmacro %}

{#- This run's data source, as text: where its raw tables come from and the GA4 vars that pick the models
    reading them. -#}
{% macro run_data_source() %}
    {{ return(adapter.dispatch('run_data_source', 'sales_insights')()) }}
{% endmacro %}

{% macro default__run_data_source() %}
    {%- set vars_text = 'ga4_grain ' ~ var('ga4_grain') ~ ', ga4_layout ' ~ var('ga4_layout') -%}
    {{ return(('the committed mock seeds' if use_mock_data() else 'the raw schema') ~ ' (' ~ vars_text ~ ')') }}
{% endmacro %}

{% macro duckdb__run_data_source() %}
    {%- set vars_text = 'ga4_grain ' ~ var('ga4_grain') ~ ', ga4_layout ' ~ var('ga4_layout') -%}
    {%- if use_mock_data() -%}
        {{ return('the committed mock seeds (' ~ vars_text ~ ')') }}
    {%- endif -%}
    {%- set loaded = raw_source() -%}
    {%- set origin = 'the raw schema loaded from ' ~ loaded.data_path ~ ' (GA4 ' ~ loaded.ga4_grain ~ ', '
        ~ loaded.ga4_layout ~ ')' if loaded else 'the raw schema (not loaded by sales-insights)' -%}
    {{ return(origin ~ '; ' ~ vars_text) }}
{% endmacro %}

{#- What `sales-insights build` loaded into the raw schema (meta.raw_source): data_path, ga4_grain and
    ga4_layout, or none. -#}
{% macro raw_source() %}
    {%- if not execute or not meta_table_exists('raw_source') -%}{{ return(none) }}{%- endif -%}
    {%- set found = run_query("select data_path, ga4_grain, ga4_layout from meta.raw_source") -%}
    {%- if not found.rows -%}{{ return(none) }}{%- endif -%}
    {%- set row = found.rows[0] -%}
    {{ return({'data_path': row[0], 'ga4_grain': row[1], 'ga4_layout': row[2]}) }}
{% endmacro %}

{#- True when the table meta.<name> exists in the warehouse this run writes. -#}
{% macro meta_table_exists(name) %}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        ~ "and table_schema = 'meta' and table_name = " ~ sql_text(name)
    ) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}

{#- The data source each model of this project was last built from, {unique_id: source}, for the models a
    run can build (enabled ones) that have a record. -#}
{% macro recorded_sources() %}
    {%- set recorded = {} -%}
    {%- if not meta_table_exists('model_data_sources') -%}{{ return(recorded) }}{%- endif -%}
    {%- set models = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name -%}
        {%- do models.append(node.unique_id) -%}
    {%- endfor -%}
    {%- for row in run_query("select model, data_source from meta.model_data_sources order by model").rows
        if row[0] in models -%}
        {%- do recorded.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(recorded) }}
{% endmacro %}

{#- The message for a warehouse whose models were built from more than one source, or none. -#}
{% macro mixed_sources_message(recorded) %}
    {%- set by_source = {} -%}
    {%- for model, source in recorded.items() -%}
        {%- do by_source.setdefault(source, []).append(model.split('.')[-1]) -%}
    {%- endfor -%}
    {%- if by_source | length < 2 -%}{{ return(none) }}{%- endif -%}
    {%- set parts = [] -%}
    {%- for source, models in by_source.items() -%}
        {%- do parts.append(models | length ~ ' from ' ~ source ~ ' (' ~ (models | sort)[:5] | join(', ')
            ~ (', ...' if models | length > 5 else '') ~ ')') -%}
    {%- endfor -%}
    {{ return('The warehouse holds models built from ' ~ by_source | length ~ ' data sources: '
        ~ parts | join('; ') ~ '. Build every model from one source (dbt build) before reading it.') }}
{% endmacro %}

{#- SQL that fails with `message` (a hook whose statement fails makes the dbt command fail). -#}
{% macro fail_with(message) %}
    select error({{ sql_text(message) }})
{% endmacro %}

{#- on-run-start. -#}
{% macro start_data_source_run() %}
    {{ return(adapter.dispatch('start_data_source_run', 'sales_insights')()) }}
{% endmacro %}

{% macro default__start_data_source_run() %}
{% endmacro %}

{#- Why this run must not go on, or none. -#}
{% macro data_source_refusal(source) %}
    {%- set builds = flags.WHICH in ['build', 'run'] -%}
    {%- set loaded = none if use_mock_data() else raw_source() -%}
    {%- if builds and loaded and (loaded.ga4_grain, loaded.ga4_layout) != (var('ga4_grain'), var('ga4_layout')) -%}
        {{ return('The raw schema holds GA4 at grain ' ~ loaded.ga4_grain ~ ' in the ' ~ loaded.ga4_layout
            ~ ' layout (loaded from ' ~ loaded.data_path ~ '), but this run has ga4_grain ' ~ var('ga4_grain')
            ~ ', ga4_layout ' ~ var('ga4_layout') ~ '. No model was built. Run it with --vars \'{ga4_grain: '
            ~ loaded.ga4_grain ~ ', ga4_layout: ' ~ loaded.ga4_layout ~ '}\'.') }}
    {%- endif -%}
    {%- set recorded = recorded_sources() -%}
    {%- if not builds -%}
        {#- a command that builds no model (dbt test, seed, ...) must not read or add to a mixed warehouse -#}
        {{ return(mixed_sources_message(recorded)) }}
    {%- endif -%}
    {%- set left_behind = {} -%}
    {%- for model, built_from in recorded.items() if built_from != source and model not in selected_resources -%}
        {%- do left_behind.setdefault(built_from, []).append(model.split('.')[-1]) -%}
    {%- endfor -%}
    {%- if left_behind -%}
        {%- set parts = [] -%}
        {%- for built_from, models in left_behind.items() -%}
            {%- do parts.append(models | length ~ ' model(s) built from ' ~ built_from ~ ' ('
                ~ (models | sort)[:5] | join(', ') ~ (', ...' if models | length > 5 else '') ~ ')') -%}
        {%- endfor -%}
        {{ return('This run builds from ' ~ source ~ ' but does not select ' ~ parts | join('; ')
            ~ ', which would be left beside it. No model was built. Build every model (dbt build, without '
            ~ '--select) or keep to the source they were built from.') }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}

{% macro duckdb__start_data_source_run() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set source = run_data_source() -%}
    {%- set refusal = data_source_refusal(source) -%}
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
        {{ sql_text(source) }} as data_source,
        {{ sql_text(invocation_id) }} as invocation_id,
        current_timestamp as started_at,
        {{ sql_text(flags.WHICH) }} as command,
        {{ 'true' if var('cli_build', false) else 'false' }} as cli_build,
        {{ sql_text(refusal) if refusal else 'null::varchar' }} as refusal;
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
    where invocation_id = {{ sql_text(invocation_id) }}
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
    select {{ sql_text(model.unique_id) }}, {{ sql_text(this) }}, data_source, invocation_id, current_timestamp
    from meta.run_data_source
    where invocation_id = {{ sql_text(invocation_id) }}
{% endmacro %}

{#- True when the model was last built from this run's source. False when it has no record (built before
    records were kept, or never), and always for the committed mock seeds and a raw schema that
    sales-insights did not load: dbt reloads the seeds whole, and nothing says what changed in the other,
    so nothing says their rows were only appended to. -#}
{% macro built_from_run_source() %}
    {{ return(adapter.dispatch('built_from_run_source', 'sales_insights')()) }}
{% endmacro %}

{% macro default__built_from_run_source() %}
    {{ return(true) }}
{% endmacro %}

{% macro duckdb__built_from_run_source() %}
    {%- if use_mock_data() or raw_source() is none or not meta_table_exists('model_data_sources') -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set same = run_query(
        "select count(*) from meta.model_data_sources where model = " ~ sql_text(model.unique_id)
        ~ " and data_source = " ~ sql_text(run_data_source())
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
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set wrote = [] -%}
    {%- for result in results
        if result.node.resource_type in ['model', 'snapshot'] and result.status == 'success' -%}
        {%- do wrote.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- if wrote and not var('cli_build', false) %}
    drop table if exists meta.build_info;
    create or replace table meta.outside_cli_write as
    select
        {{ sql_text(flags.WHICH) }} as command,
        {{ sql_text(invocation_id) }} as invocation_id,
        current_timestamp as finished_at,
        data_source
    from meta.run_data_source;
    {%- endif -%}
    {%- set mixed = mixed_sources_message(recorded_sources()) -%}
    {%- if mixed %}
    {{ fail_with(mixed) }}
    {%- endif -%}
{% endmacro %}
