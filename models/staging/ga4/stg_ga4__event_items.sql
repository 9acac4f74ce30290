{#- One row per item per accepted GA4 event: which products an event was about. From GA4's BigQuery export
    every item of the event's items array, with its name, price and quantity; from the flat CSV, which has
    one item_id per event, that item alone (name, price and quantity unknown). A price or quantity that is
    not a number is kept as text in raw_price / raw_quantity, typed null, and named in item_problem. -#}
{%- set export = var('ga4_layout', 'csv') == 'export' -%}

with events as (
    select
        source_line,
        event_key,
        session_key,
        event_name,
        event_at,
        item_id
    from {{ ref('stg_ga4__events') }}
    {%- if not export %}
    where item_id is not null
    {%- endif %}
),

items as (
    {%- if export %}
    select
        events.source_line,
        events.event_key,
        events.session_key,
        events.event_name,
        events.event_at,
        items.item_index,
        items.item_id,
        items.item_name,
        items.item_variant,
        items.item_category,
        items.price as raw_price,
        items.quantity as raw_quantity,
        {{ dbt.safe_cast('items.price', type_money()) }} as price,
        {{ dbt.safe_cast('items.quantity', dbt.type_bigint()) }} as quantity
    from events
    inner join {{ ref('base_ga4__export_items') }} as items
        on events.source_line = items.source_line
    {%- else %}
    select
        source_line,
        event_key,
        session_key,
        event_name,
        event_at,
        1 as item_index,
        item_id,
        cast(null as {{ dbt.type_string() }}) as item_name,
        cast(null as {{ dbt.type_string() }}) as item_variant,
        cast(null as {{ dbt.type_string() }}) as item_category,
        cast(null as {{ dbt.type_string() }}) as raw_price,
        cast(null as {{ dbt.type_string() }}) as raw_quantity,
        cast(null as {{ type_money() }}) as price,
        cast(null as {{ dbt.type_bigint() }}) as quantity
    from events
    {%- endif %}
),

final as (
    select
        {{ dbt.concat(['event_key', "'#'", dbt.safe_cast('item_index', dbt.type_string())]) }} as event_item_key,
        source_line,
        event_key,
        session_key,
        event_name,
        event_at,
        item_index,
        item_id,
        item_name,
        item_variant,
        item_category,
        price,
        quantity,
        raw_price,
        raw_quantity,
        case
            when raw_price is not null and price is null then 'price is not a decimal number'
            when raw_quantity is not null and quantity is null then 'quantity is not an integer'
        end as item_problem
    from items
)

select * from final
