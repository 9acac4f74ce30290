{#- One row per GA4 session with GA4's default channel group, built from its events in one aggregation
    pass plus a pass over the few funnel events for the closed funnel. Incremental: each run recomputes,
    from all their events, the sessions that may have changed. When the raw events were appended to (see
    appended_from_line) those are exactly the sessions of the new rows, however late. Without the var (a
    plain dbt build) they are the sessions with an event within `session_lookback_days` of the newest
    session already built, so late events for recent days are picked up. When the build reloaded a
    rewritten GA4 file whole, any old event may have changed: the sessions are rebuilt in full. Either way
    a re-run never double counts. When the steps the store sends change (new rows bring the first
    begin_checkout, say), every session is counted again by the new closed funnel. -#}
{{ config(
    materialized=upsert_materialization(),
    unique_key='session_key',
    incremental_strategy=upsert_strategy(),
    on_schema_change='fail',
    full_refresh=(true if raw_table_reloaded('raw_ga4_events') else none),
) }}

with tracked_steps as (
    select * from {{ ref('stg_ga4__tracked_steps') }}
),

-- Every event in a full build: read by each step below rather than copied (a copy of 10M events
-- spilled). In an incremental build, the few events of the sessions to recompute: found once.
events as {{ not_materialized() if not is_incremental() }} (
    select
        session_key,
        user_pseudo_id,
        ga_session_id,
        ga_session_number,
        user_id,
        event_name,
        event_timestamp_us,
        source,
        source_line,
        transaction_id,
        purchase_revenue
    from {{ ref('stg_ga4__events') }}
    {% if is_incremental() %}
    where
        session_key in (
            select session_key from {{ ref('stg_ga4__events') }}
            {%- if appended_from_line('raw_ga4_events') %}
            where source_line >= {{ appended_from_line('raw_ga4_events') }}
            {%- else %}
            where
                event_at >= (
                    select {{ dbt.dateadd('day', -1 * var('session_lookback_days'), 'max(session_start_at)') }}
                    from {{ this }}
                )
            {%- endif %}
        )
        -- the steps the store sends changed: every session is counted again
        or (select max(closed_funnel_steps) from {{ this }})
        <> (select tracked_steps.closed_funnel_steps from tracked_steps)
    {% endif %}
),

-- The values of the events the sessions take their attributes from, looked up by line.
event_attributes as {{ not_materialized() }} (
    select
        source_line,
        device_category,
        geo_country,
        page_location,
        source,
        medium,
        campaign
    from {{ ref('stg_ga4__events') }}
),

session_events as (
    select
        session_key,
        min(user_pseudo_id) as user_pseudo_id,
        min(ga_session_id) as ga_session_id,
        min(event_timestamp_us) as session_start_us,
        max(event_timestamp_us) as session_end_us,
        min(ga_session_number) as ga_session_number,
        max(user_id) as user_id,
        -- The first event, the first page view and the first event with a traffic source: their lines,
        -- ties broken by the line in the raw file. Their values are looked up by line below; carrying
        -- six string values through the aggregation made it spill (measured at 10M events, 3 GB:
        -- 23.5 s against 13.9 s).
        {{ first_line('event_timestamp_us', 'source_line') }} as first_event_line,
        {{ first_line('event_timestamp_us', 'source_line', "event_name = 'page_view'") }} as first_page_view_line,
        {{ first_line('event_timestamp_us', 'source_line', 'source is not null') }} as first_sourced_line,
        count(*) as events,
        {{ count_where("event_name = 'page_view'") }} as page_views,
        min(case when event_name = 'add_to_cart' then event_timestamp_us end) as first_add_to_cart_us,
        min(case when event_name = 'begin_checkout' then event_timestamp_us end) as first_begin_checkout_us,
        min(case when event_name = 'purchase' then event_timestamp_us end) as first_purchase_us
    from events
    group by session_key
),

-- When the closed funnel's add_to_cart step was reached: the first add_to_cart, or the session's start
-- when the store sends no add_to_cart. The steps the store sends are joined here once and carried on:
-- Spark's optimizer fails (an assertion in ReorderJoin) when the one-row tracked_steps is cross
-- joined again further down.
reached_add_to_cart as (
    select
        session_events.session_key,
        case
            when tracked_steps.add_to_cart then session_events.first_add_to_cart_us
            else session_events.session_start_us
        end as reached_add_to_cart_us,
        tracked_steps.add_to_cart as tracks_add_to_cart,
        tracked_steps.begin_checkout as tracks_begin_checkout,
        tracked_steps.purchase as tracks_purchase,
        tracked_steps.closed_funnel_steps
    from session_events
    cross join tracked_steps
),

funnel_events as (
    select
        session_key,
        event_name,
        event_timestamp_us
    from events
    where event_name in ('add_to_cart', 'begin_checkout', 'purchase')
),

-- Closed funnel: a step counts only at or after the moment the previous step was reached.
first_begin_checkout as (
    select
        funnel_events.session_key,
        min(funnel_events.event_timestamp_us) as first_begin_checkout_us
    from funnel_events
    inner join reached_add_to_cart
        on funnel_events.session_key = reached_add_to_cart.session_key
    where funnel_events.event_name = 'begin_checkout'
        and funnel_events.event_timestamp_us >= reached_add_to_cart.reached_add_to_cart_us
    group by funnel_events.session_key
),

-- A skipped begin_checkout step is reached with the step before it.
reached_begin_checkout as (
    select
        reached_add_to_cart.session_key,
        case
            when reached_add_to_cart.tracks_begin_checkout then first_begin_checkout.first_begin_checkout_us
            else reached_add_to_cart.reached_add_to_cart_us
        end as reached_begin_checkout_us,
        reached_add_to_cart.tracks_add_to_cart,
        reached_add_to_cart.tracks_begin_checkout,
        reached_add_to_cart.tracks_purchase,
        reached_add_to_cart.closed_funnel_steps
    from reached_add_to_cart
    left join first_begin_checkout
        on reached_add_to_cart.session_key = first_begin_checkout.session_key
),

reached_purchase as (
    select
        funnel_events.session_key,
        min(funnel_events.event_timestamp_us) as reached_purchase_us
    from funnel_events
    inner join reached_begin_checkout
        on funnel_events.session_key = reached_begin_checkout.session_key
    where funnel_events.event_name = 'purchase'
        and funnel_events.event_timestamp_us >= reached_begin_checkout.reached_begin_checkout_us
    group by funnel_events.session_key
),

transactions as (
    select
        session_key,
        transaction_id,
        max(purchase_revenue) as purchase_revenue
    from events
    where event_name = 'purchase'
    group by session_key, transaction_id
),

session_transactions as (
    select
        session_key,
        count(transaction_id) as transactions,
        {{ sorted_listagg('transaction_id', "','") }} as transaction_ids,
        sum(purchase_revenue) as ga4_purchase_revenue
    from transactions
    group by session_key
),

-- The lines each session takes its attributes from, and their values: one join of the events with the
-- lines, folded back to one row per session. (Three joins of the sessions with the events, one per line,
-- held three hash tables of every session at once and ran out of memory at the 3GB limit at 22M events,
-- 5.5M sessions; this way fits in 2GB.)
attribute_lines as (
    select
        session_key,
        first_event_line as source_line,
        1 as line_kind
    from session_events
    union all
    select
        session_key,
        first_page_view_line as source_line,
        2 as line_kind
    from session_events
    where first_page_view_line is not null
    union all
    select
        session_key,
        first_sourced_line as source_line,
        3 as line_kind
    from session_events
    where first_sourced_line is not null
),

session_attributes as (
    select
        attribute_lines.session_key,
        max(case when attribute_lines.line_kind = 1 then event_attributes.device_category end) as device_category,
        max(case when attribute_lines.line_kind = 1 then event_attributes.geo_country end) as geo_country,
        max(case when attribute_lines.line_kind = 2 then event_attributes.page_location end) as page_location,
        max(case when attribute_lines.line_kind = 3 then event_attributes.source end) as source,
        max(case when attribute_lines.line_kind = 3 then event_attributes.medium end) as medium,
        max(case when attribute_lines.line_kind = 3 then event_attributes.campaign end) as campaign
    from attribute_lines
    inner join event_attributes
        on attribute_lines.source_line = event_attributes.source_line
    group by attribute_lines.session_key
),

sessionized as (
    select
        session_events.session_key,
        session_events.user_pseudo_id,
        session_events.ga_session_id,
        session_events.user_id,
        {{ micros_to_timestamptz('session_events.session_start_us') }} as session_start_at,
        {{ to_reporting_date(micros_to_timestamptz('session_events.session_start_us')) }} as session_date,
        {{ integer_divide('session_events.session_end_us - session_events.session_start_us', '1000000') }}
            as session_duration_seconds,
        session_events.ga_session_number,
        session_attributes.device_category,
        session_attributes.geo_country,
        coalesce({{ url_path('session_attributes.page_location') }}, '(not set)') as landing_page,
        -- GA4 sends no source on a direct session's events: a session none of whose events carries a
        -- source is (direct) / (none), as GA4's reports have it.
        coalesce(session_attributes.source, '(direct)') as source,
        case when session_attributes.source is null then '(none)' else session_attributes.medium end as medium,
        session_attributes.campaign,
        session_events.events,
        session_events.page_views,
        session_events.first_add_to_cart_us is not null as has_add_to_cart,
        session_events.first_begin_checkout_us is not null as has_begin_checkout,
        session_events.first_purchase_us is not null as has_purchase,
        -- A step the store does not send is null (not measured), not false.
        case when reached_begin_checkout.tracks_add_to_cart then session_events.first_add_to_cart_us is not null end
            as reached_add_to_cart,
        case
            when reached_begin_checkout.tracks_begin_checkout
                then reached_begin_checkout.reached_begin_checkout_us is not null
        end as reached_begin_checkout,
        case when reached_begin_checkout.tracks_purchase then reached_purchase.session_key is not null end
            as reached_purchase,
        reached_begin_checkout.closed_funnel_steps,
        coalesce(session_transactions.transactions, 0) as transactions,
        session_transactions.transaction_ids,
        cast(coalesce(session_transactions.ga4_purchase_revenue, 0) as {{ type_money() }}) as ga4_purchase_revenue
    from session_events
    inner join session_attributes
        on session_events.session_key = session_attributes.session_key
    inner join reached_begin_checkout
        on session_events.session_key = reached_begin_checkout.session_key
    left join reached_purchase
        on session_events.session_key = reached_purchase.session_key
    left join session_transactions
        on session_events.session_key = session_transactions.session_key
),

channel_groups as (
    {{ classify_channels('sessionized') }}
),

final as (
    select
        sessionized.session_key,
        sessionized.user_pseudo_id,
        sessionized.ga_session_id,
        sessionized.user_id,
        sessionized.session_start_at,
        sessionized.session_date,
        sessionized.session_duration_seconds,
        sessionized.device_category,
        sessionized.geo_country,
        sessionized.landing_page,
        sessionized.source,
        sessionized.medium,
        sessionized.campaign,
        coalesce(channel_groups.channel_group, 'Unassigned') as channel_group,
        sessionized.ga_session_number,
        case
            when sessionized.ga_session_number = 1 then true
            when sessionized.ga_session_number > 1 then false
        end as is_new_user,
        sessionized.events,
        sessionized.page_views,
        sessionized.has_add_to_cart,
        sessionized.has_begin_checkout,
        sessionized.has_purchase,
        sessionized.reached_add_to_cart,
        sessionized.reached_begin_checkout,
        sessionized.reached_purchase,
        sessionized.closed_funnel_steps,
        sessionized.transactions,
        sessionized.transaction_ids,
        sessionized.ga4_purchase_revenue
    from sessionized
    left join channel_groups
        on {{ null_safe_equals('sessionized.source', 'channel_groups.source') }}
        and {{ null_safe_equals('sessionized.medium', 'channel_groups.medium') }}
        and {{ null_safe_equals('sessionized.campaign', 'channel_groups.campaign') }}
)

select * from final
