{#- money_divide gives the exact quotient rounded half away from zero to the cent, on every engine.
    149.95 / 2 = 74.975 exactly: dividing in floating point gave 74.97 (the double nearest 74.975 lies
    below it). Returns the cases it gets wrong. -#}
with cases as (
    -- one case a line -- noqa: disable=AL03,LT09,LT11
    select cast(149.95 as {{ type_money() }}) as amount, 2 as divisor, cast(74.98 as {{ type_money() }}) as expected
    union all select -149.95, 2, -74.98
    union all select 0.05, 2, 0.03
    union all select 100.00, 3, 33.33
    union all select 200.00, 3, 66.67
    union all select 0.01, 3, 0.00
    union all select 12.34, 1, 12.34
    union all select 10.00, 0, null
    union all select null, 2, null
),  -- noqa: enable=AL03,LT09,LT11

computed as (
    select
        amount,
        divisor,
        expected,
        {{ money_divide('amount', 'divisor') }} as quotient,
        -- Expressions are divided whole: (amount + 0.05 - 0.05) / (0 + divisor), not 0 + 2 * divisor.
        {{ money_divide('amount + 0.05 - 0.05', '0 + divisor') }} as quotient_of_expressions
    from cases
)

select * from computed
where
    not {{ null_safe_equals('quotient', 'expected') }}
    or not {{ null_safe_equals('quotient_of_expressions', 'expected') }}
