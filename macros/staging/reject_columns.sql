{#- Turns a model's list of row checks into three columns: reject_column, reject_reason and
    reject_value, from the first check the row fails (all null when it passes every check).

    Each check is a dict: column (the raw column at fault), reason (a sentence), when (a SQL condition
    that is true for a bad row) and optionally value (the SQL of the offending value; defaults to the
    raw column). Checks are tried in order, so put the ones that make a row unusable first. -#}
{% macro reject_columns(checks) -%}
    case
        {%- for check in checks %}
        when {{ check.when }} then '{{ check.column }}'
        {%- endfor %}
    end as reject_column,
    case
        {%- for check in checks %}
        when {{ check.when }} then '{{ check.reason | replace("'", "''") }}'
        {%- endfor %}
    end as reject_reason,
    case
        {%- for check in checks %}
        when {{ check.when }} then cast({{ check.get('value', 'raw_' ~ check.column) }} as {{ dbt.type_string() }})
        {%- endfor %}
    end as reject_value
{%- endmacro %}
