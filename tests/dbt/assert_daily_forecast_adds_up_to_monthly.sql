{#- The days of each forecast month add up to the month's forecast (to within the cents lost rounding
    each day). Returns the months that do not. -#}
with daily as (
    select
        forecast_month,
        count(*) as days,
        sum(forecast_net_revenue) as forecast_net_revenue
    from {{ ref('fct_revenue_forecast_daily') }}
    group by forecast_month
)

select
    monthly.forecast_month,
    monthly.forecast_net_revenue as monthly_forecast,
    daily.forecast_net_revenue as daily_sum
from {{ ref('fct_revenue_forecast_monthly') }} as monthly
left join daily
    on monthly.forecast_month = daily.forecast_month
where monthly.forecast_net_revenue is not null
    and (
        daily.forecast_month is null
        or abs(daily.forecast_net_revenue - monthly.forecast_net_revenue) > 0.01 * daily.days
    )
