{#- Every raw row that staging could not use, with the reason, from every raw table. Nothing is dropped
    silently: for each raw table, raw rows = staged rows + rows here. -#}
{%- set bases = [
    ('raw_ga4_events', 'base_ga4__events', 'event_key'),
    ('ga4_funnel_report', 'base_ga4__funnel_report', 'report_row_key'),
    ('raw_shopify_orders', 'base_shopify__orders', 'order_id'),
    ('raw_shopify_order_lines', 'base_shopify__order_lines', 'order_line_id'),
    ('raw_shopify_refunds', 'base_shopify__refunds', 'refund_id'),
    ('raw_shopify_customers', 'base_shopify__customers', 'customer_id'),
    ('raw_shopify_products', 'base_shopify__products', 'product_id'),
    ('raw_shopify_variants', 'base_shopify__variants', 'variant_id'),
] -%}

with rejected as (
    {%- for source_table, base, key in bases %}
    select
        '{{ source_table }}' as source_table,
        source_line,
        {%- if base == 'base_ga4__events' %}
        source_location,
        {%- else %}
        {{ dbt.concat(["'" ~ source_table ~ ".csv line '", dbt.safe_cast('source_line', dbt.type_string())]) }}
            as source_location,
        {%- endif %}
        {{ dbt.safe_cast(key, dbt.type_string()) }} as record_key,
        reject_column as column_name,
        reject_reason as reason,
        reject_value as rejected_value,
        raw_record
    from {{ ref(base) }}
    where reject_reason is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ dbt.concat(['source_table', "':'", dbt.safe_cast('source_line', dbt.type_string())]) }}
            as rejected_row_id,
        source_table,
        source_line,
        source_location,
        record_key,
        column_name,
        reason,
        rejected_value,
        raw_record
    from rejected
)

select * from final
