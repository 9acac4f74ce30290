{#- The relation a staging model reads: the mock seed of that name, or the declared source loaded by
    `sales-insights build --data-dir`. Only staging models call it. -#}
{% macro raw_table(source_name, table_name) %}
    {%- if use_mock_data() -%}
        {{ return(ref(table_name)) }}
    {%- else -%}
        {{ return(source(source_name, table_name)) }}
    {%- endif -%}
{% endmacro %}
