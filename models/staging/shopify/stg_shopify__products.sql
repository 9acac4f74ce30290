with base as (
    select * from {{ ref('base_shopify__products') }}
),

accepted as (
    select
        product_id,
        product_title,
        product_type,
        vendor,
        product_status,
        created_at
    from base
    where reject_reason is null
)

select * from accepted
