{#- An ISO-8601 timestamp with a date, a time and its UTC offset or Z (2025-09-28T14:03:11-04:00,
    2025-09-28 18:03:11.5Z), or null. A date alone ('2025-06-15') or a time without an offset is
    ambiguous: its instant would depend on the host's time zone, so it gives null too. The whole value
    must match: an earlier check that only looked at the end took the '-15' of '2025-06-15' for an offset. -#}
{% macro timestamptz_pattern() -%}
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$'
{%- endmacro %}

{% macro parse_timestamptz(column) %}
    {{ return(adapter.dispatch('parse_timestamptz', 'sales_insights')(column)) }}
{% endmacro %}

{% macro default__parse_timestamptz(column) -%}
    case
        when {{ regex_matches(column, timestamptz_pattern()) }}
            then {{ dbt.safe_cast(column, type_timestamptz()) }}
    end
{%- endmacro %}
