{#- Selects the raw text columns under raw_<name>, so a base model can keep them beside the typed ones. -#}
{% macro raw_columns(columns) -%}
    {%- for column in columns %}
    {{ column }} as raw_{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
