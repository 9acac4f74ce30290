{#- Every raw row that staging could not use, with the reason, from every raw table. Nothing is dropped
    silently: for each raw table, raw rows = staged rows + rows here. A row is named by the line of its
    file it starts on: the base models number rows by record (the n-th record is line n + 1), which the
    loader's line offsets shift past the line breaks inside quoted fields and the blank lines before the
    row (base_loader__raw_line_offsets, empty when there are none). A row loaded from another layout (Shopify's
    Bulk Operation JSONL, Fivetran's tables) is named by the file and line it was read from
    (base_loader__raw_row_locations). -#}
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
{%- set export = var('ga4_layout', 'csv') == 'export' -%}

with line_offsets as (
    select * from {{ ref('base_loader__raw_line_offsets') }}
),

row_locations as (
    select * from {{ ref('base_loader__raw_row_locations') }}
),

rejected as (
    {%- for source_table, base, key in bases %}
    select
        '{{ source_table }}' as source_table,
        source_line as record_line,
        {%- if base == 'base_ga4__events' and export %}
        -- GA4's BigQuery export: the day table's file and row, for source_line numbers the export's events
        source_location as known_location,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as known_location,
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

located as (
    select
        rejected.source_table,
        rejected.record_line + coalesce(line_offsets.extra_lines, 0) as source_line,
        coalesce(rejected.known_location, row_locations.source_location) as known_location,
        rejected.record_key,
        rejected.column_name,
        rejected.reason,
        rejected.rejected_value,
        rejected.raw_record
    from rejected
    left join line_offsets
        on rejected.source_table = line_offsets.table_name
        and rejected.record_line between line_offsets.from_line and line_offsets.to_line
        and rejected.known_location is null
    left join row_locations
        on rejected.source_table = row_locations.table_name
        and rejected.record_line = row_locations.record_line
        and rejected.known_location is null
),

final as (
    select
        {{ dbt.concat(['source_table', "':'", dbt.safe_cast('source_line', dbt.type_string())]) }}
            as rejected_row_id,
        source_table,
        source_line,
        coalesce(
            known_location,
            {{ dbt.concat(['source_table', "'.csv line '", dbt.safe_cast('source_line', dbt.type_string())]) }}
        ) as source_location,
        record_key,
        column_name,
        reason,
        rejected_value,
        raw_record
    from located
)

select * from final
