{#- Incremental when the raw events were appended to (see appended_from_line): the sessions of the new
    rows are replaced, as int_sessions_sessionized recomputed them. Otherwise, a full build. -#}
{{ config(
    materialized=upsert_materialization(),
    unique_key='session_key',
    incremental_strategy=upsert_strategy(),
    on_schema_change='fail',
    full_refresh=(none if appended_from_line('raw_ga4_events') else true),
) }}
-- depends_on: {{ ref('stg_ga4__events') }}

with sessions as (
    select * from {{ ref('int_sessions_sessionized') }}
    {%- if is_incremental() %}
    where
        session_key in (
            select session_key from {{ ref('stg_ga4__events') }}
            where source_line >= {{ appended_from_line('raw_ga4_events') }}
        )
        -- int_sessions_sessionized counted every session again by a new closed funnel
        or (select max(closed_funnel_steps) from {{ this }})
        <> (select max(closed_funnel_steps) from {{ ref('int_sessions_sessionized') }})
    {%- endif %}
),

channel_groups as (
    {{ classify_channels('sessions') }}
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
        sessions.closed_funnel_steps,
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
