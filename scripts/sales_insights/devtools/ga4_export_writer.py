"""Writes GA4 events of the raw-data contract's flat shape (raw_ga4_events.csv) as GA4's BigQuery export
would hold them: day tables in a ga4_export/ folder, nested as Google's "BigQuery Export schema" says.

The generator uses it for `generate --ga4-format export`, and the tests for building one store both ways.
One DuckDB query nests every event: the flat columns become event parameters (ga_session_id,
ga_session_number, page_location, page_referrer, source, medium, campaign, currency), device.category,
geo.country, ecommerce (transaction_id, purchase_revenue) and an items array, plus the batch fields that
order the events of one session sharing a timestamp (in the CSV's line order, so that both layouts tell
them apart alike). What real exports show, on purpose:
- the source sits on only some events of a session (as in the CSV), and on a share of them only in
  collected_traffic_source, not in the event parameters;
- events without an item have an empty items array, events without ecommerce a null ecommerce;
- Parquet holds integers as INT64; newline-delimited JSON holds them as strings, as BigQuery's JSON export
  writes INT64, and is gzipped and sharded as an export job to Cloud Storage writes it
  (events_YYYYMMDD-000000000000.json.gz, ...);
- the last day comes only as an intraday table (streaming export, day not yet complete), and the day
  before has an intraday table too that its daily table replaces (holding part of the day's events).
An event whose timestamp is not a number keeps it in JSON (a string) and has none in Parquet (INT64).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from sales_insights.quality.raw_contract import TABLES_BY_NAME
from sales_insights.sql import sql_string

FORMATS = ("parquet", "json")
# Events of the CSV whose source is written only in collected_traffic_source: about one in five.
_COLLECTED_ONLY = "hash(user_pseudo_id || ga_session_id || event_timestamp) % 5 = 0"


def _event_params(integer: str) -> list[str]:
    """SQL: the event_params entries of an export row (null for a CSV column without a value)."""
    def param(key: str, column: str, kind: str = "string") -> str:
        value = (f"{{'string_value': {column}, 'int_value': null::{integer}, 'float_value': null::double, "
                 f"'double_value': null::double}}" if kind == "string" else
                 f"{{'string_value': null::varchar, 'int_value': try_cast({column} as {integer}), "
                 f"'float_value': null::double, 'double_value': null::double}}")
        return f"case when {column} is not null then {{'key': '{key}', 'value': {value}}} end"

    return [
        param("ga_session_id", "ga_session_id", "int"),
        param("ga_session_number", "ga_session_number", "int"),
        param("page_location", "page_location"),
        param("page_referrer", "page_referrer"),
        param("source", f"case when not ({_COLLECTED_ONLY}) then source end"),
        param("medium", f"case when not ({_COLLECTED_ONLY}) then medium end"),
        param("campaign", f"case when not ({_COLLECTED_ONLY}) then campaign end"),
        param("currency", "currency"),
        # A parameter the project does not read, as every real event has some.
        "{'key': 'engaged_session_event', 'value': {'string_value': null::varchar, "
        f"'int_value': 1::{integer}, 'float_value': null::double, 'double_value': null::double}}}}",
    ]


def _batched_rows(csv_path: Path) -> str:
    """SQL: the CTEs reading the CSV's rows (with their line) into `batched`, with their batch fields."""
    reader = (f"read_csv({sql_string(str(csv_path))}, header = true, all_varchar = true, "
              "delim = ',', quote = '\"', escape = '\"')")
    return f"""
        with flat as (
            select *, row_number() over () as line from {reader}
        ),

        -- The batch fields: events of one session sharing a timestamp are one batch, their index in it
        -- the CSV's order (an exact copy of an event gets the index of the event it copies).
        copies as (
            select *, min(line) over (partition by {', '.join(TABLES_BY_NAME['raw_ga4_events'].column_names)})
                as first_copy_line
            from flat
        ),

        batched as (
            select
                *,
                dense_rank() over (
                    partition by user_pseudo_id, ga_session_id order by try_cast(event_timestamp as bigint)
                ) as batch_ordering_id,
                dense_rank() over (
                    partition by user_pseudo_id, ga_session_id, event_timestamp order by first_copy_line
                ) as batch_event_index
            from copies
        )"""


