{#- A raw amount of money as a plain decimal: optional minus, digits, and at most the shop currency's
    minor units of decimals (two for USD, none for JPY): '12.5', '12.50', '-3'. An exponent ('1e3'), a
    thousands separator ('1,000'), a currency sign or more decimals than the currency has ('12.34567')
    give null, so the parsed() check rejects the row: a cast would read '1e3' as 1000.00 and round
    '12.34567' to 12.35 without a word. -#}
{% macro parse_money(column) -%}
    {%- set decimals = currency_minor_units(var('shop_currency')) -%}
    {%- set fraction = '([.][0-9]{1,' ~ decimals ~ '})?' if decimals > 0 else '' -%}
    case
        when {{ regex_matches(dbt.safe_cast(column, dbt.type_string()), "'^-?[0-9]{1,16}" ~ fraction ~ "$'") }}
            then {{ dbt.safe_cast(column, type_money()) }}
    end
{%- endmacro %}

{#- What parse_money accepts, for the reason of a rejected row. -#}
{% macro money_rule() -%}
    {%- set decimals = currency_minor_units(var('shop_currency')) -%}
    {{- return('a plain decimal amount with at most ' ~ decimals ~ ' decimals (' ~ var('shop_currency')
        ~ '), no exponent or separators') -}}
{%- endmacro %}
