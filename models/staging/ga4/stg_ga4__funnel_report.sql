with base as (
    select * from {{ ref('base_ga4__funnel_report') }}
),

accepted as (
    select
        report_row_key,
        report_date,
        channel_group,
        device_category,
        landing_page,
        sessions,
        add_to_cart_sessions,
        begin_checkout_sessions,
        purchase_sessions
    from base
    where reject_reason is null
)

select * from accepted
