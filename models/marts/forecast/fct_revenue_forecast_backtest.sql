with backtest as (
    select * from {{ ref('calc_revenue_forecast') }}
    where kind = 'backtest'
),

final as (
    select
        {{ dbt.concat([dbt.safe_cast('origin_month', dbt.type_string()), "'|'",
                       dbt.safe_cast('forecast_month', dbt.type_string())]) }} as backtest_key,
        cast(origin_month as date) as origin_month,
        cast(forecast_month as date) as forecast_month,
        cast(horizon_months as {{ dbt.type_int() }}) as horizon_months,
        status,
        cast(forecast_net_revenue as {{ type_money() }}) as forecast_net_revenue,
        cast(actual_net_revenue as {{ type_money() }}) as actual_net_revenue,
        cast(absolute_percentage_error as {{ type_double() }}) as absolute_percentage_error
    from backtest
)

select * from final