def _nested_query(csv_path: Path, integer: str) -> str:
    """One export row per CSV row, integers typed as `integer` (bigint for Parquet, varchar for JSON)."""
    params = _event_params(integer)
    return f"""{_batched_rows(csv_path)}

        select
            event_date,
            {'event_timestamp' if integer == 'varchar' else 'try_cast(event_timestamp as bigint)'} as event_timestamp,
            event_name,
            list_filter([{', '.join(params)}], lambda p: p is not null) as event_params,
            user_id,
            user_pseudo_id,
            {{'category': device_category, 'operating_system': null::varchar}} as device,
            {{'continent': null::varchar, 'country': geo_country}} as geo,
            -- The user's first touch, which a session's source must never be taken from.
            {{'name': '(referral)', 'medium': 'referral', 'source': 'first-touch.example.com'}} as traffic_source,
            case when source is not null and {_COLLECTED_ONLY} then {{
                'manual_source': source, 'manual_medium': medium, 'manual_campaign_name': campaign,
                'gclid': null::varchar
            }} end as collected_traffic_source,
            case when transaction_id is not null or purchase_revenue is not null then {{
                'transaction_id': transaction_id, 'purchase_revenue': try_cast(purchase_revenue as double)
            }} end as ecommerce,
            case when item_id is not null then [{{
                'item_id': item_id, 'quantity': 1::{integer}
            }}] else [] end as items,
            batch_ordering_id::{integer} as batch_page_id,
            batch_ordering_id::{integer} as batch_ordering_id,
            batch_event_index::{integer} as batch_event_index,
            'WEB' as platform,
            -- The day table of the event's date (an unreadable date goes with the first day, to be rejected).
            coalesce(
                case when regexp_full_match(event_date, '[0-9]{{8}}') then event_date end,
                min(case when regexp_full_match(event_date, '[0-9]{{8}}') then event_date end) over ()
            ) as _day,
            line as _line
        from batched
    """


def write_export(csv_path: Path, folder: Path, fmt: str = "parquet", shard_rows: int = 0) -> list[Path]:
    """Write the events of `csv_path` (a raw_ga4_events.csv) as export day tables in `folder`; returns the
    files. `shard_rows` > 0 splits a JSON day into shards of that many rows."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("set preserve_insertion_order = true")
        integer = "bigint" if fmt == "parquet" else "varchar"
        con.execute(f"create table export as {_nested_query(csv_path, integer)}")
        days = [row[0] for row in con.execute("select distinct _day from export order by _day").fetchall()]
        written = []
        for day in days:
            last, before_last = day == days[-1], len(days) > 1 and day == days[-2]
            tables = [("events_intraday_" if last else "events_", "true")]
            if before_last:  # an intraday table its daily table replaces: part of the day's events
                tables.append(("events_intraday_", "_line % 2 = 0"))
            for prefix, where in tables:
                rows = (f"select * exclude (_day, _line) from export where _day = {sql_string(str(day))} "
                        f"and {where} order by _line")
                written += _copy(con, rows, folder, f"{prefix}{day}", fmt, shard_rows)
        return written
    finally:
        con.close()


def _copy(con: duckdb.DuckDBPyConnection, rows: str, folder: Path, stem: str, fmt: str, shard_rows: int) -> list[Path]:
    if fmt == "parquet":
        path = folder / f"{stem}.parquet"
        con.execute(f"copy ({rows}) to {sql_string(str(path))} (format parquet)")
        return [path]
    count = con.execute(f"select count(*) from ({rows})").fetchone()[0]
    shards = max(1, -(-count // shard_rows)) if shard_rows > 0 else 1
    paths = []
    for shard in range(shards):
        path = folder / f"{stem}-{shard:012d}.json.gz"
        part = rows if shards == 1 else f"{rows} limit {shard_rows} offset {shard * shard_rows}"
        con.execute(f"copy ({part}) to {sql_string(str(path))} (format json, compression gzip)")
        paths.append(path)
    return paths
