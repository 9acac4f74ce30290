{#- An amount of money (a decimal with two places, such as a sum of net revenue) divided by a count, in
    exact arithmetic, rounded half away from zero to the cent; null when the count is not positive.
    Engines differ in decimal division: DuckDB divides in floating point (149.95 / 2 gave 74.97, the double
    nearest 74.975 lying just below it) and Spark in decimals rounded to six places. Whole cents and
    integer division give the same, exact cent on every engine. -#}
{% macro money_divide(amount, count) -%}
    {%- set amount, count = '(' ~ amount ~ ')', '(' ~ count ~ ')' -%}
    case
        when {{ count }} > 0 then cast(
            cast(
                case when {{ amount }} < 0 then -1 else 1 end
                * {{ integer_divide('2 * abs(cast(cast(' ~ amount ~ ' as ' ~ type_money() ~ ') * 100 as ' ~ dbt.type_bigint()
                                    ~ ')) + ' ~ count,
                                    '2 * ' ~ count) }}
                as decimal(18, 0)
            ) * 0.01
            as {{ type_money() }}
        )
    end
{%- endmacro %}

{#- The quotient of two non-negative integers, rounded down, as an integer. (DuckDB's // of decimals or
    doubles is not integer division: the operands are cast to bigint there.) -#}
{% macro integer_divide(dividend, divisor) %}
    {{ return(adapter.dispatch('integer_divide', 'sales_insights')(dividend, divisor)) }}
{% endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}

{% macro duckdb__integer_divide(dividend, divisor) -%}
    (cast({{ dividend }} as bigint) // cast({{ divisor }} as bigint))
{%- endmacro %}

{% macro postgres__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) / ({{ divisor }}))
{%- endmacro %}
