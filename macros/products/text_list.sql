{#- The values of a list var as a SQL list of string literals, lower- or upper-cased for comparing without
    case ('fee', 'shipping'); quotes doubled. An empty list gives (''), which no value that staging keeps
    equals (it reads an empty field as null), so `x not in (...)` leaves nothing out. -#}
{% macro text_list(values, case='lower') -%}
    {%- set items = [] -%}
    {%- for value in values -%}
        {%- set text = (value | string) | lower if case == 'lower' else (value | string) | upper -%}
        {%- do items.append("'" ~ text | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {{ items | join(', ') if items else "''" }}
{%- endmacro %}
