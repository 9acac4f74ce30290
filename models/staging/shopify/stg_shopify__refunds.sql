with base as (
    select * from {{ ref('base_shopify__refunds') }}
),

accepted as (
    select
        refund_id,
        order_id,
        created_at,
        refund_amount
    from base
    where reject_reason is null
)

select * from accepted
