{#- The funnel an analyst reads first: for the whole history, by one breakdown at a time, each step's
    sessions (closed funnel), its conversion from the previous step with a 95% Wilson interval, and
    the abandonment. -#}
{%- set breakdowns = [
    ('all', "'all sessions'"),
    ('channel_group', 'channel_group'),
    ('device_category', 'device_category'),
    ('landing_page', 'landing_page'),
    ('user_type', "case when is_new_user then 'new' when not is_new_user then 'returning' else 'unknown' end"),
] -%}
{%- set steps = [
    (1, 'session', 'sessions'),
    (2, 'add_to_cart', 'add_to_cart_sessions'),
    (3, 'begin_checkout', 'begin_checkout_sessions'),
    (4, 'purchase', 'purchase_sessions'),
] -%}

with sessions as (
    select * from {{ ref('fct_sessions') }}
),

report_daily as (
    select * from {{ ref('int_funnel_report_daily') }}
),

-- GA4 comes either as events or as a report (sales-insights build loads the other empty): one of the two
-- has rows. A report has no new-versus-returning split.
by_breakdown as (
    {%- for breakdown, value in breakdowns %}
    select
        'events' as funnel_basis,
        '{{ breakdown }}' as breakdown,
        {{ value }} as breakdown_value,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date,
        count(*) as sessions,
        {{ count_where('reached_add_to_cart') }} as add_to_cart_sessions,
        {{ count_where('reached_begin_checkout') }} as begin_checkout_sessions,
        {{ count_where('reached_purchase') }} as purchase_sessions,
        count(*) as sessions_open,
        {{ count_where('has_add_to_cart') }} as add_to_cart_sessions_open,
        {{ count_where('has_begin_checkout') }} as begin_checkout_sessions_open,
        {{ count_where('has_purchase') }} as purchase_sessions_open
    from sessions
    group by {{ value }}
    union all
    {%- endfor %}
    {%- for breakdown, value in breakdowns if breakdown != 'user_type' %}
    select
        'ga4_report' as funnel_basis,
        '{{ breakdown }}' as breakdown,
        {{ value }} as breakdown_value,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
        cast(sum(add_to_cart_sessions) as {{ dbt.type_bigint() }}) as add_to_cart_sessions,
        cast(sum(begin_checkout_sessions) as {{ dbt.type_bigint() }}) as begin_checkout_sessions,
        cast(sum(purchase_sessions) as {{ dbt.type_bigint() }}) as purchase_sessions,
        cast(sum(sessions_open) as {{ dbt.type_bigint() }}) as sessions_open,
        cast(sum(add_to_cart_sessions_open) as {{ dbt.type_bigint() }}) as add_to_cart_sessions_open,
        cast(sum(begin_checkout_sessions_open) as {{ dbt.type_bigint() }}) as begin_checkout_sessions_open,
        cast(sum(purchase_sessions_open) as {{ dbt.type_bigint() }}) as purchase_sessions_open
    from report_daily
    group by {{ value }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

tracked as (
    {{ funnel_steps_tracked('sessions', 'report_daily') }}
),

-- A step the store does not send (see funnel_steps_tracked) has null sessions and no rate; the step after
-- it is compared with the step before it.
steps as (
    {%- for number, step, column in steps %}
    select
        by_breakdown.funnel_basis,
        by_breakdown.breakdown,
        by_breakdown.breakdown_value,
        by_breakdown.first_session_date,
        by_breakdown.last_session_date,
        {{ number }} as step_number,
        by_breakdown.funnel_basis = 'ga4_report' and {{ number }} > 2 as is_bounded,
        '{{ step }}' as step,
        {{ 'true' if number == 1 else 'tracked.' ~ step }} as is_step_tracked,
        {%- if number == 1 %}
        by_breakdown.sessions as step_sessions,
        by_breakdown.sessions_open as step_sessions_open,
        cast(null as {{ dbt.type_bigint() }}) as previous_step_sessions
        {%- else %}
        case when tracked.{{ step }} then by_breakdown.{{ column }} end as step_sessions,
        case when tracked.{{ step }} then by_breakdown.{{ column }}_open end as step_sessions_open,
        {%- if number == 2 %}
        by_breakdown.sessions as previous_step_sessions
        {%- else %}
        case
            {%- for _, earlier, earlier_column in steps[1:number - 1] | reverse %}
            when tracked.{{ earlier }} then by_breakdown.{{ earlier_column }}
            {%- endfor %}
            else by_breakdown.sessions
        end as previous_step_sessions
        {%- endif %}
        {%- endif %}
    from by_breakdown
    cross join tracked
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ dbt.concat(['breakdown', "'|'", 'breakdown_value', "'|'", 'step']) }} as funnel_summary_key,
        breakdown,
        breakdown_value,
        funnel_basis,
        step_number,
        step,
        is_step_tracked,
        first_session_date,
        last_session_date,
        step_sessions,
        step_sessions_open,
        previous_step_sessions,
        -- From GA4 reports, the counts past add_to_cart are upper bounds, and a ratio of two bounds is no
        -- bound: those steps get no rate (add_to_cart over sessions is exact either way).
        case when not is_bounded then {{ safe_divide('step_sessions', 'previous_step_sessions') }} end
            as conversion_rate,
        case when not is_bounded then {{ wilson_bound('step_sessions', 'previous_step_sessions', 'lower') }} end
            as conversion_rate_ci_lower,
        case when not is_bounded then {{ wilson_bound('step_sessions', 'previous_step_sessions', 'upper') }} end
            as conversion_rate_ci_upper,
        case when not is_bounded then previous_step_sessions - step_sessions end as abandoned_sessions,
        case
            when not is_bounded
                then {{ safe_divide('previous_step_sessions - step_sessions', 'previous_step_sessions') }}
        end as abandonment_rate
    from steps
)

select * from final
