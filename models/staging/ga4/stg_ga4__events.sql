with base as (
    select * from {{ ref('base_ga4__events') }}
),

accepted as (
    select
        event_key,
        source_line,
        event_date,
        event_timestamp_us,
        event_at,
        event_name,
        user_pseudo_id,
        user_id,
        ga_session_id,
        session_key,
        ga_session_number,
        page_location,
        page_referrer,
        source,
        medium,
        campaign,
        device_category,
        geo_country,
        item_id,
        transaction_id,
        purchase_revenue,
        currency
    from base
    where reject_reason is null
)

select * from accepted
