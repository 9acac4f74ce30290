{#- The cohort triangle: customers grouped by the month of their first valid order (cohort_month),
    followed month by month. Dense: every cohort has a row for every month from its first up to the
    month of the latest order, with zeros where nobody bought, so a heatmap can be drawn. The latest
    month is usually still running: is_complete_month says so. -#}
with customers as (
    select * from {{ ref('dim_customers') }}
    where cohort_month is not null
),

valid_orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
),

orders as (
    select * from valid_orders
    where customer_id is not null
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_size
    from customers
    group by cohort_month
),

bounds as (
    select
        cast({{ dbt.date_trunc('month', 'max(order_date)') }} as date) as last_month,
        max(order_date) as last_order_date
    from valid_orders
),

cohort_months as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        months.date_day as activity_month
    from cohort_sizes
    cross join bounds
    -- date_spine() renders a whole select, joined here as a subquery -- noqa: disable=ST05
    inner join ({{ date_spine('(select min(cohort_month) from cohort_sizes)', '(select last_month from bounds)') }})
        as months
        on cohort_sizes.cohort_month <= months.date_day
        and {{ dbt.date_trunc('month', 'months.date_day') }} = months.date_day  -- noqa: enable=ST05
),

activity as (
    select
        customers.cohort_month,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as activity_month,
        count(distinct orders.customer_id) as active_customers,
        count(*) as orders,
        sum(orders.net_revenue) as net_revenue
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    group by customers.cohort_month, cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date)
),

filled as (
    select
        cohort_months.cohort_month,
        cohort_months.activity_month,
        cast(
            {{ dbt.datediff('cohort_months.cohort_month', 'cohort_months.activity_month', 'month') }}
            as {{ dbt.type_int() }}
        ) as months_since_first_order,
        cohort_months.cohort_size,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.orders, 0) as orders,
        cast(coalesce(activity.net_revenue, 0) as {{ type_money() }}) as net_revenue
    from cohort_months
    left join activity
        on cohort_months.cohort_month = activity.cohort_month
        and cohort_months.activity_month = activity.activity_month
),

final as (
    select
        {{ dbt.concat([dbt.safe_cast('filled.cohort_month', dbt.type_string()), "'|'",
                       dbt.safe_cast('filled.months_since_first_order', dbt.type_string())]) }} as cohort_key,
        filled.cohort_month,
        filled.months_since_first_order,
        filled.activity_month,
        (
            filled.activity_month < bounds.last_month
            or bounds.last_order_date = cast({{ dbt.last_day('bounds.last_month', 'month') }} as date)
        ) as is_complete_month,
        filled.cohort_size,
        filled.active_customers,
        {{ metric_retention_rate('filled.active_customers', 'filled.cohort_size') }} as retention_rate,
        filled.orders,
        filled.net_revenue,
        cast(
            sum(filled.net_revenue) over (
                partition by filled.cohort_month
                order by filled.months_since_first_order
                rows between unbounded preceding and current row
            ) / filled.cohort_size
            as {{ type_money() }}
        ) as cumulative_net_revenue_per_customer
    from filled
    cross join bounds
)

select * from final
