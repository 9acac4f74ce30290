{#- One row per customer and day with a valid order: the buy-till-you-die models count a customer's
    purchases on one day as one purchase (as the CDNOW inputs do). Each row carries the end of the
    observation, the date of the store's last valid order (a guest's too), which every CLV fit reads. -#}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
),

observation as (
    select max(order_date) as observation_end_date
    from orders
),

customer_days as (
    select
        customer_id,
        order_date,
        count(*) as orders,
        cast(sum(gross_revenue) as {{ type_money() }}) as gross_revenue,
        cast(sum(net_revenue) as {{ type_money() }}) as net_revenue
    from orders
    where customer_id is not null
    group by customer_id, order_date
),

final as (
    select
        customer_days.customer_id,
        customer_days.order_date,
        customer_days.orders,
        customer_days.gross_revenue,
        customer_days.net_revenue,
        observation.observation_end_date
    from customer_days
    cross join observation
)

select * from final
