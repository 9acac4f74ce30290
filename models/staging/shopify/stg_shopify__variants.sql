with base as (
    select * from {{ ref('base_shopify__variants') }}
),

accepted as (
    select
        variant_id,
        product_id,
        variant_title,
        sku,
        price,
        compare_at_price
    from base
    where reject_reason is null
)

select * from accepted
