{#- A hint that a CTE read more than once should be inlined into each reader rather than materialized
    once: right when each reader scans a few columns of a wide table or keeps a few of its rows, where a
    materialized copy of every row and column is what the engine would spill. Engines without the hint
    get nothing. -#}
{% macro not_materialized() %}
    {{- return(adapter.dispatch('not_materialized', 'sales_insights')()) -}}
{% endmacro %}

{% macro default__not_materialized() -%}{%- endmacro %}

{#- DuckDB materializes a CTE with several readers; at 10M events this copied every raw GA4 column (8 GB,
    spilled to disk): base_ga4__events took 46 s instead of 26 s at a 3 GB memory limit. -#}
{% macro duckdb__not_materialized() -%}not materialized{%- endmacro %}

{% macro postgres__not_materialized() -%}not materialized{%- endmacro %}
