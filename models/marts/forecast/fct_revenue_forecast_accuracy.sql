{#- The backtest's mean absolute percentage error, over all its forecasts and per horizon. -#}
with backtest as (
    select * from {{ ref('fct_revenue_forecast_backtest') }}
),

by_horizon as (
    select
        cast(horizon_months as {{ dbt.type_string() }}) as horizon,
        horizon_months as horizon_order,
        count(*) as forecasts,
        avg(absolute_percentage_error) as mean_absolute_percentage_error
    from backtest
    group by horizon_months
),

overall as (
    select
        'all' as horizon,
        0 as horizon_order,
        count(*) as forecasts,
        avg(absolute_percentage_error) as mean_absolute_percentage_error
    from backtest
),

final as (
    select
        horizon,
        cast(horizon_order as {{ dbt.type_int() }}) as horizon_order,
        cast(forecasts as {{ dbt.type_bigint() }}) as forecasts,
        cast(mean_absolute_percentage_error as {{ type_double() }}) as mean_absolute_percentage_error
    from overall
    union all
    select
        horizon,
        cast(horizon_order as {{ dbt.type_int() }}),
        cast(forecasts as {{ dbt.type_bigint() }}),
        cast(mean_absolute_percentage_error as {{ type_double() }})
    from by_horizon
)

select * from final
