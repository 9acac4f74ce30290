{#- Incremental when the loader appended the raw file's new lines to the rows of the last build (see
    appended_from_line): only the new rows are typed, and an exact copy counts the copies already built.
    Otherwise, every build is a full one. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    full_refresh=(none if appended_from_line('raw_ga4_events') else true),
) }}

{#- GA4's BigQuery export (var ga4_layout = export) arrives flattened by base_ga4__export_events into the
    same raw table, with its batch fields and a fingerprint of the whole export row, which tell apart two
    events the flat columns cannot (the same hit sent twice is the same export row), and its file and row. -#}
{%- set export = var('ga4_layout', 'csv') == 'export' -%}
{%- set raw = [
    'event_date', 'event_timestamp', 'event_name', 'user_pseudo_id', 'user_id', 'ga_session_id',
    'ga_session_number', 'page_location', 'page_referrer', 'source', 'medium', 'campaign',
    'device_category', 'geo_country', 'item_id', 'transaction_id', 'purchase_revenue', 'currency',
] + (['batch_page_id', 'batch_ordering_id', 'batch_event_index', 'export_row_hash'] if export else []) -%}
{%- set devices = ['desktop', 'mobile', 'tablet'] -%}

{%- set checks = [
    required('event_date'),
    parsed('event_date', 'event_date', 'a YYYYMMDD date'),
    required('event_timestamp'),
    parsed('event_timestamp', 'event_timestamp_us', 'an integer (microseconds since the epoch)'),
] + plausible_micros_checks('event_timestamp', 'event_timestamp_us') + [
    required('event_name'),
    required('user_pseudo_id'),
    required('ga_session_id'),
    parsed('ga_session_id', 'ga_session_id', integer_rule()),
    parsed('ga_session_number', 'ga_session_number', integer_rule()),
    required('device_category'),
    {
        'column': 'device_category',
        'reason': 'not one of ' ~ devices | join(', '),
        'when': "raw_device_category not in ('" ~ devices | join("', '") ~ "')",
    },
    parsed('purchase_revenue', 'purchase_revenue', money_rule()),
    {
        'column': 'user_pseudo_id',
        'reason': 'has surrounding whitespace',
        'when': 'raw_user_pseudo_id <> trim(raw_user_pseudo_id)',
    },
    {
        'column': 'transaction_id',
        'reason': 'has surrounding whitespace',
        'when': 'raw_transaction_id <> trim(raw_transaction_id)',
    },
] + control_character_checks([
    'event_name', 'user_pseudo_id', 'user_id', 'page_location', 'page_referrer', 'source', 'medium', 'campaign',
    'geo_country', 'item_id', 'transaction_id', 'currency',
]) + [
    {
        'column': 'event_timestamp',
        'reason': 'exact duplicate of an earlier event (the same hit sent twice; kept once)',
        'when': 'copy_number > 1',
    },
] -%}

{#- Where a row is: its line (the number every model orders and joins by) and, from the export, the file
    and line or row for a person. JSON holds one event a line; Parquet has rows. -#}
{%- if export %}
-- depends_on: {{ ref('base_ga4__export_events') }}
{%- set line_sql = '_source_line' %}
{%- set location_sql = "_source_file || case when _source_file like '%.parquet' then ' row ' else ' line ' end || "
~ "cast(_source_row as " ~ dbt.type_string() ~ ")" %}
{%- else %}
{%- set line_sql = source_line_number() %}
{#- A CSV row's line in its file is stg_rejected_rows' (the record line shifted by the loader's line offsets);
    a string a row here cost about 4 s at 10M events for a column no model reads. -#}
{%- set location_sql = 'cast(null as ' ~ dbt.type_string() ~ ')' %}
{%- endif %}

with source as {{ not_materialized() }} (
    select
        *,
        {{ line_sql }} as source_line,
        {{ location_sql }} as source_location
    from {{ raw_table('ga4', 'raw_ga4_events') }}
),

{%- if is_incremental() %}

-- A constant, so the scan skips the rows already built.
new_source as (
    select * from source
    where source_line >= {{ appended_from_line('raw_ga4_events') }}
),
{%- endif %}

-- Exact copies are found on two narrow columns, then joined back by line: a window over the whole
-- typed rows carried every column through its sort (measured at 10M events: 35 s against 20 s).
hashed as (
    select
        source_line,
        {{ row_hash(raw) }} as row_hash
    from {{ 'new_source' if is_incremental() else 'source' }}
),

{%- if is_incremental() %}

-- Copies of a new row's text that are already built (always on earlier lines).
built_copies as (
    select
        event_key,
        count(*) as copies
    from {{ this }}
    where event_key in (select row_hash from hashed)
    group by event_key
),
{%- endif %}

copies as (
    select
        hashed.source_line,
        hashed.row_hash,
        row_number() over (partition by hashed.row_hash order by hashed.source_line)
        {%- if is_incremental() %} + coalesce(built_copies.copies, 0){% endif %} as copy_number
    from hashed
    {% if is_incremental() %}
    left join built_copies
        on hashed.row_hash = built_copies.event_key
    {%- endif %}
),

typed as (
    select
        source.source_line,
        source.source_location,
        {{ raw_columns(raw) }},
        copies.row_hash,
        copies.copy_number,
        {{ parse_yyyymmdd('event_date') }} as event_date,
        {{ parse_integer('event_timestamp') }} as event_timestamp_us,
        source.event_name,
        source.user_pseudo_id,
        source.user_id,
        {{ parse_integer('ga_session_id') }} as ga_session_id,
        {{ parse_integer('ga_session_number', dbt.type_int()) }} as ga_session_number,
        source.page_location,
        source.page_referrer,
        source.source,
        source.medium,
        source.campaign,
        source.device_category,
        source.geo_country,
        source.item_id,
        -- GA4 writes '(not set)' for a purchase sent without a transaction id: no transaction.
        case when trim(source.transaction_id) not in ('', '(not set)') then source.transaction_id end
            as transaction_id,
        {{ parse_money('purchase_revenue') }} as purchase_revenue,
        upper(source.currency) as currency
    from {{ 'new_source' if is_incremental() else 'source' }} as source
    inner join copies
        on source.source_line = copies.source_line
),

checked as (
    select
        *,
        {{ reject_check(checks) }}
    from typed
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
        source_location,
        row_hash as event_key,
        event_date,
        event_timestamp_us,
        -- Only in the window: an absurd value (rejected) would overflow the conversion.
        case
            when {{ micros_in_window('event_timestamp_us') }}
                then {{ micros_to_timestamptz('event_timestamp_us') }}
        end as event_at,
        event_name,
        user_pseudo_id,
        user_id,
        ga_session_id,
        {{ dbt.concat(['user_pseudo_id', "'-'", dbt.safe_cast('ga_session_id', dbt.type_string())]) }}
            as session_key,
        ga_session_number,
        page_location,
        page_referrer,
        source,
        medium,
        campaign,
        device_category,
        geo_country,
        item_id,
        transaction_id,
        purchase_revenue,
        currency,
        {{ rejection_output(raw) }}
    from validated
)

select * from final
