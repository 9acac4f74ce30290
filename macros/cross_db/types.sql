{#- Types dbt has no cross-database macro for. -#}
{% macro type_timestamptz() %}
    {{ return(adapter.dispatch('type_timestamptz', 'sales_insights')()) }}
{% endmacro %}

{% macro default__type_timestamptz() -%}
    timestamp
{%- endmacro %}

{% macro duckdb__type_timestamptz() -%}
    timestamp with time zone
{%- endmacro %}

{#- Money in the shop currency: Shopify reports two decimals. -#}
{% macro type_money() -%}
    decimal(18, 2)
{%- endmacro %}

{#- A 64-bit float for rates (dbt.type_float() is a 32-bit float on DuckDB). -#}
{% macro type_double() -%}
    double
{%- endmacro %}
