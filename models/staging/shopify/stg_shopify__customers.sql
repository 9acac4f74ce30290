with base as (
    select * from {{ ref('base_shopify__customers') }}
),

accepted as (
    select
        customer_id,
        created_at,
        email_hash,
        is_accepting_marketing,
        country
    from base
    where reject_reason is null
)

select * from accepted
