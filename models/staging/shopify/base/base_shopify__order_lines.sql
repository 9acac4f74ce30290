{%- set raw = [
    'id', 'order_id', 'product_id', 'variant_id', 'sku', 'title', 'quantity', 'price', 'total_discount',
] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'order_line_id', 'an integer'),
    required('order_id'),
    parsed('order_id', 'order_id', 'an integer'),
    parsed('product_id', 'product_id', 'an integer'),
    parsed('variant_id', 'variant_id', 'an integer'),
    required('title'),
    required('quantity'),
    parsed('quantity', 'quantity', 'an integer'),
    {'column': 'quantity', 'reason': 'quantity must be greater than 0', 'when': 'quantity <= 0'},
    required('price'),
    parsed('price', 'price', 'a decimal number'),
    {'column': 'price', 'reason': 'negative amount', 'when': 'price < 0'},
    required('total_discount'),
    parsed('total_discount', 'total_discount', 'a decimal number'),
    {'column': 'total_discount', 'reason': 'negative amount', 'when': 'total_discount < 0'},
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
        {{ dbt.safe_cast('id', dbt.type_bigint()) }} as order_line_id,
        {{ dbt.safe_cast('order_id', dbt.type_bigint()) }} as order_id,
        {{ dbt.safe_cast('product_id', dbt.type_bigint()) }} as product_id,
        {{ dbt.safe_cast('variant_id', dbt.type_bigint()) }} as variant_id,
        sku,
        title as product_title,
        {{ dbt.safe_cast('quantity', dbt.type_int()) }} as quantity,
        {{ dbt.safe_cast('price', type_money()) }} as price,
        {{ dbt.safe_cast('total_discount', type_money()) }} as total_discount
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
