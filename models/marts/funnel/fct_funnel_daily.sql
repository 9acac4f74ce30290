with sessions as (
    select * from {{ ref('fct_sessions') }}
),

report_daily as (
    select * from {{ ref('int_funnel_report_daily') }}
),

events_daily as (
    select
        session_date,
        channel_group,
        device_category,
        landing_page,
        count(*) as sessions,
        {{ count_where('reached_add_to_cart') }} as add_to_cart_sessions,
        {{ count_where('reached_begin_checkout') }} as begin_checkout_sessions,
        {{ count_where('reached_purchase') }} as purchase_sessions,
        count(*) as sessions_open,
        {{ count_where('has_add_to_cart') }} as add_to_cart_sessions_open,
        {{ count_where('has_begin_checkout') }} as begin_checkout_sessions_open,
        {{ count_where('has_purchase') }} as purchase_sessions_open
    from sessions
    group by session_date, channel_group, device_category, landing_page
),

-- GA4 comes either as events or as a report (sales-insights build loads the other empty): one of the two
-- has rows.
daily as (
    select
        'events' as funnel_basis,
        *
    from events_daily
    union all
    select
        'ga4_report' as funnel_basis,
        *
    from report_daily
),

tracked as (
    {{ funnel_steps_tracked('sessions', 'report_daily') }}
),

-- A step the store does not send (see funnel_steps_tracked) has null counts, and the next step's rate and
-- drop-off are taken from the step before it.
measured as (
    select
        daily.session_date,
        daily.channel_group,
        daily.device_category,
        daily.landing_page,
        daily.funnel_basis,
        daily.sessions,
        case when tracked.add_to_cart then daily.add_to_cart_sessions end as add_to_cart_sessions,
        case when tracked.begin_checkout then daily.begin_checkout_sessions end as begin_checkout_sessions,
        case when tracked.purchase then daily.purchase_sessions end as purchase_sessions,
        daily.sessions_open,
        case when tracked.add_to_cart then daily.add_to_cart_sessions_open end as add_to_cart_sessions_open,
        case when tracked.begin_checkout then daily.begin_checkout_sessions_open end as begin_checkout_sessions_open,
        case when tracked.purchase then daily.purchase_sessions_open end as purchase_sessions_open,
        {{ dbt.concat([
            "case when tracked.add_to_cart then '' else 'add_to_cart ' end",
            "case when tracked.begin_checkout then '' else 'begin_checkout ' end",
            "case when tracked.purchase then '' else 'purchase ' end",
        ]) }} as untracked_step_list,
        case when tracked.add_to_cart then daily.add_to_cart_sessions else daily.sessions end
            as before_begin_checkout_sessions,
        case
            when tracked.begin_checkout then daily.begin_checkout_sessions
            when tracked.add_to_cart then daily.add_to_cart_sessions
            else daily.sessions
        end as before_purchase_sessions
    from daily
    cross join tracked
),

final as (
    select
        {{ dbt.concat([
            dbt.safe_cast('session_date', dbt.type_string()), "'|'", 'channel_group', "'|'",
            'device_category', "'|'", 'landing_page',
        ]) }} as funnel_daily_key,
        session_date,
        channel_group,
        device_category,
        landing_page,
        funnel_basis,
        sessions,
        add_to_cart_sessions,
        begin_checkout_sessions,
        purchase_sessions,
        sessions_open,
        add_to_cart_sessions_open,
        begin_checkout_sessions_open,
        purchase_sessions_open,
        nullif(trim(untracked_step_list), '') as untracked_steps,
        {{ safe_divide('add_to_cart_sessions', 'sessions') }} as add_to_cart_rate,
        -- From GA4 reports the counts past add_to_cart are upper bounds: no rates between them (see
        -- fct_funnel_summary); the session conversion rate is an upper bound.
        case
            when funnel_basis = 'events'
                then {{ safe_divide('begin_checkout_sessions', 'before_begin_checkout_sessions') }}
        end as begin_checkout_rate,
        case
            when funnel_basis = 'events' then {{ safe_divide('purchase_sessions', 'before_purchase_sessions') }}
        end as purchase_rate,
        {{ metric_conversion_rate('purchase_sessions', 'sessions') }} as session_conversion_rate,
        sessions - add_to_cart_sessions as add_to_cart_dropoff_sessions,
        case
            when funnel_basis = 'events' then before_begin_checkout_sessions - begin_checkout_sessions
        end as begin_checkout_dropoff_sessions,
        case when funnel_basis = 'events' then before_purchase_sessions - purchase_sessions end
            as purchase_dropoff_sessions
    from measured
)

select * from final
