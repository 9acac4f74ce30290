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
    required('channel_group'),
    required('device_category'),
    {
        'column': 'device_category',
        'reason': 'not one of ' ~ devices | join(', '),
        'when': "raw_device_category not in ('" ~ devices | join("', '") ~ "')",
    },
    required('landing_page'),
    required('sessions'),
    parsed('sessions', 'sessions', 'an integer'),
    {'column': 'sessions', 'reason': 'negative count', 'when': 'sessions < 0'},
] -%}
{%- for step in steps -%}
    {%- do checks.extend([
        required(step),
        parsed(step, step, 'an integer'),
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
        {{ dbt.safe_cast('sessions', dbt.type_bigint()) }} as sessions,
        {{ dbt.safe_cast('add_to_cart_sessions', dbt.type_bigint()) }} as add_to_cart_sessions,
        {{ dbt.safe_cast('begin_checkout_sessions', dbt.type_bigint()) }} as begin_checkout_sessions,
        {{ dbt.safe_cast('purchase_sessions', dbt.type_bigint()) }} as purchase_sessions
    from source
),

copies as (
    select
        *,
        {{ copy_columns('raw_report_key') }}
    from typed
),

validated as (
    select
        *,
        {{ reject_columns(checks) }}
    from copies
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
