{%- set raw = ['id', 'title', 'product_type', 'vendor', 'status', 'created_at'] -%}
{%- set statuses = ['active', 'draft', 'archived'] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'product_id', integer_rule()),
    required('title'),
    required('status'),
    {
        'column': 'status',
        'reason': 'not one of ' ~ statuses | join(', '),
        'when': "raw_status not in ('" ~ statuses | join("', '") ~ "')",
    },
    required('created_at'),
    parsed('created_at', 'created_at', 'an ISO-8601 timestamp with a time and a UTC offset'),
] + plausible_instant_checks('created_at', 'created_at') + control_character_checks(['title', 'product_type', 'vendor']) + [
    {
        'column': 'id',
        'reason': 'the same product id appears on other rows with different content',
        'when': 'has_conflicting_copies',
    },
    {'column': 'id', 'reason': 'exact duplicate of an earlier row (kept once)', 'when': 'copy_number > 1'},
] -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('shopify', 'raw_shopify_products') }}
),

typed as (
    select
        source_line,
        {{ raw_columns(raw) }},
        {{ row_hash(raw) }} as row_hash,
        {{ parse_integer('id') }} as product_id,
        title as product_title,
        product_type,
        vendor,
        status as product_status,
        {{ parse_timestamptz('created_at') }} as created_at
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
        product_id,
        product_title,
        product_type,
        vendor,
        product_status,
        created_at,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
