{#- GA4 at report grain (ga4_funnel_report): every raw row, typed, with the first contract check it fails.
    Empty when the data are at event grain (the loader then loads the table empty). -#}
{%- set raw = [
    'report_date', 'channel_group', 'device_category', 'landing_page', 'sessions', 'add_to_cart_sessions',
    'begin_checkout_sessions', 'purchase_sessions',
] -%}
{%- set devices = ['desktop', 'mobile', 'tablet'] -%}
{%- set steps = ['add_to_cart_sessions', 'begin_checkout_sessions', 'purchase_sessions'] -%}

{%- set checks = [
    required('report_date'),
    parsed('report_date', 'report_date', 'a YYYYMMDD date'),
] + plausible_date_checks('report_date', 'report_date') + [
    required('channel_group'),
    required('device_category'),
    {
        'column': 'device_category',
        'reason': 'not one of ' ~ devices | join(', '),
        'when': "raw_device_category not in ('" ~ devices | join("', '") ~ "')",
    },
    required('landing_page'),
    required('sessions'),
    parsed('sessions', 'sessions', integer_rule()),
    {'column': 'sessions', 'reason': 'negative count', 'when': 'sessions < 0'},
] + control_character_checks(['channel_group', 'landing_page']) -%}
{%- for step in steps -%}
    {%- do checks.extend([
        required(step),
        parsed(step, step, integer_rule()),
        {'column': step, 'reason': 'negative count', 'when': step ~ ' < 0'},
        {'column': step, 'reason': 'more sessions with the event than sessions', 'when': step ~ ' > sessions'},
    ]) -%}
{%- endfor -%}
{%- do checks.extend([
    {
        'column': 'report_date',
        'reason': 'the same date, channel, device and landing page appear on other rows with other counts',
        'when': 'has_conflicting_copies',
    },
    {'column': 'report_date', 'reason': 'exact duplicate of an earlier row (kept once)', 'when': 'copy_number > 1'},
]) -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('ga4', 'ga4_funnel_report') }}
),

typed as (
    select
        source_line,
        {{ raw_columns(raw) }},
        {{ row_hash(raw) }} as row_hash,
        {{ dbt.concat(['report_date', "'|'", 'channel_group', "'|'", 'device_category', "'|'", 'landing_page']) }}
            as raw_report_key,
        {{ parse_yyyymmdd('report_date') }} as report_date,
        channel_group,
        device_category,
        landing_page,
        {{ parse_integer('sessions') }} as sessions,
        {{ parse_integer('add_to_cart_sessions') }} as add_to_cart_sessions,
        {{ parse_integer('begin_checkout_sessions') }} as begin_checkout_sessions,
        {{ parse_integer('purchase_sessions') }} as purchase_sessions
    from source
),

copies as (
    select
        *,
        {{ copy_columns('raw_report_key') }}
    from typed
),

checked as (
    select
        *,
        {{ reject_check(checks) }}
    from copies
),

validated as (
    select
        *,
        {{ reject_columns(checks) }}
    from checked
),

final as (
    select
        source_line,
        row_hash,
        -- the raw text, so a rejected row has its key too
        raw_report_key as report_row_key,
        report_date,
        channel_group,
        device_category,
        landing_page,
        sessions,
        add_to_cart_sessions,
        begin_checkout_sessions,
        purchase_sessions,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
