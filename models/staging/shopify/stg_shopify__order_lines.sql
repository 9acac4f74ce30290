with base as (
    select * from {{ ref('base_shopify__order_lines') }}
),

accepted as (
    select
        order_line_id,
        order_id,
        product_id,
        variant_id,
        sku,
        product_title,
        quantity,
        price,
        total_discount
    from base
    where reject_reason is null
)

select * from accepted
