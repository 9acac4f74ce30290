{#- dbt's default safe_cast is a plain cast, which fails the whole model on one bad value; DuckDB has
    try_cast, which gives null. dbt looks up dbt.safe_cast's implementation in the root project first. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
