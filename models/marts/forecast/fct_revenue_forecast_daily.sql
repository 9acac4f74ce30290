{#- Each forecast month spread over its days by the weekday pattern of net revenue over the last
    var forecast_trend_months months of history (a weekday's share of a month's forecast is its
    historical share, renormalised over the weekdays that month has). -#}
with monthly as (
    select * from {{ ref('fct_revenue_forecast_monthly') }}
),

history as (
    select * from {{ ref('fct_orders_daily') }}
    where
        order_date >= (
            select {{ dbt.dateadd('month', -1 * var('forecast_trend_months'), 'min(origin_month)') }}
            from monthly
        )
        and order_date < (select min(origin_month) from monthly)
),

weekday_weights as (
    select
        {{ day_of_week('order_date') }} as weekday,
        avg(cast(net_revenue as {{ type_double() }})) as weight
    from history
    group by {{ day_of_week('order_date') }}
),

days as (
    {{ date_spine(
        '(select min(forecast_month) from monthly)',
        '(select max(' ~ dbt.last_day('forecast_month', 'month') ~ ') from monthly)',
    ) }}
),

weighted as (
    select
        days.date_day,
        monthly.forecast_month,
        monthly.status,
        monthly.forecast_net_revenue,
        monthly.lower_net_revenue,
        monthly.upper_net_revenue,
        coalesce(weekday_weights.weight, 0) as weight,
        sum(coalesce(weekday_weights.weight, 0)) over (partition by monthly.forecast_month) as month_weight
    from days
    inner join monthly
        on cast({{ dbt.date_trunc('month', 'days.date_day') }} as date) = monthly.forecast_month
    left join weekday_weights
        on {{ day_of_week('days.date_day') }} = weekday_weights.weekday
),

final as (
    select
        date_day as forecast_date,
        forecast_month,
        status,
        cast(forecast_net_revenue * {{ safe_divide('weight', 'month_weight') }} as {{ type_money() }})
            as forecast_net_revenue,
        cast(lower_net_revenue * {{ safe_divide('weight', 'month_weight') }} as {{ type_money() }})
            as lower_net_revenue,
        cast(upper_net_revenue * {{ safe_divide('weight', 'month_weight') }} as {{ type_money() }})
            as upper_net_revenue
    from weighted
)

select * from final
