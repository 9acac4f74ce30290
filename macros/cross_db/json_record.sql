{#- The raw text of a row as one JSON object, so a rejected row keeps every value it came with. -#}
{% macro json_record(columns, prefix='') %}
    {{ return(adapter.dispatch('json_record', 'sales_insights')(columns, prefix)) }}
{% endmacro %}

{#- Spark's to_json leaves out null fields unless told to keep them: a rejected row keeps its empty values,
    as on DuckDB. -#}
{% macro default__json_record(columns, prefix) -%}
    to_json(named_struct(
        {%- for column in columns %}
        '{{ column }}', {{ prefix ~ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    ), map('ignoreNullFields', 'false'))
{%- endmacro %}

{% macro duckdb__json_record(columns, prefix) -%}
    cast(json_object(
        {%- for column in columns %}
        '{{ column }}', {{ prefix ~ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    ) as varchar)
{%- endmacro %}
