{#- Pairs of products of the same product type where one costs at least var upsell_min_price_ratio
    times the other: the cheaper and the dearer option. Counts include pairs never bought together,
    the sign of substitutes. Only pairs that chance alone would put together in at least
    var upsell_min_expected_together orders are listed (and tested): for rarer products, never seeing the
    two together is what chance gives too. The bound uses the products' own order counts alone, never
    the count of orders with both, so it does not choose pairs by their result. -#}
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

catalog as (
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

product_slots as (
    select
        order_products.product_id,
        sum(order_sizes.products_in_order) as products_in_orders
    from order_products
    inner join order_sizes
        on order_products.order_id = order_sizes.order_id
    group by order_products.product_id
),

products as (
    select
        products.product_id,
        products.product_title,
        products.product_type,
        {{ money_divide('sum(lines.price)', 'count(lines.price)') }} as average_unit_price,
        count(distinct order_products.order_id) as orders
    from catalog as products
    inner join order_lines as lines
        on products.product_id = lines.product_id
    inner join order_products
        on lines.order_id = order_products.order_id
        and lines.product_id = order_products.product_id
    where products.product_type is not null
    group by products.product_id, products.product_title, products.product_type
),

together as (
    select
        a.product_id as cheaper_product_id,
        b.product_id as dearer_product_id,
        count(*) as orders_with_both
    from order_products as a
    inner join order_products as b
        on a.order_id = b.order_id
    group by a.product_id, b.product_id
),

period as (
    select
        count(*) as total_orders,
        {{ dbt.datediff('min(order_date)', 'max(order_date)', 'day') }} + 1 as period_days,
        (select count(*) from order_sizes) as orders_with_products,
        (select sum(products_in_order) from order_sizes) as order_product_slots
    from valid_orders
),

final as (
    select
        cheaper.product_id as cheaper_product_id,
        cheaper.product_title as cheaper_product_title,
        dearer.product_id as dearer_product_id,
        dearer.product_title as dearer_product_title,
        cheaper.product_type,
        cast(cheaper.average_unit_price as {{ type_money() }}) as cheaper_price,
        cast(dearer.average_unit_price as {{ type_money() }}) as dearer_price,
        cheaper.orders as cheaper_orders,
        dearer.orders as dearer_orders,
        coalesce(together.orders_with_both, 0) as orders_with_both,
        cheaper_slots.products_in_orders as products_in_orders_with_cheaper,
        period.orders_with_products,
        period.order_product_slots,
        period.period_days
    from products as cheaper
    inner join products as dearer
        on cheaper.product_type = dearer.product_type
        and dearer.average_unit_price >= {{ var('upsell_min_price_ratio') }} * cheaper.average_unit_price
    cross join period
    inner join product_slots as cheaper_slots
        on cheaper.product_id = cheaper_slots.product_id
    left join together
        on cheaper.product_id = together.cheaper_product_id
        and dearer.product_id = together.dearer_product_id
    where cheaper.orders >= {{ var('cross_sell_min_orders') }}
        and dearer.orders >= {{ var('cross_sell_min_orders') }}
        and cast(cheaper.orders as {{ type_double() }}) * dearer.orders
        >= {{ var('upsell_min_expected_together') }} * period.orders_with_products
)

select * from final
