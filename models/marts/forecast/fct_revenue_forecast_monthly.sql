with forecast as (
    select * from {{ ref('calc_revenue_forecast') }}
    where kind = 'forecast'
),

final as (
    select
        cast(forecast_month as date) as forecast_month,
        cast(origin_month as date) as origin_month,
        cast(horizon_months as {{ dbt.type_int() }}) as horizon_months,
        status,
        message,
        cast(existing_customer_revenue as {{ type_money() }}) as existing_customer_net_revenue,
        cast(new_customer_revenue as {{ type_money() }}) as new_customer_net_revenue,
        cast(guest_revenue as {{ type_money() }}) as guest_net_revenue,
        cast(forecast_net_revenue as {{ type_money() }}) as forecast_net_revenue,
        cast(lower_net_revenue as {{ type_money() }}) as lower_net_revenue,
        cast(upper_net_revenue as {{ type_money() }}) as upper_net_revenue
    from forecast
)

select * from final
