{#- Checks for reject_columns() that a parsed value lies in plausible_window(), after the column's parsed()
    check. `typed` is the typed column; `earliest` and `latest` are SQL of the window's ends in its type. -#}
{% macro window_checks(column, typed, earliest, latest) -%}
    {%- set window = plausible_window() -%}
    {{ return([
        {'column': column, 'reason': window.too_early, 'when': typed ~ ' < ' ~ earliest},
        {'column': column, 'reason': window.too_late, 'when': typed ~ ' > ' ~ latest},
    ]) }}
{%- endmacro %}

{#- For a timestamp with time zone. -#}
{% macro plausible_instant_checks(column, typed) -%}
    {%- set window = plausible_window() -%}
    {{ return(window_checks(column, typed, instant_literal(window.earliest), instant_literal(window.latest))) }}
{%- endmacro %}

{#- For a date (GA4's report_date): before the earliest date, or after the date of the build's start plus the skew. -#}
{% macro plausible_date_checks(column, typed) -%}
    {%- set window = plausible_window() -%}
    {{ return(window_checks(
        column, typed,
        "cast('" ~ window.earliest.strftime('%Y-%m-%d') ~ "' as date)",
        "cast('" ~ window.latest.strftime('%Y-%m-%d') ~ "' as date)",
    )) }}
{%- endmacro %}

{#- GA4's event_timestamp is microseconds since the epoch. A value of 13 digits is most likely milliseconds
    and one of 10 seconds (a unit mix-up upstream); any other value outside plausible_window() is out of
    range. These checks run on the parsed integer, so an absurd value never reaches a timestamp conversion
    (9223372036854775807 would overflow it). -#}
{% macro plausible_micros_checks(column, typed) -%}
    {%- set window = plausible_window() -%}
    {{ return([
        {
            'column': column,
            'reason': 'milliseconds, not microseconds since the epoch? (13 digits)',
            'when': typed ~ ' between 1000000000000 and 9999999999999',
        },
        {
            'column': column,
            'reason': 'seconds, not microseconds since the epoch? (10 digits)',
            'when': typed ~ ' between 1000000000 and 9999999999',
        },
    ] + window_checks(column, typed, instant_micros(window.earliest), instant_micros(window.latest))) }}
{%- endmacro %}

{#- The condition that a typed micros column is inside plausible_window(), for computing its instant only then. -#}
{% macro micros_in_window(typed) -%}
    {%- set window = plausible_window() -%}
    {{ typed }} between {{ instant_micros(window.earliest) }} and {{ instant_micros(window.latest) }}
{%- endmacro %}
