{#- 'true'/'false' (any case, or 1/0) as a boolean, or null for anything else. -#}
{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', '1') then true
        when lower(trim({{ column }})) in ('false', '0') then false
    end
{%- endmacro %}
