{#- The raw text of a row as one JSON object, so a rejected row keeps every value it came with. -#}
{% macro json_record(columns, prefix='') %}
    {{ return(adapter.dispatch('json_record', 'sales_insights')(columns, prefix)) }}
{% endmacro %}

{% macro default__json_record(columns, prefix) -%}
    to_json(named_struct(
        {%- for column in columns %}
        '{{ column }}', {{ prefix ~ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    ))
{%- endmacro %}

{% macro duckdb__json_record(columns, prefix) -%}
    cast(json_object(
        {%- for column in columns %}
        '{{ column }}', {{ prefix ~ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    ) as varchar)
{%- endmacro %}
