"""GA4's BigQuery export as files: the `ga4_export/` folder of a data directory, loaded as it is.

GA4 writes one table a day to BigQuery, `events_YYYYMMDD`, and with streaming export an
`events_intraday_YYYYMMDD` that the daily table replaces once the day is complete. Exported to files (an
export job to Cloud Storage, or a copy of the tables), a day is one Parquet file or newline-delimited JSON
(optionally gzipped), and a large day is sharded: `events_20210131-000000000000.json.gz`, `...-000000000001...`.

The loader reads each file with DuckDB (read_parquet, read_json), never row by row in Python, into one raw
table, `raw.ga4_export_events`, nested as the export is: `event_params` and `items` stay arrays of structs,
`device`, `geo`, `ecommerce` and the traffic-source records stay structs. Like the CSV loader it types
nothing: every leaf value is loaded as text, so a value that cannot be read becomes a rejected row in
staging (with its file and row), not a failed load. The columns are those of Google's "BigQuery Export
schema" that the project reads; a column an older export lacks (collected_traffic_source arrived in 2023,
session_traffic_source_last_click in 2024, the batch_* fields in 2024) is loaded as null, and a struct that
lacks some of its fields gets them as null. The flattening to one row of the raw-data contract per event is
the dbt model base_ga4__export_events.

What it refuses, naming the file: a file in the folder that is not an export day table, a day's table
given twice (a file and shards, or two formats), a Parquet file that cannot be read or lacks the export's
required columns, a JSON file whose first record is not a GA4 event or that has a blank line (rows are
named by their line), a value of the wrong shape (a string where a struct belongs), and a folder with no
day tables.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sales_insights.errors import SalesInsightsError
from sales_insights.sql import sql_identifier, sql_string

EXPORT_DIR = "ga4_export"
EXPORT_TABLE = "ga4_export_events"
# One row per file of the folder: the day, whether it was an intraday table, its rows (null when a daily
# table of the same day replaced it).
EXPORT_FILES_TABLE = "ga4_export_files"

# events_YYYYMMDD or events_intraday_YYYYMMDD, an optional shard number, then the format.
_FILE_NAME = re.compile(
    r"^events_(?P<intraday>intraday_)?(?P<day>\d{8})(?:-(?P<shard>\d+))?"
    r"\.(?P<format>parquet|json|jsonl|ndjson)(?P<gz>\.gz)?$"
)


def _struct(*fields: str | tuple[str, str]) -> str:
    parts = [f'"{f}" VARCHAR' if isinstance(f, str) else f'"{f[0]}" {f[1]}' for f in fields]
    return "STRUCT(" + ", ".join(parts) + ")"


_CAMPAIGN_FIELDS = ("campaign_id", "campaign_name", "source", "medium", "term", "content")

# The export's columns that the project reads, with the type they are loaded as (every leaf as text).
COLUMNS: dict[str, str] = {
    "event_date": "VARCHAR",
    "event_timestamp": "VARCHAR",
    "event_name": "VARCHAR",
    "event_params": _struct(
        "key", ("value", _struct("string_value", "int_value", "float_value", "double_value"))) + "[]",
    "user_id": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "device": _struct("category", "operating_system", "language", ("web_info", _struct("browser", "hostname"))),
    "geo": _struct("continent", "sub_continent", "country", "region", "city"),
    # The user's first touch: kept, never used as a session's source.
    "traffic_source": _struct("name", "medium", "source"),
    "collected_traffic_source": _struct(
        "manual_campaign_id", "manual_campaign_name", "manual_source", "manual_medium", "manual_term",
        "manual_content", "gclid", "dclid", "srsltid"),
    "session_traffic_source_last_click": _struct(
        ("manual_campaign", _struct(*_CAMPAIGN_FIELDS)),
        ("cross_channel_campaign", _struct(*_CAMPAIGN_FIELDS, "default_channel_group"))),
    "ecommerce": _struct(
        "total_item_quantity", "purchase_revenue_in_usd", "purchase_revenue", "refund_value", "shipping_value",
        "tax_value", "unique_items", "transaction_id"),
    "items": _struct(
        "item_id", "item_name", "item_brand", "item_variant", "item_category", "price_in_usd", "price",
        "quantity", "item_revenue", "coupon", "item_list_id", "item_list_name", "item_list_index") + "[]",
    "batch_page_id": "VARCHAR",
    "batch_ordering_id": "VARCHAR",
    "batch_event_index": "VARCHAR",
    "platform": "VARCHAR",
    "stream_id": "VARCHAR",
}
# The largest event a JSON day table may hold on one line (DuckDB's maximum_object_size).
MAX_JSON_RECORD_BYTES = 1 << 26
# Without these a table is not a GA4 event export.
REQUIRED = ("event_date", "event_timestamp", "event_name", "user_pseudo_id")


@dataclass(frozen=True)
class ExportFile:
    path: Path
    day: str
    intraday: bool
    format: str  # parquet | json
    shard: str | None  # the shard number of a sharded table

    @property
    def name(self) -> str:
        return f"{EXPORT_DIR}/{self.path.name}"


def has_export(data_dir: Path) -> bool:
    return (data_dir / EXPORT_DIR).is_dir()


def export_files(folder: Path) -> tuple[list[ExportFile], list[ExportFile]]:
    """The day tables of `folder` in load order (by day, daily before intraday, then by name), and the
    intraday files that a daily table of the same day replaces. Raises on a file that is not a day table."""
    files, unknown = [], []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        match = _FILE_NAME.match(path.name)
        if not path.is_file() or match is None:
            unknown.append(path.name)
            continue
        fmt = "parquet" if match["format"] == "parquet" else "json"
        if fmt == "parquet" and match["gz"]:
            unknown.append(path.name)
            continue
        files.append(ExportFile(path, match["day"], bool(match["intraday"]), fmt, match["shard"]))
    if unknown:
        raise SalesInsightsError(
            f"{folder}: {', '.join(unknown)} is not a GA4 export day table; the folder holds only "
            "events_YYYYMMDD[-shard].parquet, events_YYYYMMDD[-shard].json[l][.gz] and their events_intraday_ "
            "versions"
        )
    if not files:
        raise SalesInsightsError(f"{folder}: no GA4 export day table (events_YYYYMMDD.parquet or .json[l][.gz])")
    _refuse_a_table_given_twice(folder, files)
    daily_days = {f.day for f in files if not f.intraday}
    used = [f for f in files if not (f.intraday and f.day in daily_days)]
    replaced = [f for f in files if f.intraday and f.day in daily_days]
    used.sort(key=lambda f: (f.day, f.intraday, f.path.name))
    return used, replaced


def _refuse_a_table_given_twice(folder: Path, files: list[ExportFile]) -> None:
    """A day's table comes as one file or as the shards of one export, in one format: anything else (a
    file and shards, two formats, .json beside .json.gz) would load its events twice."""
    tables: dict[tuple[str, bool], list[ExportFile]] = {}
    for file in files:
        tables.setdefault((file.day, file.intraday), []).append(file)
    for (day, intraday), parts in sorted(tables.items()):
        kinds = {(f.format, f.shard is None, f.path.name.endswith(".gz")) for f in parts}
        unsharded = [f for f in parts if f.shard is None]
        if len(kinds) > 1 or len(unsharded) > 1:
            table = f"events_{'intraday_' if intraday else ''}{day}"
            raise SalesInsightsError(
                f"{folder}: the table {table} comes more than once ({', '.join(f.path.name for f in parts)}), "
                "which would load its events twice; keep one file, or the shards of one export"
            )


def _parquet_select(con: duckdb.DuckDBPyConnection, file: ExportFile) -> str:
    reader = f"read_parquet({sql_string(str(file.path))})"
    try:
        found = {row[0] for row in con.execute(f"describe select * from {reader}").fetchall()}
    except duckdb.Error as exc:
        raise SalesInsightsError(f"{file.path}: cannot be read as Parquet: {exc}") from exc
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise SalesInsightsError(f"{file.path}: not a GA4 export table: missing column(s) {', '.join(missing)}"
                                 f"{_of_the_export(found)}")
    columns = [f"cast({sql_identifier(c) if c in found else 'null'} as {t}) as {sql_identifier(c)}"
               for c, t in COLUMNS.items()]
    return f"select {', '.join(columns)} from {reader}"


def _of_the_export(found) -> str:
    """"; of the export's columns it has a, b" (or "none of them"): what a refused file has of the export,
    never its other names, which belong to whatever file it is."""
    known = [c for c in COLUMNS if c in found]
    return f"; of the export's columns it has {', '.join(known) if known else 'none'}"


def _first_json_record(file: ExportFile) -> dict:
    """The first event of a JSON day table. A file that is not one is refused without echoing its content
    (gzip's own error quotes the file's first bytes, a decoding error the byte it failed on)."""
    try:
        with _open_bytes(file) as handle:
            line = handle.readline(MAX_JSON_RECORD_BYTES + 1)
    except gzip.BadGzipFile as exc:
        raise SalesInsightsError(f"{file.path}: cannot be read: its name ends .gz but it is not gzip data") from exc
    except EOFError as exc:
        raise SalesInsightsError(f"{file.path}: cannot be read: its gzip data ends before its end") from exc
    except OSError as exc:
        raise SalesInsightsError(f"{file.path}: cannot be read: {exc.strerror or type(exc).__name__}") from exc
    if len(line) > MAX_JSON_RECORD_BYTES:
        raise SalesInsightsError(f"{file.path}: line 1 is longer than {MAX_JSON_RECORD_BYTES:,} bytes, the most "
                                 "one GA4 event may take")
    try:
        first = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SalesInsightsError(f"{file.path}: line 1 is not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from exc
    if not first.strip():
        raise SalesInsightsError(f"{file.path}: line 1 is empty; a day table holds one JSON event a line")
    try:
        record = json.loads(first)
    except json.JSONDecodeError as exc:
        raise SalesInsightsError(f"{file.path}: line 1 is not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(record, dict):
        raise SalesInsightsError(f"{file.path}: line 1 is not a JSON object (one GA4 event a line)")
    return record


def _json_select(file: ExportFile) -> str:
    record = _first_json_record(file)
    missing = [c for c in REQUIRED if c not in record]
    if missing:
        raise SalesInsightsError(
            f"{file.path}: line 1 is not a GA4 export event: missing field(s) {', '.join(missing)}"
            f"{_of_the_export(record)}"
        )
    columns = "{" + ", ".join(f"{sql_string(c)}: {sql_string(t)}" for c, t in COLUMNS.items()) + "}"
    reader = (f"read_json({sql_string(str(file.path))}, format = 'newline_delimited', columns = {columns}, "
              f"maximum_object_size = {MAX_JSON_RECORD_BYTES})")
    return f"select * from {reader}"


def _open_bytes(file: ExportFile):
    opener = gzip.open if file.path.name.endswith(".gz") else open
    return opener(file.path, "rb")


def _refuse_blank_lines(file: ExportFile, records: int) -> None:
    """Rows are named by their line (row n is line n). DuckDB's JSON reader skips blank lines, which would
    shift every later line: a file with a blank line before its last event is refused, naming the line
    (blank lines at the end are harmless). Counting line breaks runs at C speed; the file is read line by
    line only to find the blank one."""
    breaks, trailing, last = 0, 0, b"\n"
    with _open_bytes(file) as handle:
        while chunk := handle.read(1 << 22):
            breaks += chunk.count(b"\n")
            stripped = chunk.rstrip(b"\n")
            trailing = (trailing + len(chunk)) if not stripped else len(chunk) - len(stripped)
            last = chunk[-1:]
    lines = breaks - max(trailing - 1, 0) + (0 if last == b"\n" else 1)
    if lines == records:
        return
    with _open_bytes(file) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                raise SalesInsightsError(f"{file.path}: line {number} is blank; a day table holds one JSON event a "
                                         "line, and rows are named by their line: remove the blank lines")
    raise SalesInsightsError(f"{file.path}: {lines} lines but {records} events were read; a day table holds one "
                             "JSON event a line")


def _load_file(con: duckdb.DuckDBPyConnection, file: ExportFile, target: str) -> int:
    """Append one day table to `target`, rows numbered in file order; returns the rows."""
    select = _parquet_select(con, file) if file.format == "parquet" else _json_select(file)
    con.execute("drop table if exists _ga4_export_file")
    try:
        # A table of the file alone: its row ids are the file's row order.
        con.execute(f"create temp table _ga4_export_file as {select}")
    except duckdb.Error as exc:
        raise SalesInsightsError(f"{file.path}: not readable as a GA4 export table: {exc}".strip()) from exc
    if file.format == "json":
        _refuse_blank_lines(file, con.execute("select count(*) from _ga4_export_file").fetchone()[0])
    columns = ", ".join(sql_identifier(c) for c in COLUMNS)
    rows = con.execute(
        f"insert into {target} select {sql_string(file.name)}, rowid + 1, {columns} "
        "from _ga4_export_file order by rowid"
    ).fetchone()[0]
    con.execute("drop table _ga4_export_file")
    return int(rows)


def load_export(con: duckdb.DuckDBPyConnection, folder: Path, schema: str) -> tuple[int, list[str]]:
    """Load every day table of `folder` into `schema`.ga4_export_events (and the list of files into
    `schema`.ga4_export_files); returns the rows loaded and warnings (the intraday tables replaced)."""
    used, replaced = export_files(folder)
    target = f"{sql_identifier(schema)}.{sql_identifier(EXPORT_TABLE)}"
    files_table = f"{sql_identifier(schema)}.{sql_identifier(EXPORT_FILES_TABLE)}"
    columns = ", ".join(f"{sql_identifier(c)} {t}" for c, t in COLUMNS.items())
    con.execute(f"create or replace table {target} (_source_file varchar, _source_row bigint, {columns})")
    con.execute(f"create or replace table {files_table} (file_name varchar, event_day varchar, "
                "is_intraday boolean, rows bigint, replaced_by_daily_table boolean)")
    total = 0
    for file in used:
        rows = _load_file(con, file, target)
        total += rows
        con.execute(f"insert into {files_table} values (?, ?, ?, ?, false)",
                    [file.name, file.day, file.intraday, rows])
    for file in replaced:
        con.execute(f"insert into {files_table} values (?, ?, true, null, true)", [file.name, file.day])
    if total == 0:
        raise SalesInsightsError(f"{folder}: its day tables hold no events")
    warnings = []
    if replaced:
        days = sorted({f.day for f in replaced})
        warnings.append(f"{folder}: {len(replaced)} intraday table file(s) of {', '.join(days)} not loaded: the "
                        "daily table of the same day replaces them, as in GA4's export")
    return total, warnings


def drop_export(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Remove a loaded export from `schema` (a build whose GA4 events come another way)."""
    for table in (EXPORT_TABLE, EXPORT_FILES_TABLE):
        con.execute(f"drop table if exists {sql_identifier(schema)}.{sql_identifier(table)}")
