{#- True when the raw tables come from the committed mock seeds. The dbt var `use_mock_data` wins over
    the USE_MOCK_DATA environment variable; both default to true. -#}
{% macro use_mock_data() %}
    {%- set value = var('use_mock_data', env_var('USE_MOCK_DATA', 'true')) -%}
    {{ return(value | string | trim | lower in ['true', '1', 'yes', 'y', 'on']) }}
{% endmacro %}
