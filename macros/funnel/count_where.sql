{#- Number of rows where `condition` holds, as a bigint (a plain sum would give DuckDB's 128-bit integer). -#}
{% macro count_where(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}
