{%- set raw = [
    'id', 'order_id', 'product_id', 'variant_id', 'sku', 'title', 'quantity', 'price', 'total_discount',
] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'order_line_id', integer_rule()),
    required('order_id'),
    parsed('order_id', 'order_id', integer_rule()),
    parsed('product_id', 'product_id', integer_rule()),
    parsed('variant_id', 'variant_id', integer_rule()),
    required('title'),
    required('quantity'),
    parsed('quantity', 'quantity', integer_rule()),
    {'column': 'quantity', 'reason': 'quantity must be greater than 0', 'when': 'quantity <= 0'},
    required('price'),
    parsed('price', 'price', money_rule()),
    {'column': 'price', 'reason': 'negative amount', 'when': 'price < 0'},
    required('total_discount'),
    parsed('total_discount', 'total_discount', money_rule()),
    {'column': 'total_discount', 'reason': 'negative amount', 'when': 'total_discount < 0'},
] + control_character_checks(['sku', 'title']) + [
    {
        'column': 'id',
        'reason': 'the same line id appears on other rows with different content',
        'when': 'has_conflicting_copies',
    },
    {'column': 'id', 'reason': 'exact duplicate of an earlier row (kept once)', 'when': 'copy_number > 1'},
    {
        'column': 'order_id',
        'reason': 'orphan line: no accepted order has this id',
        'when': 'not has_accepted_order',
    },
] -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('shopify', 'raw_shopify_order_lines') }}
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
        {{ parse_integer('id') }} as order_line_id,
        {{ parse_integer('order_id') }} as order_id,
        {{ parse_integer('product_id') }} as product_id,
        {{ parse_integer('variant_id') }} as variant_id,
        sku,
        title as product_title,
        {{ parse_integer('quantity', dbt.type_int()) }} as quantity,
        {{ parse_money('price') }} as price,
        {{ parse_money('total_discount') }} as total_discount
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
        order_line_id,
        order_id,
        product_id,
        variant_id,
        sku,
        product_title,
        quantity,
        price,
        total_discount,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
