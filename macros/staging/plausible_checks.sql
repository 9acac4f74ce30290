{#- The checks that a parsed instant lies in plausible_window(): for reject_columns(), after the column's
    parsed() check. `typed` is the typed column (a timestamp with time zone). -#}
{% macro plausible_instant_checks(column, typed) -%}
    {%- set window = plausible_window() -%}
    {{ return([
        {
            'column': column,
            'reason': 'before the earliest plausible date ' ~ window.earliest_text ~ ' (var earliest_valid_date)',
            'when': typed ~ ' < ' ~ instant_literal(window.earliest),
        },
        {
            'column': column,
            'reason': 'in the future: later than the build start plus ' ~ window.skew_hours
                ~ ' h (var max_clock_skew_hours)',
            'when': typed ~ ' > ' ~ instant_literal(window.latest),
        },
    ]) }}
{%- endmacro %}

{#- The same for a date (GA4's report_date): before the earliest date, or after the build's date plus the skew. -#}
{% macro plausible_date_checks(column, typed) -%}
    {%- set window = plausible_window() -%}
    {{ return([
        {
            'column': column,
            'reason': 'before the earliest plausible date ' ~ window.earliest_text ~ ' (var earliest_valid_date)',
            'when': typed ~ " < cast('" ~ window.earliest.strftime('%Y-%m-%d') ~ "' as date)",
        },
        {
            'column': column,
            'reason': 'in the future: later than the build start plus ' ~ window.skew_hours
                ~ ' h (var max_clock_skew_hours)',
            'when': typed ~ " > cast('" ~ window.latest.strftime('%Y-%m-%d') ~ "' as date)",
        },
    ]) }}
{%- endmacro %}

{#- GA4's event_timestamp is microseconds since the epoch. A value of 13 digits is most likely milliseconds
    and one of 10 seconds (a unit mix-up upstream); any other value outside plausible_window() is out of
    range. These checks run on the parsed integer, so an absurd value never reaches a timestamp conversion
    (9223372036854775807 would overflow it). -#}
{% macro plausible_micros_checks(column, typed) -%}
    {%- set window = plausible_window() -%}
    {%- set low = instant_micros(window.earliest) -%}
    {%- set high = instant_micros(window.latest) -%}
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
        {
            'column': column,
            'reason': 'before the earliest plausible date ' ~ window.earliest_text ~ ' (var earliest_valid_date)',
            'when': typed ~ ' < ' ~ low,
        },
        {
            'column': column,
            'reason': 'in the future: later than the build start plus ' ~ window.skew_hours
                ~ ' h (var max_clock_skew_hours)',
            'when': typed ~ ' > ' ~ high,
        },
    ]) }}
{%- endmacro %}

{#- The condition that a typed micros column is inside plausible_window(), for computing its instant only then. -#}
{% macro micros_in_window(typed) -%}
    {%- set window = plausible_window() -%}
    {{ typed }} between {{ instant_micros(window.earliest) }} and {{ instant_micros(window.latest) }}
{%- endmacro %}
