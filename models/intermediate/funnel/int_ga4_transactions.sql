{#- One row per transaction_id that GA4 saw a purchase event for: when and in which session it was
    first reported, and the revenue reported (the largest, when a purchase was sent more than once).
    A table, so the marts that read it do not each scan every event for the purchases. Incremental when
    the raw events were appended to (see appended_from_line): the transactions with a purchase event among
    the new rows are recomputed from all their events. -#}
{{ config(
    materialized=upsert_materialization(),
    unique_key='transaction_id',
    incremental_strategy=upsert_strategy(),
    on_schema_change='fail',
    full_refresh=(none if appended_from_line('raw_ga4_events') else true),
) }}

with purchases as (
    -- sqlfluff 4.5 misreads the indent of a multi-line bracket inside a Jinja block -- noqa: disable=LT02
    select * from {{ ref('stg_ga4__events') }}
    where event_name = 'purchase'
        and transaction_id is not null
        {%- if is_incremental() %}
        and transaction_id in (
            select transaction_id from {{ ref('stg_ga4__events') }}
            where source_line >= {{ appended_from_line('raw_ga4_events') }}
                and event_name = 'purchase'
        )
        {%- endif %}
    -- noqa: enable=LT02
),

transactions as (
    select
        transaction_id,
        min(event_timestamp_us) as first_reported_us,
        {{ first_by('session_key', 'event_timestamp_us', 'event_key') }} as session_key,
        count(*) as purchase_events,
        max(purchase_revenue) as ga4_revenue
    from purchases
    group by transaction_id
),

final as (
    select
        transaction_id,
        session_key,
        {{ micros_to_timestamptz('first_reported_us') }} as first_reported_at,
        {{ to_reporting_date(micros_to_timestamptz('first_reported_us')) }} as reported_date,
        purchase_events,
        ga4_revenue
    from transactions
)

select * from final
