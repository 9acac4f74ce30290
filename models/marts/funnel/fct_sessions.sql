with sessions as (
    select * from {{ ref('int_sessions_sessionized') }}
),

channel_groups as (
    {{ classify_channels(ref('int_sessions_sessionized')) }}
),

final as (
    select
        sessions.session_key,
        sessions.user_pseudo_id,
        sessions.ga_session_id,
        sessions.user_id,
        sessions.session_start_at,
        sessions.session_date,
        sessions.session_duration_seconds,
        sessions.device_category,
        sessions.geo_country,
        sessions.landing_page,
        sessions.source,
        sessions.medium,
        sessions.campaign,
        coalesce(channel_groups.channel_group, 'Unassigned') as channel_group,
        sessions.ga_session_number,
        case
            when sessions.ga_session_number = 1 then true
            when sessions.ga_session_number > 1 then false
        end as is_new_user,
        sessions.events,
        sessions.page_views,
        sessions.has_add_to_cart,
        sessions.has_begin_checkout,
        sessions.has_purchase,
        sessions.reached_add_to_cart,
        sessions.reached_begin_checkout,
        sessions.reached_purchase,
        sessions.transactions,
        sessions.transaction_ids,
        sessions.ga4_purchase_revenue
    from sessions
    left join channel_groups
        on {{ null_safe_equals('sessions.source', 'channel_groups.source') }}
        and {{ null_safe_equals('sessions.medium', 'channel_groups.medium') }}
        and {{ null_safe_equals('sessions.campaign', 'channel_groups.campaign') }}
)

select * from final
