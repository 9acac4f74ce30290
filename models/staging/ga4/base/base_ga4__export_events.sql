{#- GA4's BigQuery export (the source ga4_export_events: nested, one row per event, loaded as text by
    `sales-insights build` from a data directory's ga4_export/) flattened to the raw-data contract's
    raw_ga4_events. It is written where the flat CSV would have been loaded, raw.raw_ga4_events, so that
    everything reading the raw events (base_ga4__events, the contract suite, the raw-row reconciliation)
    reads either layout alike; nothing is typed or dropped here, base_ga4__events does that.
    Built only when the var ga4_layout is `export` (the build sets it).

    Each column, from Google's "BigQuery Export schema":
    - ga_session_id, ga_session_number, page_location, page_referrer, currency: the event parameter of that
      key, from the value field that is set;
    - device_category, geo_country: device.category, geo.country;
    - item_id: the first item's item_id (base_ga4__export_items keeps every item);
    - transaction_id, purchase_revenue: ecommerce.transaction_id (else the transaction_id parameter) and
      ecommerce.purchase_revenue;
    - source, medium, campaign: the event's own source (the event parameters source, medium, campaign,
      which GA4 puts on only some of a session's events), else collected_traffic_source (manual_source,
      manual_medium, manual_campaign_name; a gclid without them is google / cpc, as GA4 reads auto-tagging),
      else session_traffic_source_last_click (cross_channel_campaign, then manual_campaign). The three
      always come from the same one of these. Never traffic_source: that is the user's first touch, not
      this session's.
    export_row_hash fingerprints the whole export row (every column the loader read, nested ones whole), so
    that two events the flat columns cannot tell apart (two add_to_cart of one instant with other items)
    are not taken for the same hit sent twice.
    _source_line orders the events as GA4 does when they share a timestamp: by batch_page_id,
    batch_ordering_id and batch_event_index, then by file and row; it numbers them 2, 3, ... like a CSV's
    lines, so every model reads either layout the same way. -#}
{%- set export_columns = [
    'event_date', 'event_timestamp', 'event_name', 'event_params', 'user_id', 'user_pseudo_id', 'device', 'geo',
    'traffic_source', 'collected_traffic_source', 'session_traffic_source_last_click', 'ecommerce', 'items',
    'batch_page_id', 'batch_ordering_id', 'batch_event_index', 'platform', 'stream_id',
] -%}
{{ config(
    enabled=(var('ga4_layout', 'csv') == 'export'),
    materialized='table',
    schema='raw',
    alias='raw_ga4_events',
) }}

with export as (
    select
        *,
        {{ ga4_param_texts('event_params') }} as params
    from {{ source('ga4', 'ga4_export_events') }}
),

flattened as (
    select
        export._source_file,
        export._source_row,
        export.event_date,
        export.event_timestamp,
        export.event_name,
        export.user_pseudo_id,
        export.user_id,
        {{ ga4_param('export.params', 'ga_session_id') }} as ga_session_id,
        {{ ga4_param('export.params', 'ga_session_number') }} as ga_session_number,
        {{ ga4_param('export.params', 'page_location') }} as page_location,
        {{ ga4_param('export.params', 'page_referrer') }} as page_referrer,
        {{ ga4_param('export.params', 'source') }} as param_source,
        {{ ga4_param('export.params', 'medium') }} as param_medium,
        {{ ga4_param('export.params', 'campaign') }} as param_campaign,
        export.collected_traffic_source.manual_source as collected_source,
        export.collected_traffic_source.manual_medium as collected_medium,
        export.collected_traffic_source.manual_campaign_name as collected_campaign,
        export.collected_traffic_source.gclid as collected_gclid,
        coalesce(
            export.session_traffic_source_last_click.cross_channel_campaign.source,
            export.session_traffic_source_last_click.manual_campaign.source
        ) as last_click_source,
        case
            when export.session_traffic_source_last_click.cross_channel_campaign.source is not null
                then export.session_traffic_source_last_click.cross_channel_campaign.medium
            else export.session_traffic_source_last_click.manual_campaign.medium
        end as last_click_medium,
        case
            when export.session_traffic_source_last_click.cross_channel_campaign.source is not null
                then export.session_traffic_source_last_click.cross_channel_campaign.campaign_name
            else export.session_traffic_source_last_click.manual_campaign.campaign_name
        end as last_click_campaign,
        export.device.category as device_category,
        export.geo.country as geo_country,
        {{ array_first('export.items') }}.item_id as item_id,
        coalesce(export.ecommerce.transaction_id, {{ ga4_param('export.params', 'transaction_id') }}) as transaction_id,
        export.ecommerce.purchase_revenue as purchase_revenue,  -- noqa: AL09
        {{ ga4_param('export.params', 'currency') }} as currency,
        export.batch_page_id,
        export.batch_ordering_id,
        export.batch_event_index,
        {{ dbt.hash(json_record(export_columns, 'export.')) }} as export_row_hash
    from export
),

sourced as (
    select
        *,
        case
            when param_source is not null then 'event'
            when collected_source is not null then 'collected'
            when collected_gclid is not null then 'gclid'
            when last_click_source is not null then 'last_click'
        end as source_origin
    from flattened
),

final as (
    select
        event_date,
        event_timestamp,
        event_name,
        user_pseudo_id,
        user_id,
        ga_session_id,
        ga_session_number,
        page_location,
        page_referrer,
        case source_origin
            when 'event' then param_source
            when 'collected' then collected_source
            when 'gclid' then 'google'
            when 'last_click' then last_click_source
        end as source,
        case source_origin
            when 'event' then param_medium
            when 'collected' then collected_medium
            when 'gclid' then 'cpc'
            when 'last_click' then last_click_medium
        end as medium,
        case source_origin
            when 'event' then param_campaign
            when 'collected' then collected_campaign
            when 'last_click' then last_click_campaign
        end as campaign,
        device_category,
        geo_country,
        item_id,
        transaction_id,
        purchase_revenue,
        currency,
        source_origin,
        batch_page_id,
        batch_ordering_id,
        batch_event_index,
        export_row_hash,
        _source_file,
        _source_row,
        1 + row_number() over (
            order by
                {{ dbt.safe_cast('event_timestamp', dbt.type_bigint()) }},
                {{ dbt.safe_cast('batch_page_id', dbt.type_bigint()) }},
                {{ dbt.safe_cast('batch_ordering_id', dbt.type_bigint()) }},
                {{ dbt.safe_cast('batch_event_index', dbt.type_bigint()) }},
                _source_file,
                _source_row
        ) as _source_line
    from sourced
)

select * from final
