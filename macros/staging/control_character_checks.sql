{#- Checks for reject_columns() that reject a row whose text columns hold a control character (a NUL
    byte, an escape): text that no store means to send, which would reach exports and reports as is.
    Rejected, not stripped: the contract does not allow the value, and changing it silently would hide a
    broken feed. `columns` are raw columns (raw_<name> in the base model); put the checks after the parsing
    checks, which already reject such bytes in ids, numbers and timestamps. -#}
{% macro control_character_checks(columns) -%}
    {%- set checks = [] -%}
    {%- for column in columns -%}
        {%- do checks.append({
            'column': column,
            'reason': 'holds a control character (such as NUL); only tab and line breaks are allowed in text',
            'when': regex_matches('raw_' ~ column, control_character_pattern()),
        }) -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}
