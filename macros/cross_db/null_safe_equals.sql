{#- Equality that treats two nulls as equal (for joining on optional attributes). -#}
{% macro null_safe_equals(left, right) -%}
    ({{ left }} is not distinct from {{ right }})
{%- endmacro %}
