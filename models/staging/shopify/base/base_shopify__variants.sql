{%- set raw = ['id', 'product_id', 'title', 'sku', 'price', 'compare_at_price'] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'variant_id', integer_rule()),
    required('product_id'),
    parsed('product_id', 'product_id', integer_rule()),
    required('title'),
    required('price'),
    parsed('price', 'price', money_rule()),
    {'column': 'price', 'reason': 'negative amount', 'when': 'price < 0'},
    parsed('compare_at_price', 'compare_at_price', money_rule()),
] + control_character_checks(['title', 'sku']) + [
    {
        'column': 'id',
        'reason': 'the same variant id appears on other rows with different content',
        'when': 'has_conflicting_copies',
    },
    {'column': 'id', 'reason': 'exact duplicate of an earlier row (kept once)', 'when': 'copy_number > 1'},
    {
        'column': 'product_id',
        'reason': 'orphan variant: no accepted product has this id',
        'when': 'not has_accepted_product',
    },
] -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('shopify', 'raw_shopify_variants') }}
),

accepted_products as (
    select product_id from {{ ref('base_shopify__products') }}
    where reject_reason is null
),

typed as (
    select
        source_line,
        {{ raw_columns(raw) }},
        {{ row_hash(raw) }} as row_hash,
        {{ parse_integer('id') }} as variant_id,
        {{ parse_integer('product_id') }} as product_id,
        title as variant_title,
        sku,
        {{ parse_money('price') }} as price,
        {{ parse_money('compare_at_price') }} as compare_at_price
    from source
),

copies as (
    select
        typed.*,
        accepted_products.product_id is not null as has_accepted_product,
        {{ copy_columns('raw_id', 'typed') }}
    from typed
    left join accepted_products
        on typed.product_id = accepted_products.product_id
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
        variant_id,
        product_id,
        variant_title,
        sku,
        price,
        compare_at_price,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
