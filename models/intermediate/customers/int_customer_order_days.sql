{#- One row per customer and day with a valid order: the buy-till-you-die models count a customer's
    purchases on one day as one purchase (as the CDNOW inputs do). -#}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
        and customer_id is not null
),

final as (
    select
        customer_id,
        order_date,
        count(*) as orders,
        cast(sum(gross_revenue) as {{ type_money() }}) as gross_revenue,
        cast(sum(net_revenue) as {{ type_money() }}) as net_revenue
    from orders
    group by customer_id, order_date
)

select * from final
