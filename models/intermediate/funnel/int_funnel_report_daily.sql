{#- GA4 at report grain as the funnel marts' daily rows. A report counts a step's sessions whether or not
    the session reached the step before (an open funnel), so the closed-funnel counts are approximated
    from above: each step capped at the step before it (a session that purchased without a begin_checkout
    event, as with an express checkout, is left out, as the closed funnel leaves it out). The open counts
    are GA4's own. Empty when GA4 comes as events. -#}
with report as (
    select * from {{ ref('stg_ga4__funnel_report') }}
),

final as (
    select
        report_date as session_date,
        channel_group,
        device_category,
        landing_page,
        sessions,
        add_to_cart_sessions,
        least(begin_checkout_sessions, add_to_cart_sessions) as begin_checkout_sessions,
        least(purchase_sessions, begin_checkout_sessions, add_to_cart_sessions) as purchase_sessions,
        sessions as sessions_open,
        add_to_cart_sessions as add_to_cart_sessions_open,
        begin_checkout_sessions as begin_checkout_sessions_open,
        purchase_sessions as purchase_sessions_open
    from report
)

select * from final
