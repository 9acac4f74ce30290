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
        when {{ check.when }} then {{ sql_text(check.reason) }}
        {%- endfor %}
    end as reject_reason,
    case
        {%- for check in checks %}
        when {{ check.when }} then cast({{ check.get('value', 'raw_' ~ check.column) }} as {{ dbt.type_string() }})
        {%- endfor %}
    end as reject_value
{%- endmacro %}

{#- The last columns of every base model: the first failed check (see reject_columns), and the raw row as
    JSON for a rejected row (null for a row that passed), from the raw_<column> columns in `raw`. -#}
{% macro rejection_output(raw) -%}
    reject_column,
    reject_reason,
    reject_value,
    case when reject_reason is not null then {{ json_record(raw, 'raw_') }} end as raw_record
{%- endmacro %}

{#- Copies of a raw record, by its key column: has_conflicting_copies (rows with the key differ in
    content) and copy_number (1 for the first of identical rows, by source line). `qualifier` names the
    relation when the select joins others. -#}
{% macro copy_columns(key, qualifier=none) -%}
    {%- set q = qualifier ~ '.' if qualifier else '' -%}
    min({{ q }}row_hash) over (partition by {{ q }}{{ key }})
    <> max({{ q }}row_hash) over (partition by {{ q }}{{ key }}) as has_conflicting_copies,
    row_number() over (partition by {{ q }}{{ key }}, {{ q }}row_hash order by {{ q }}source_line) as copy_number
{%- endmacro %}
