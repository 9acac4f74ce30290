{%- set raw = ['id', 'order_id', 'created_at', 'amount'] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'refund_id', integer_rule()),
    required('order_id'),
    parsed('order_id', 'order_id', integer_rule()),
    required('created_at'),
    parsed('created_at', 'created_at', 'an ISO-8601 timestamp with a time and a UTC offset'),
] + plausible_instant_checks('created_at', 'created_at') + [
    required('amount'),
    parsed('amount', 'amount', money_rule()),
    {'column': 'amount', 'reason': 'refund amount must be greater than 0', 'when': 'amount <= 0'},
    {
        'column': 'id',
        'reason': 'the same refund id appears on other rows with different content',
        'when': 'has_conflicting_copies',
    },
    {'column': 'id', 'reason': 'exact duplicate of an earlier row (kept once)', 'when': 'copy_number > 1'},
    {
        'column': 'order_id',
        'reason': 'orphan refund: no accepted order has this id',
        'when': 'not has_accepted_order',
    },
    {
        'column': 'created_at',
        'reason': 'refund dated before its order was placed',
        'when': 'created_at < order_created_at',
    },
] -%}
{#- Checked last, over the refunds that pass every other check: refunds to date (in date order) beyond what
    the customer paid. The refund that crosses the order's total is rejected; its order and the refunds
    before it are kept. -#}
{%- set over_refund_reason = "refunds to date exceed the order total_price" -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('shopify', 'raw_shopify_refunds') }}
),

accepted_orders as (
    select
        order_id,
        created_at,
        total_price
    from {{ ref('base_shopify__orders') }}
    where reject_reason is null
),

typed as (
    select
        source_line,
        {{ raw_columns(raw) }},
        {{ row_hash(raw) }} as row_hash,
        {{ parse_integer('id') }} as refund_id,
        {{ parse_integer('order_id') }} as order_id,
        {{ parse_timestamptz('created_at') }} as created_at,
        {{ parse_money('amount') }} as amount
    from source
),

copies as (
    select
        typed.*,
        accepted_orders.order_id is not null as has_accepted_order,
        accepted_orders.created_at as order_created_at,
        accepted_orders.total_price as order_total_price,
        {{ copy_columns('raw_id', 'typed') }}
    from typed
    left join accepted_orders
        on typed.order_id = accepted_orders.order_id
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

refunded as (
    select
        *,
        reject_reason is null and sum(case when reject_reason is null then amount else 0 end) over (
            partition by order_id
            order by created_at, refund_id
            rows between unbounded preceding and current row
        ) > order_total_price as is_over_refund
    from validated
),

over_refunds as (
    select
        source_line,
        row_hash,
        refund_id,
        order_id,
        created_at,
        amount,
        {%- for column in raw %}
        raw_{{ column }},
        {%- endfor %}
        case when is_over_refund then 'amount' else reject_column end as reject_column,
        case when is_over_refund then {{ sql_text(over_refund_reason) }} else reject_reason end as reject_reason,
        case when is_over_refund then raw_amount else reject_value end as reject_value
    from refunded
),

final as (
    select
        source_line,
        row_hash,
        refund_id,
        order_id,
        created_at,
        amount as refund_amount,
        {{ rejection_output(raw) }}
    from over_refunds
)

select * from final
