{#- The standard checks of raw text columns, as dicts for reject_columns():
    required(column) fails on a missing value; parsed(column, typed, what) fails when a value is there
    but could not be read as `what`. Raw columns are named raw_<column> in the base models. -#}
{% macro required(column) -%}
    {{ return({'column': column, 'reason': 'missing required value', 'when': 'raw_' ~ column ~ ' is null'}) }}
{%- endmacro %}

{% macro parsed(column, typed, what) -%}
    {{ return({
        'column': column,
        'reason': 'not ' ~ what,
        'when': 'raw_' ~ column ~ ' is not null and ' ~ typed ~ ' is null',
    }) }}
{%- endmacro %}
