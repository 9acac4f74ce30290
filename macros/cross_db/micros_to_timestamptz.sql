{#- GA4's event_timestamp (microseconds since the Unix epoch, UTC) as a timestamp with time zone. -#}
{% macro micros_to_timestamptz(column) %}
    {{ return(adapter.dispatch('micros_to_timestamptz', 'sales_insights')(column)) }}
{% endmacro %}

{% macro default__micros_to_timestamptz(column) -%}
    timestamp_micros({{ column }})
{%- endmacro %}

{% macro duckdb__micros_to_timestamptz(column) -%}
    timezone('UTC', make_timestamp({{ column }}))
{%- endmacro %}
