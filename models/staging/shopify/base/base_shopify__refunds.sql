{%- set raw = ['id', 'order_id', 'created_at', 'amount'] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'refund_id', 'an integer'),
    required('order_id'),
    parsed('order_id', 'order_id', 'an integer'),
    required('created_at'),
    parsed('created_at', 'created_at', 'an ISO-8601 timestamp with a UTC offset'),
    required('amount'),
    parsed('amount', 'amount', 'a decimal number'),
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
] -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('shopify', 'raw_shopify_refunds') }}
),

accepted_orders as (
    select order_id from {{ ref('base_shopify__orders') }}
    where reject_reason is null
),

typed as (
    select
        source_line,
        {{ raw_columns(raw) }},
        {{ row_hash(raw) }} as row_hash,
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as refund_id,
        {{ dbt.safe_cast('order_id', dbt.type_bigint()) }} as order_id,
        {{ parse_timestamptz('created_at') }} as created_at,
        {{ dbt.safe_cast('amount', type_money()) }} as amount
    from source
),

copies as (
    select
        typed.*,
        accepted_orders.order_id is not null as has_accepted_order,
        {{ copy_columns('raw_id', 'typed') }}
    from typed
    left join accepted_orders
        on typed.order_id = accepted_orders.order_id
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
        refund_id,
        order_id,
        created_at,
        amount as refund_amount,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
