{#- The Wilson score interval against the published values of Newcombe (1998), "Two-sided confidence
    intervals for the single proportion: comparison of seven methods", Statistics in Medicine 17,
    Table II, method 3 (score interval without continuity correction). Returns the examples that are
    off by more than 0.00005 (the table gives four decimals) or outside [0, 1] (0 of 20 has a lower
    bound of exactly 0). -#}
with published as (
    -- the published table, one example a line -- noqa: disable=AL03,LT09,LT11
    select 81 as successes, 263 as trials, 0.2553 as lower_bound, 0.3662 as upper_bound
    union all select 15, 148, 0.0624, 0.1605
    union all select 0, 20, 0.0000, 0.1611
    union all select 1, 29, 0.0061, 0.1718
    -- 20 of 20: the mirror of 0 of 20 (the score interval is symmetric under x -> n - x)
    union all select 20, 20, 0.8389, 1.0000
),  -- noqa: enable=AL03,LT09,LT11

computed as (
    select
        *,
        {{ wilson_bound('successes', 'trials', 'lower') }} as computed_lower,
        {{ wilson_bound('successes', 'trials', 'upper') }} as computed_upper
    from published
)

select * from computed
where abs(computed_lower - lower_bound) > 0.00005
    or abs(computed_upper - upper_bound) > 0.00005
    or computed_lower < 0
    or computed_upper > 1
    or (successes = 0 and computed_lower <> 0)
    or (successes = trials and computed_upper <> 1)
