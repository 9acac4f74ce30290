{#- A raw integer in its one allowed spelling: optional minus, digits, no leading zeros, at most 18
    digits; anything else (spaces, '+12', '1e3', '1_000', '0x10', '012', '1.0') gives null, so the
    parsed() check rejects the row. Casts alone accept all of those: DuckDB reads ' 12' as 12 and '1e3'
    as 1000. One spelling per number also makes two raw ids the same id only when they are the same text,
    so copies found on the raw text are the copies of the typed key. -#}
{% macro parse_integer(column, type=none) -%}
    case
        when {{ regex_matches(dbt.safe_cast(column, dbt.type_string()), "'^-?(0|[1-9][0-9]{0,18})$'") }}
            then {{ dbt.safe_cast(column, type or dbt.type_bigint()) }}
    end
{%- endmacro %}

{#- What parse_integer accepts, for the reason of a rejected row. -#}
{% macro integer_rule() -%}
    {{- return('an integer written as plain digits (no spaces, plus sign, decimals or exponent)') -}}
{%- endmacro %}
