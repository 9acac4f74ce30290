{%- set raw = [
    'id', 'name', 'created_at', 'customer_id', 'email_hash', 'currency', 'subtotal_price',
    'total_discounts', 'total_tax', 'total_shipping', 'total_price', 'financial_status', 'cancelled_at',
    'source_name', 'landing_site', 'referring_site', 'test',
] -%}
{%- set money = ['subtotal_price', 'total_discounts', 'total_tax', 'total_shipping', 'total_price'] -%}
{%- set financial_statuses = [
    'pending', 'authorized', 'paid', 'partially_paid', 'partially_refunded', 'refunded', 'voided',
] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'order_id', integer_rule()),
    required('name'),
    required('created_at'),
    parsed('created_at', 'created_at', 'an ISO-8601 timestamp with a time and a UTC offset'),
] + plausible_instant_checks('created_at', 'created_at') + [
    parsed('customer_id', 'customer_id', integer_rule()),
    required('currency'),
    {
        'column': 'currency',
        'reason': 'currency differs from the shop currency ' ~ var('shop_currency'),
        'when': "upper(raw_currency) <> upper('" ~ var('shop_currency') ~ "')",
    },
] -%}
{%- for column in money -%}
    {%- do checks.extend([
        required(column),
        parsed(column, column, money_rule()),
        {'column': column, 'reason': 'negative amount', 'when': column ~ ' < 0'},
    ]) -%}
{%- endfor -%}
{%- do checks.extend([
    required('financial_status'),
    {
        'column': 'financial_status',
        'reason': 'not one of ' ~ financial_statuses | join(', '),
        'when': "raw_financial_status not in ('" ~ financial_statuses | join("', '") ~ "')",
    },
    parsed('cancelled_at', 'cancelled_at', 'an ISO-8601 timestamp with a time and a UTC offset'),
] + plausible_instant_checks('cancelled_at', 'cancelled_at') + [
    required('test'),
    parsed('test', 'is_test', 'true or false'),
] + control_character_checks(['name', 'email_hash', 'source_name', 'landing_site', 'referring_site']) + [
    {
        'column': 'id',
        'reason': 'the same order id appears on other rows with different content',
        'when': 'has_conflicting_copies',
    },
    {
        'column': 'id',
        'reason': 'exact duplicate of an earlier row (kept once)',
        'when': 'copy_number > 1',
    },
]) -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('shopify', 'raw_shopify_orders') }}
),

typed as (
    select
        source_line,
        {{ raw_columns(raw) }},
        {{ row_hash(raw) }} as row_hash,
        {{ parse_integer('id') }} as order_id,
        name as order_name,
        {{ parse_timestamptz('created_at') }} as created_at,
        {{ parse_integer('customer_id') }} as customer_id,
        email_hash,
        upper(currency) as currency,
        {%- for column in money %}
        {{ parse_money(column) }} as {{ column }},
        {%- endfor %}
        financial_status,
        {{ parse_timestamptz('cancelled_at') }} as cancelled_at,
        source_name,
        landing_site,
        referring_site,
        {{ parse_boolean('test') }} as is_test
    from source
),

copies as (
    select
        *,
        {{ copy_columns('raw_id') }}
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
        order_id,
        order_name,
        created_at,
        customer_id,
        email_hash,
        currency,
        subtotal_price,
        total_discounts,
        total_tax,
        total_shipping,
        total_price,
        financial_status,
        cancelled_at,
        source_name,
        landing_site,
        referring_site,
        is_test,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
