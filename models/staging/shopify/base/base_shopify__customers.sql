{%- set raw = ['id', 'created_at', 'email_hash', 'accepts_marketing', 'country'] -%}

{%- set checks = [
    required('id'),
    parsed('id', 'customer_id', integer_rule()),
    required('created_at'),
    parsed('created_at', 'created_at', 'an ISO-8601 timestamp with a time and a UTC offset'),
] + plausible_instant_checks('created_at', 'created_at') + [
    required('accepts_marketing'),
    parsed('accepts_marketing', 'accepts_marketing', 'true or false'),
] + control_character_checks(['email_hash', 'country']) + [
    {
        'column': 'id',
        'reason': 'the same customer id appears on other rows with different content',
        'when': 'has_conflicting_copies',
    },
    {'column': 'id', 'reason': 'exact duplicate of an earlier row (kept once)', 'when': 'copy_number > 1'},
] -%}

with source as (
    select
        *,
        {{ source_line_number() }} as source_line
    from {{ raw_table('shopify', 'raw_shopify_customers') }}
),

typed as (
    select
        source_line,
        {{ raw_columns(raw) }},
        {{ row_hash(raw) }} as row_hash,
        {{ parse_integer('id') }} as customer_id,
        {{ parse_timestamptz('created_at') }} as created_at,
        email_hash,
        {{ parse_boolean('accepts_marketing') }} as accepts_marketing,
        country
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
        customer_id,
        created_at,
        email_hash,
        accepts_marketing as is_accepting_marketing,
        country,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
