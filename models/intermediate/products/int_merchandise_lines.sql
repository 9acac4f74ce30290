{#- The order lines that are merchandise: a line with a product that is merchandise (int_product_labels; a
    product no longer in the catalog still is) and a SKU not in var non_merchandise_skus. Custom lines (no
    product: Shopify's custom items, a manual charge), fees, shipping and adjustments are left out; they
    still count in the orders' revenue, which the order totals hold. What the cross-sell and upsell
    candidates count. -#}
with order_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

labels as (
    select * from {{ ref('int_product_labels') }}
),

merchandise as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.product_id,
        order_lines.price
    from order_lines
    left join labels
        on order_lines.product_id = labels.product_id
    where order_lines.product_id is not null
        and coalesce(labels.is_merchandise, true)
        and (
            order_lines.sku is null
            or upper(order_lines.sku) not in ({{ text_list(var('non_merchandise_skus'), 'upper') }})
        )
)

select * from merchandise
