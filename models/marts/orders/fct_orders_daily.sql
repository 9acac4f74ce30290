with orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
),

days as (
    {{ date_spine(
        '(select min(order_date) from ' ~ ref('fct_orders') ~ ')',
        '(select max(order_date) from ' ~ ref('fct_orders') ~ ')',
    ) }}
),

daily as (
    select
        order_date,
        count(*) as orders,
        count(distinct customer_id) as customers,
        {{ count_where('is_guest') }} as guest_orders,
        {{ count_where('is_first_order') }} as new_customer_orders,
        {{ count_where('not is_guest and not is_first_order') }} as returning_customer_orders,
        cast(sum(units) as {{ dbt.type_bigint() }}) as units,
        sum(gross_revenue) as gross_revenue,
        sum(refunded_amount) as refunded_amount,
        sum(net_revenue) as net_revenue
    from orders
    group by order_date
),

final as (
    select
        days.date_day as order_date,
        coalesce(daily.orders, 0) as orders,
        coalesce(daily.customers, 0) as customers,
        coalesce(daily.guest_orders, 0) as guest_orders,
        coalesce(daily.new_customer_orders, 0) as new_customer_orders,
        coalesce(daily.returning_customer_orders, 0) as returning_customer_orders,
        coalesce(daily.units, 0) as units,
        cast(coalesce(daily.gross_revenue, 0) as {{ type_money() }}) as gross_revenue,
        cast(coalesce(daily.refunded_amount, 0) as {{ type_money() }}) as refunded_amount,
        cast(coalesce(daily.net_revenue, 0) as {{ type_money() }}) as net_revenue,
        {{ metric_average_order_value('daily.net_revenue', 'daily.orders') }} as average_order_value
    from days
    left join daily
        on days.date_day = daily.order_date
)

select * from final
