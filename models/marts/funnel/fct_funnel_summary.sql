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
    (1, 'session', 'sessions', none),
    (2, 'add_to_cart', 'add_to_cart_sessions', 'sessions'),
    (3, 'begin_checkout', 'begin_checkout_sessions', 'add_to_cart_sessions'),
    (4, 'purchase', 'purchase_sessions', 'begin_checkout_sessions'),
] -%}

with sessions as (
    select * from {{ ref('fct_sessions') }}
),

by_breakdown as (
    {%- for breakdown, value in breakdowns %}
    select
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
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

steps as (
    {%- for number, step, column, previous in steps %}
    select
        breakdown,
        breakdown_value,
        first_session_date,
        last_session_date,
        {{ number }} as step_number,
        '{{ step }}' as step,
        {{ column }} as step_sessions,
        {{ column }}_open as step_sessions_open,
        {{ previous if previous else 'cast(null as ' ~ dbt.type_bigint() ~ ')' }} as previous_step_sessions
    from by_breakdown
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
        step_number,
        step,
        first_session_date,
        last_session_date,
        step_sessions,
        step_sessions_open,
        previous_step_sessions,
        {{ safe_divide('step_sessions', 'previous_step_sessions') }} as conversion_rate,
        {{ wilson_bound('step_sessions', 'previous_step_sessions', 'lower') }} as conversion_rate_ci_lower,
        {{ wilson_bound('step_sessions', 'previous_step_sessions', 'upper') }} as conversion_rate_ci_upper,
        previous_step_sessions - step_sessions as abandoned_sessions,
        {{ safe_divide('previous_step_sessions - step_sessions', 'previous_step_sessions') }} as abandonment_rate
    from steps
)

select * from final
