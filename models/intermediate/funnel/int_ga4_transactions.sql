{#- One row per transaction_id that GA4 saw a purchase event for: when and in which session it was
    first reported, and the revenue reported (the largest, when a purchase was sent more than once). -#}
with purchases as (
    select * from {{ ref('stg_ga4__events') }}
    where event_name = 'purchase'
        and transaction_id is not null
),

transactions as (
    select
        transaction_id,
        min(event_timestamp_us) as first_reported_us,
        {{ first_by('session_key', 'event_timestamp_us', 'event_key') }} as session_key,
        count(*) as purchase_events,
        max(purchase_revenue) as ga4_revenue
    from purchases
    group by transaction_id
),

final as (
    select
        transaction_id,
        session_key,
        {{ micros_to_timestamptz('first_reported_us') }} as first_reported_at,
        {{ to_reporting_date(micros_to_timestamptz('first_reported_us')) }} as reported_date,
        purchase_events,
        ga4_revenue
    from transactions
)

select * from final
