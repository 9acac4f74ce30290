{#- The window of plausible instants for raw data, from var earliest_valid_date (default 2005-01-01) to the
    build's start (run_started_at, UTC) plus var max_clock_skew_hours (default 24), and the reasons a row
    outside it is rejected for: a date of 1970 or 2100 is a broken clock or unit, and data from the future
    would make freshness checks pass. -#}
{% macro plausible_window() -%}
    {%- set utc = modules.pytz.utc -%}
    {%- set started = run_started_at if run_started_at.tzinfo else utc.localize(run_started_at) -%}
    {%- set earliest_date = var('earliest_valid_date', '2005-01-01') -%}
    {%- set earliest = modules.datetime.datetime.strptime(earliest_date, '%Y-%m-%d') -%}
    {%- set skew = var('max_clock_skew_hours', 24) -%}
    {{- return({
        'earliest': utc.localize(earliest),
        'latest': started.astimezone(utc) + modules.datetime.timedelta(hours=skew),
        'too_early': 'before the earliest plausible date ' ~ earliest_date ~ ' (var earliest_valid_date)',
        'too_late': 'in the future: later than the build start plus ' ~ skew ~ ' h (var max_clock_skew_hours)',
    }) -}}
{%- endmacro %}

{#- A UTC instant (a Python datetime) as a literal of type_timestamptz(). -#}
{% macro instant_literal(instant) %}
    {{ return(adapter.dispatch('instant_literal', 'sales_insights')(instant)) }}
{% endmacro %}

{% macro default__instant_literal(instant) -%}
    cast('{{ instant.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ type_timestamptz() }})
{%- endmacro %}

{% macro duckdb__instant_literal(instant) -%}
    cast('{{ instant.strftime("%Y-%m-%d %H:%M:%S") }}+00:00' as {{ type_timestamptz() }})
{%- endmacro %}

{#- A UTC instant as microseconds since the Unix epoch (GA4's event_timestamp). -#}
{% macro instant_micros(instant) -%}
    {%- set epoch = modules.pytz.utc.localize(modules.datetime.datetime(1970, 1, 1)) -%}
    {%- set delta = instant - epoch -%}
    {{- return((delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds) -}}
{%- endmacro %}
