with base as (
    select * from {{ ref('base_shopify__orders') }}
),

accepted as (
    select
        order_id,
        order_name,
        created_at,
        customer_id,
        email_hash,
        currency,
        subtotal_price,
        total_discounts,
        total_tax,
        total_shipping,
        total_price,
        financial_status,
        cancelled_at,
        source_name,
        landing_site,
        referring_site,
        is_test
    from base
    where reject_reason is null
)

select * from accepted
