{#- The items array of GA4's BigQuery export: one row per item per export row, as text, keyed by the
    event's _source_line in base_ga4__export_events (the same numbering). An add_to_cart or view_item_list
    of several products keeps every one. Built only when the var ga4_layout is `export`. -#}
{{ config(
    enabled=(var('ga4_layout', 'csv') == 'export'),
    materialized='table',
) }}

with events as (
    select
        export.items,
        flattened._source_line
    from {{ source('ga4', 'ga4_export_events') }} as export
    inner join {{ ref('base_ga4__export_events') }} as flattened
        on export._source_file = flattened._source_file
        and export._source_row = flattened._source_row
),

unnested as (
    select
        events._source_line,
        {{ array_row_index('item') }} as item_index,
        item.element as item
    from {{ array_rows('events', 'events.items', 'item') }}
),

final as (
    select
        unnested._source_line as source_line,
        unnested.item_index,
        unnested.item.item_id,
        unnested.item.item_name,
        unnested.item.item_brand,
        unnested.item.item_variant,
        unnested.item.item_category,
        unnested.item.price,
        unnested.item.quantity,
        unnested.item.item_revenue,
        unnested.item.coupon,
        unnested.item.item_list_id,
        unnested.item.item_list_name,
        unnested.item.item_list_index
    from unnested
)

select * from final
