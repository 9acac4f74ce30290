{#- The decimals of a currency's minor unit (ISO 4217): 0 for the currencies without one, 2 for the rest.
    The money type keeps two decimals, so a shop in a currency of three (BHD, IQD, JOD, KWD, LYD, OMR,
    TND) is refused at compile time rather than rounded. -#}
{% macro currency_minor_units(currency) -%}
    {%- set code = currency | upper -%}
    {%- set none_ = ['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI',
                     'VND', 'VUV', 'XAF', 'XOF', 'XPF'] -%}
    {%- set three = ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'] -%}
    {%- if code in three -%}
        {{ exceptions.raise_compiler_error(
            "shop_currency " ~ code ~ " has three decimals; sales-insights keeps money with two, so it cannot "
            ~ "hold this shop's amounts without rounding them") }}
    {%- endif -%}
    {{- return(0 if code in none_ else 2) -}}
{%- endmacro %}
