with customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
        and customer_id is not null
),

order_days as (
    select * from {{ ref('calc_customer_order_days') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

observation as (
    select max(order_date) as observation_end_date
    from {{ ref('fct_orders') }}
    where is_valid
),

-- Customers known from their account or from an order (an order may name a customer whose account
-- row is missing).
customer_ids as (
    select customer_id from customers
    union
    select customer_id from orders
),

order_totals as (
    select
        customer_id,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at,
        count(*) as orders,
        sum(gross_revenue) as gross_revenue,
        sum(refunded_amount) as refunded_amount,
        sum(net_revenue) as net_revenue
    from orders
    group by customer_id
),

day_totals as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as order_days,
        {{ first_by('net_revenue', 'order_date', 'customer_id') }} as first_day_net_revenue
    from order_days
    group by customer_id
),

first_orders as (
    select
        orders.customer_id,
        sessions.channel_group,
        sessions.source,
        sessions.medium,
        sessions.campaign,
        sessions.landing_page
    from orders
    left join sessions
        on orders.ga4_session_key = sessions.session_key
    where orders.is_first_order
),

final as (
    select
        customer_ids.customer_id,
        customers.created_at as customer_created_at,
        customers.country,
        customers.is_accepting_marketing,
        order_totals.first_order_at,
        order_totals.last_order_at,
        day_totals.first_order_date,
        day_totals.last_order_date,
        cast({{ dbt.date_trunc('month', 'day_totals.first_order_date') }} as date) as cohort_month,
        case
            when order_totals.customer_id is null then null
            else coalesce(first_orders.channel_group, '(not tracked)')
        end as acquisition_channel_group,
        first_orders.source as acquisition_source,
        first_orders.medium as acquisition_medium,
        first_orders.campaign as acquisition_campaign,
        first_orders.landing_page as acquisition_landing_page,
        coalesce(order_totals.orders, 0) as orders,
        coalesce(day_totals.order_days, 0) as order_days,
        cast(coalesce(order_totals.gross_revenue, 0) as {{ type_money() }}) as gross_revenue,
        cast(coalesce(order_totals.refunded_amount, 0) as {{ type_money() }}) as refunded_amount,
        cast(coalesce(order_totals.net_revenue, 0) as {{ type_money() }}) as net_revenue,
        {{ metric_average_order_value('order_totals.net_revenue', 'order_totals.orders') }} as average_order_value,
        coalesce(day_totals.order_days, 0) > 1 as is_repeat_customer,
        cast(day_totals.order_days - 1 as {{ dbt.type_bigint() }}) as frequency,
        cast(
            {{ dbt.datediff('day_totals.first_order_date', 'day_totals.last_order_date', 'day') }}
            as {{ dbt.type_bigint() }}
        ) as recency_days,
        cast(
            {{ dbt.datediff('day_totals.first_order_date', 'observation.observation_end_date', 'day') }}
            as {{ dbt.type_bigint() }}
        ) as tenure_days,
        {{ money_divide(
            'order_totals.net_revenue - day_totals.first_day_net_revenue', 'day_totals.order_days - 1'
        ) }} as repeat_average_order_value,
        case when order_totals.customer_id is not null then observation.observation_end_date end
            as observation_end_date
    from customer_ids
    cross join observation
    left join customers
        on customer_ids.customer_id = customers.customer_id
    left join order_totals
        on customer_ids.customer_id = order_totals.customer_id
    left join day_totals
        on customer_ids.customer_id = day_totals.customer_id
    left join first_orders
        on customer_ids.customer_id = first_orders.customer_id
)

select * from final
