{#- Every ordered pair of products (A, B) bought together in at least var cross_sell_min_orders valid
    orders, with the counts a cross-sell test needs: orders with A, with B, with both, and all orders; and
    the products of the orders (their slots: an order of three products has three), those of the orders
    with A and those of all orders, for a test that knows a small basket has little room for B. -#}
with valid_orders as (
    select
        order_id,
        order_date
    from {{ ref('fct_orders') }}
    where is_valid
),

order_lines as (
    select
        order_id,
        product_id,
        price
    from {{ ref('int_merchandise_lines') }}
),

products as (
    select
        product_id,
        product_label as product_title,
        product_type
    from {{ ref('int_product_labels') }}
),

order_products as (
    select distinct
        lines.order_id,
        lines.product_id
    from order_lines as lines
    inner join valid_orders
        on lines.order_id = valid_orders.order_id
    where lines.product_id is not null
),

order_sizes as (
    select
        order_id,
        count(*) as products_in_order
    from order_products
    group by order_id
),

product_orders as (
    select
        order_products.product_id,
        count(*) as orders,
        sum(order_sizes.products_in_order) as products_in_orders
    from order_products
    inner join order_sizes
        on order_products.order_id = order_sizes.order_id
    group by order_products.product_id
),

product_prices as (
    select
        product_id,
        {{ money_divide('sum(price)', 'count(price)') }} as average_unit_price
    from order_lines
    group by product_id
),

pairs as (
    select
        a.product_id as product_a_id,
        b.product_id as product_b_id,
        count(*) as orders_with_both
    from order_products as a
    inner join order_products as b
        on a.order_id = b.order_id
        and a.product_id <> b.product_id
    group by a.product_id, b.product_id
    having count(*) >= {{ var('cross_sell_min_orders') }}
),

period as (
    select
        count(*) as total_orders,
        {{ dbt.datediff('min(order_date)', 'max(order_date)', 'day') }} + 1 as period_days
    from valid_orders
),

final as (
    select
        pairs.product_a_id,
        product_a.product_title as product_a_title,
        pairs.product_b_id,
        product_b.product_title as product_b_title,
        product_b.product_type as product_b_type,
        product_b_prices.average_unit_price as product_b_price,
        a_orders.orders as orders_with_a,
        b_orders.orders as orders_with_b,
        pairs.orders_with_both,
        a_orders.products_in_orders as products_in_orders_with_a,
        (select count(*) from order_sizes) as orders_with_products,
        (select sum(products_in_order) from order_sizes) as order_product_slots,
        period.period_days
    from pairs
    cross join period
    inner join product_orders as a_orders
        on pairs.product_a_id = a_orders.product_id
    inner join product_orders as b_orders
        on pairs.product_b_id = b_orders.product_id
    left join products as product_a
        on pairs.product_a_id = product_a.product_id
    left join products as product_b
        on pairs.product_b_id = product_b.product_id
    left join product_prices as product_b_prices
        on pairs.product_b_id = product_b_prices.product_id
)

select * from final
