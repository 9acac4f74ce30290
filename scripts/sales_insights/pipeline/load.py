"""Load a directory of raw-contract CSVs into the warehouse's `raw` schema with DuckDB's CSV reader (GA4's
BigQuery export and Shopify's bulk and Fivetran layouts, where a directory holds them instead of the CSVs,
are loaded by ga4_export and shopify_layouts).

Every value is loaded as text; typing and row-level checks belong to the staging models, which keep the
rows they cannot use in the rejects table. What the loader refuses is what no row-level rule can recover:
a missing file, a missing column, a header that is not the contract's, an empty table, a row whose
fields do not line up with the header (wrong delimiter, a stray quote, a truncated last line) or text
that is not UTF-8. Each refusal names the file, the column and the line numbers. Columns may come in any
order; extra columns are left out with a warning.

A file that grew by appending (the way a daily extract grows) is not read again: the loader keeps, in
`meta.raw_files`, each table's file size, line count and sha256. When the file on disk starts with
exactly the bytes loaded before and those ended with a line break, only the new lines are read and
appended to the raw table; any other change (a rewritten row, a shorter file, a new header) reloads the
whole file. The report names the tables loaded by appending, so the build can process only their new rows.

A row is named by the physical line of the file it starts on, line breaks inside quoted fields counted:
in the loader's messages, and through `meta.raw_line_offsets` in staging.stg_rejected_rows (raw_lines).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import duckdb

from sales_insights.config import ShopConfig, default_project_dir, load_shop_config
from sales_insights.errors import SalesInsightsError, format_rows
from sales_insights.pipeline.fivetran_shopify import load_fivetran
from sales_insights.pipeline.ga4_export import EXPORT_DIR, drop_export, has_export, load_export
from sales_insights.pipeline.raw_lines import (
    LineRange,
    add_ranges,
    drop_ranges,
    ends_with_line_break,
    has_extra_lines,
    has_ranges,
    physical_lines,
    record_line_ranges,
)
from sales_insights.pipeline.shopify_layouts import (
    BULK_DIR,
    FIVETRAN_DIR,
    SHOPIFY_TABLES,
    drop_locations,
    load_bulk,
    shopify_layout,
)
from sales_insights.quality.raw_contract import (
    GA4_FUNNEL_REPORT,
    GA4_GRAIN_TABLES,
    GENERATOR_FILE,
    PLANTED_LOSSES,
    TABLES,
    TABLES_BY_NAME,
    Table,
)
from sales_insights.sql import sql_identifier, sql_string

RAW_SCHEMA = "raw"
# What the loader read from each file, to recognise an append next time.
FILES_TABLE = "meta.raw_files"
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
_CHUNK = 1 << 23
# A header row longer than this is not one (the contract's longest is under 1 KB).
_MAX_HEADER_BYTES = 1 << 16


@dataclass
class LoadReport:
    data_dir: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Tables loaded by appending the file's new lines to the rows already loaded: rows appended.
    appended_rows: dict[str, int] = field(default_factory=dict)
    # How GA4 came: "events" (raw_ga4_events.csv or ga4_export/) or "report" (ga4_funnel_report.csv).
    ga4_grain: str = "events"
    # How GA4's events came: "csv" (raw_ga4_events.csv) or "export" (ga4_export/, GA4's BigQuery export).
    ga4_layout: str = "csv"
    # How Shopify's tables came: "flat" (the raw_shopify_*.csv), "bulk" (shopify_bulk/) or "fivetran"
    # (fivetran_shopify/): shopify_layouts.
    shopify_layout: str = "flat"


def ga4_grain(data_dir: Path) -> str:
    """"events" when the directory has raw_ga4_events.csv or ga4_export/, "report" when it has
    ga4_funnel_report.csv. Raises when it has more than one of them."""
    found = [name for name, present in (
        ("raw_ga4_events.csv", (data_dir / f"{GA4_GRAIN_TABLES['events']}.csv").is_file()),
        (f"{EXPORT_DIR}/", has_export(data_dir)),
        ("ga4_funnel_report.csv", (data_dir / f"{GA4_GRAIN_TABLES['report']}.csv").is_file()),
    ) if present]
    if len(found) > 1:
        raise SalesInsightsError(
            f"{data_dir}: has {' and '.join(found)}; GA4 comes one way only: as events (raw_ga4_events.csv, or "
            f"GA4's BigQuery export in {EXPORT_DIR}/) or as a report (ga4_funnel_report.csv): keep one"
        )
    return "report" if found == ["ga4_funnel_report.csv"] else "events"


def ga4_layout(data_dir: Path) -> str:
    """"export" when GA4's events come as the BigQuery export's files (ga4_export/), else "csv"."""
    return "export" if ga4_grain(data_dir) == "events" and has_export(data_dir) else "csv"


def grain_tables(grain: str) -> tuple[list[Table], Table]:
    """The tables a data directory of this GA4 grain holds, and the GA4 table of the other grain (loaded
    empty, so every model has its input)."""
    if grain == "report":
        return ([GA4_FUNNEL_REPORT if t.name == GA4_GRAIN_TABLES["events"] else t for t in TABLES],
                TABLES_BY_NAME[GA4_GRAIN_TABLES["events"]])
    return list(TABLES), GA4_FUNNEL_REPORT


@dataclass(frozen=True)
class FileState:
    """What was loaded from a file: its first `size` bytes, holding `lines` line breaks, and their sha256."""

    size: int
    lines: int
    sha256: str


def _stat(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def _hash_prefix(path: Path, size: int) -> tuple[hashlib._Hash, int]:
    """A sha256 of the first `size` bytes of `path`, not finalised (more may be added), and their line breaks."""
    digest = hashlib.sha256()
    lines = 0
    with path.open("rb") as handle:
        remaining = size
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise SalesInsightsError(f"{path}: changed while it was being read")
            digest.update(chunk)
            lines += chunk.count(b"\n")
            remaining -= len(chunk)
    return digest, lines


def file_state(path: Path) -> FileState:
    size = path.stat().st_size
    digest, lines = _hash_prefix(path, size)
    return FileState(size=size, lines=lines, sha256=digest.hexdigest())


def read_header(path: Path, table: Table) -> list[str]:
    """The header of a contract CSV, checked against the contract; raises on any mismatch.

    A file that is not the contract's CSV (a symlink to /etc/passwd, a binary file, another export) is
    refused without echoing any of its content: the message names the file, the columns the contract
    expects and, of those, the ones it found, never the rest of its first line. Its first line is read up
    to _MAX_HEADER_BYTES, so a file without line breaks is not read whole to find out."""
    if not path.is_file():
        raise SalesInsightsError(f"{path}: file not found; the raw-data contract needs {table.file_name}")
    with path.open("rb") as handle:
        first = handle.readline(_MAX_HEADER_BYTES + 1)
    if not first.strip():
        raise SalesInsightsError(f"{path}: the file is empty; it needs a header row with the columns "
                                 f"{', '.join(table.column_names)}")
    if len(first) > _MAX_HEADER_BYTES:
        raise SalesInsightsError(f"{path}: line 1 is longer than {_MAX_HEADER_BYTES:,} bytes, so it is not a header "
                                 f"row; {table.file_name} starts with the columns {', '.join(table.column_names)}")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SalesInsightsError(f"{path}: line 1 (header) is not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from exc
    header = next(csv.reader(io.StringIO(text)), [])
    header = [h.strip() for h in header]
    if len(header) == 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                raise SalesInsightsError(
                    f"{path}: line 1 (header) is separated by {name}s; the contract needs commas"
                )
    missing = [c for c in table.required_columns if c not in header]
    if missing:
        found = [c for c in table.column_names if c in header]
        raise SalesInsightsError(
            f"{path}: not the raw-data contract's {table.file_name}: its header (line 1) is missing required "
            f"column(s) {', '.join(missing)}; the contract's columns are {', '.join(table.column_names)}, of which "
            + (f"it has {', '.join(found)}" if found else "it has none")
        )
    # Every required column is there: the file is the contract's, and a column it repeats may be named (one
    # outside the contract as well: the warning about extra columns names them too).
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise SalesInsightsError(f"{path}: header names column(s) {', '.join(duplicated)} more than once")
    return header


def _reader(path: Path, header: list[str], rejects: str) -> str:
    columns = "{" + ", ".join(f"{sql_string(h)}: 'VARCHAR'" for h in header) + "}"
    return (
        f"read_csv({sql_string(str(path))}, header = true, auto_detect = false, columns = {columns}, "
        f"delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        f"store_rejects = true, rejects_table = {sql_string(rejects)}, rejects_scan = {sql_string(rejects + '_scan')})"
    )


def _check_rejects(con: duckdb.DuckDBPyConnection, path: Path, rejects: str, read: Path, line_shift: int) -> None:
    """Raise, naming the file's lines, if the CSV reader set rows aside as malformed. `read` is the file
    DuckDB read, whose line n is line n + line_shift of `path`. DuckDB's own line number counts records,
    not line breaks: a row is located by the byte DuckDB says it starts at."""
    bad = con.execute(
        f"select line, line_byte_position, column_name, error_type, error_message from {rejects} "
        f"order by line"
    ).fetchall()
    if not bad:
        return
    starts = physical_lines(read, [int(r[1]) - 1 for r in bad if r[1] is not None])

    def line_of(row: tuple) -> int:
        # line_byte_position counts from 1; without one, DuckDB's record line is the best there is
        return (starts[int(row[1]) - 1] if row[1] is not None else int(row[0])) + line_shift

    # DuckDB lists a row once per problem (a truncated row once per missing column): count lines.
    lines = sorted({line_of(r) for r in bad})
    kinds = sorted({r[3] for r in bad})
    first = min(bad, key=line_of)
    where = f", column {first[2]}" if first[2] else ""
    raise SalesInsightsError(
        f"{path}: {len(lines)} malformed row(s) at line(s) {format_rows(lines)} ({', '.join(kinds)}); "
        f"first, line {line_of(first)}{where}: {first[4]}. Nothing was loaded; fix the file and "
        f"load again."
    )


def _previous_state(con: duckdb.DuckDBPyConnection, table: Table, target: str) -> tuple[FileState, int] | None:
    """The file state and row count of the last load of `table`, if its rows are all still in `target`."""
    try:
        row = con.execute(
            f"select size, lines, sha256, rows from {FILES_TABLE} where table_name = ?", [table.name]
        ).fetchone()
        if row is None:
            return None
        rows = con.execute(f"select count(*) from {target}").fetchone()[0]
    except duckdb.CatalogException:
        return None
    size, lines, sha256, loaded_rows = row
    if rows != loaded_rows:
        return None
    return FileState(size=size, lines=lines, sha256=sha256), loaded_rows


def _record_state(con: duckdb.DuckDBPyConnection, table: Table, path: Path, state: FileState, rows: int) -> None:
    con.execute("create schema if not exists meta")
    con.execute(
        f"create table if not exists {FILES_TABLE} (table_name varchar primary key, file_path varchar, "
        f"size bigint, lines bigint, sha256 varchar, rows bigint, loaded_at timestamptz)"
    )
    con.execute(f"delete from {FILES_TABLE} where table_name = ?", [table.name])
    con.execute(
        f"insert into {FILES_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
        [table.name, str(path.resolve()), state.size, state.lines, state.sha256, rows, datetime.now(UTC)],
    )


def _matching_prefix(path: Path, previous: FileState) -> hashlib._Hash | None:
    """When `path` starts with exactly the bytes loaded as `previous` and they end with a line break (so
    the file only grew by whole lines), the running sha256 of those bytes; else None."""
    if previous.size == 0 or path.stat().st_size < previous.size:
        return None
    with path.open("rb") as handle:
        handle.seek(previous.size - 1)
        if handle.read(1) != b"\n":
            return None
    digest, _ = _hash_prefix(path, previous.size)
    return digest if digest.hexdigest() == previous.sha256 else None


def _copy_tail(path: Path, offset: int, out: IO[bytes], digest: hashlib._Hash) -> tuple[int, int]:
    """Copy `path` from byte `offset` to its end into `out`, adding it to `digest`; returns (bytes, line breaks)."""
    size = lines = 0
    with path.open("rb") as handle:
        handle.seek(offset)
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines


def load_table(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, schema: str = RAW_SCHEMA
) -> tuple[int, list[str], int | None]:
    """Load one CSV as text columns in contract order; returns (rows, warnings, rows appended), the last
    None when the whole file was loaded."""
    header = read_header(path, table)
    unchanged = _stat(path)
    warnings = []
    extra = [h for h in header if h not in table.column_names]
    if extra:
        warnings.append(f"{path}: extra column(s) {', '.join(extra)} ignored (not in the raw-data contract)")
    rejects = f"_load_rejects_{table.name}"
    select = ", ".join(sql_identifier(c) for c in table.column_names)
    target = f"{sql_identifier(schema)}.{sql_identifier(table.name)}"
    previous = _previous_state(con, table, target)
    digest = _matching_prefix(path, previous[0]) if previous else None
    if previous is not None and digest is not None:
        # More line breaks than records in the rows loaded, but no ranges: loaded before the loader kept
        # them (or the csv module could not read it). The file is located whole once the tail is in. (The
        # bytes loaded end with a line break: _matching_prefix saw to it.)
        relocate = has_extra_lines(previous[0].lines, previous[1], True) and not has_ranges(con, table.name)
        state, appended, ranges = _append(con, path, header, previous, digest, target, select, rejects,
                                          None if relocate else warnings)
        rows = previous[1] + appended
        if relocate:
            ranges = _line_ranges(path, path, header, state.lines, rows, warnings)
        replace = relocate
    else:
        appended = None
        # The file's sha256 is taken while DuckDB reads it (both release the GIL): at 10M events the
        # hash alone takes about 1.5 s.
        with ThreadPoolExecutor(max_workers=1) as pool:
            hashed = pool.submit(file_state, path)
            try:
                con.execute(
                    f"create or replace table {target} as select {select} from {_reader(path, header, rejects)}"
                )
            except duckdb.Error as exc:
                raise SalesInsightsError(f"{path}: could not be read as CSV: {exc}") from exc
            state = hashed.result()
        try:
            _check_rejects(con, path, rejects, path, 0)
        except SalesInsightsError:
            con.execute(f"drop table {target}")
            raise
        rows = con.execute(f"select count(*) from {target}").fetchone()[0]
        ranges, replace = _line_ranges(path, path, header, state.lines, rows, warnings), True
    if rows == 0 and not table.may_be_empty:
        con.execute(f"drop table {target}")
        raise SalesInsightsError(f"{path}: has a header but no rows; {table.name} must have at least one row")
    if _stat(path) != unchanged:
        # the rows loaded and the bytes hashed may not be the same: neither can be trusted
        raise SalesInsightsError(f"{path}: changed while it was being loaded; load again once it is complete")
    _record_state(con, table, path, state, rows)
    if replace:
        drop_ranges(con, table.name)
    add_ranges(con, table.name, ranges)
    return rows, warnings, appended


def _line_ranges(
    path: Path, read: Path, header: list[str], line_breaks: int, records: int, warnings: list[str],
    first_record_line: int = 2, line_shift: int = 0,
) -> list[LineRange]:
    """The records of `read` (a header, then `records` records in `line_breaks` line breaks) that do not
    start on their record line, as ranges (raw_lines). The k-th record's record line is first_record_line
    + k; `read`'s line n is line n + line_shift of `path`. The file is read again only when its line
    breaks are more than the records need; when the csv module cannot find the same records as DuckDB,
    no range is kept and a warning says so."""
    if not has_extra_lines(line_breaks, records, ends_with_line_break(read)):
        # the records run one a line from `read`'s line 2
        extra = 2 + line_shift - first_record_line
        return [LineRange(first_record_line, first_record_line + records - 1, extra)] if extra and records else []
    try:
        ranges, found = record_line_ranges(read, len(header), first_record_line, line_shift)
        problem = None if found == records else f"Python's csv module reads {found:,} rows, DuckDB {records:,}"
    except csv.Error as exc:
        ranges, problem = [], f"Python's csv module cannot read it: {exc}"
    if problem is None:
        return ranges
    warnings.append(
        f"{path}: the lines its rows start on are unknown ({problem}); past line {line_shift + 1}, "
        f"staging.stg_rejected_rows names a row by its record number (row n as line n + 1), not by its line"
    )
    return []


def _scratch_dir(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The directory of the database file (room like the warehouse's), or None (the system's) in memory."""
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    return Path(path).parent if path else None


def _append(
    con: duckdb.DuckDBPyConnection, path: Path, header: list[str], previous: tuple[FileState, int],
    digest: hashlib._Hash, target: str, select: str, rejects: str, warnings: list[str] | None,
) -> tuple[FileState, int, list[LineRange]]:
    """Append the rows past what was loaded as `previous` (the file's state then and the rows loaded; the
    running sha256 of those bytes is `digest`) to `target`, in one transaction; returns the file's new
    state, the rows appended and the ranges of the new rows that do not start on their record line (none
    looked for without `warnings`, the list their warning goes to)."""
    before, before_rows = previous
    with path.open("rb") as handle:
        first_line = handle.readline()
    with tempfile.NamedTemporaryFile(prefix=f".{path.stem}.", suffix=".csv", dir=_scratch_dir(con)) as part:
        part.write(first_line)
        size, lines = _copy_tail(path, before.size, part, digest)
        part.flush()
        state = FileState(size=before.size + size, lines=before.lines + lines, sha256=digest.hexdigest())
        if size == 0:
            return state, 0, []
        con.execute("begin transaction")
        try:
            try:
                appended = con.execute(
                    f"insert into {target} select {select} from {_reader(Path(part.name), header, rejects)}"
                ).fetchone()[0]
            except duckdb.Error as exc:
                raise SalesInsightsError(
                    f"{path}: its lines after line {before.lines} could not be read as CSV: {exc}"
                ) from exc
            # the part's line 2 is the file's line before.lines + 1
            _check_rejects(con, path, rejects, Path(part.name), before.lines - 1)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        if warnings is None:
            return state, appended, []
        ranges = _line_ranges(path, Path(part.name), header, 1 + lines, appended, warnings,
                              first_record_line=before_rows + 2, line_shift=before.lines - 1)
    return state, appended, ranges


def load_data_dir(con: duckdb.DuckDBPyConnection, data_dir: Path | str, schema: str = RAW_SCHEMA,
                  shop: ShopConfig | None = None) -> LoadReport:
    """Load the seven contract tables from data_dir into `schema` (GA4 as events or as a report; the GA4
    table of the other grain is created empty; Shopify in any of its layouts, checked against `shop`, by
    default the project's settings). All contract files are checked before any load."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise SalesInsightsError(f"{data_dir}: data directory not found")
    grain = ga4_grain(data_dir)
    layout = ga4_layout(data_dir)
    shopify = shopify_layout(data_dir)
    tables, other = grain_tables(grain)
    if layout == "export":
        # GA4's events come nested, from ga4_export/; the dbt model base_ga4__export_events flattens them
        # into raw.raw_ga4_events.
        tables = [t for t in tables if t.name != GA4_GRAIN_TABLES["events"]]
    if shopify != "flat":
        tables = [t for t in tables if t.source != "shopify"]
    _check_files(data_dir, tables, shopify)
    report = LoadReport(data_dir, ga4_grain=grain, ga4_layout=layout, shopify_layout=shopify)
    con.execute(f"create schema if not exists {sql_identifier(schema)}")
    columns = ", ".join(f"{sql_identifier(c)} varchar" for c in other.column_names)
    con.execute(f"create or replace table {sql_identifier(schema)}.{sql_identifier(other.name)} ({columns})")
    # It was not loaded from a file: an incremental load of it next time has nothing to start from.
    with contextlib.suppress(duckdb.CatalogException):
        con.execute(f"delete from {FILES_TABLE} where table_name = ?", [other.name])
    drop_ranges(con, other.name)
    report.row_counts[other.name] = 0
    if layout == "export":
        rows, warnings = load_export(con, data_dir / EXPORT_DIR, schema)
        report.row_counts[GA4_GRAIN_TABLES["events"]] = rows
        report.warnings.extend(warnings)
        # raw_ga4_events is dbt's flattening of the export now: a CSV load next time starts afresh.
        with contextlib.suppress(duckdb.CatalogException):
            con.execute(f"delete from {FILES_TABLE} where table_name = ?", [GA4_GRAIN_TABLES["events"]])
        # its source_line numbers the export's events, not a CSV's lines
        drop_ranges(con, GA4_GRAIN_TABLES["events"])
    else:
        # An export loaded by an earlier build of this warehouse is not this build's data.
        drop_export(con, schema)
    for t in tables:
        rows, warnings, appended = load_table(con, data_dir / t.file_name, t, schema)
        report.row_counts[t.name] = rows
        report.warnings.extend(warnings)
        if appended is not None:
            report.appended_rows[t.name] = appended
    _load_shopify_layout(con, data_dir, schema, report, shop)
    if schema == RAW_SCHEMA:
        _record_source(con, data_dir, grain, layout)
    return report


def _check_files(data_dir: Path, tables: list[Table], shopify: str) -> None:
    """Raise unless every contract CSV to load is there with the contract's header."""
    missing = [t.file_name for t in tables if not (data_dir / t.file_name).is_file()]
    if missing:
        events = GA4_GRAIN_TABLES["events"] + ".csv"
        missing = [f"{m} (or {EXPORT_DIR}/, GA4's BigQuery export, or ga4_funnel_report.csv, GA4 at report grain)"
                   if m == events else m for m in missing]
        if shopify == "flat" and any(t.file_name in missing for t in SHOPIFY_TABLES):
            missing.append(f"or in place of the Shopify CSVs {BULK_DIR}/ (Bulk Operation JSONL) or {FIVETRAN_DIR}/ "
                           "(Fivetran's tables)")
        raise SalesInsightsError(f"{data_dir}: missing file(s) {', '.join(missing)} (the raw-data contract "
                                 f"needs one CSV per table)")
    for t in tables:
        read_header(data_dir / t.file_name, t)


def _load_shopify_layout(con: duckdb.DuckDBPyConnection, data_dir: Path, schema: str, report: LoadReport,
                         shop: ShopConfig | None) -> None:
    """The Shopify tables of a bulk or Fivetran layout (the flat files are loaded with the rest); what the
    loader kept of another layout's rows (their locations, or the flat files' states and line ranges) goes."""
    if report.shopify_layout == "flat":
        drop_locations(con, [t.name for t in SHOPIFY_TABLES])
        return
    shop = shop or load_shop_config(default_project_dir())
    if report.shopify_layout == "bulk":
        counts, warnings = load_bulk(con, data_dir / BULK_DIR, schema, shop), []
    else:
        counts, warnings = load_fivetran(con, data_dir / FIVETRAN_DIR, schema, shop)
    report.row_counts.update(counts)
    report.warnings.extend(warnings)
    for t in SHOPIFY_TABLES:
        # loaded whole from another layout: an append to a flat file next time has nothing to start from
        with contextlib.suppress(duckdb.CatalogException):
            con.execute(f"delete from {FILES_TABLE} where table_name = ?", [t.name])
        drop_ranges(con, t.name)


def _record_source(con: duckdb.DuckDBPyConnection, data_dir: Path, grain: str, layout: str) -> None:
    """meta.raw_source: the directory the raw schema holds. dbt's hooks name a run's data source by it, so a
    model built from another directory (or layout, or grain) is never built on incrementally."""
    con.execute("create schema if not exists meta")
    con.execute(
        "create or replace table meta.raw_source as select ? as data_path, ? as ga4_grain, ? as ga4_layout, "
        "? as loaded_at", [str(data_dir.resolve()), grain, layout, datetime.now(UTC)],
    )
    con.execute(f"create or replace table {PLANTED_TABLE} (source_table varchar primary key, rows bigint)")
    planted = planted_losses(data_dir)
    if planted:
        con.executemany(f"insert into {PLANTED_TABLE} values (?, ?)", sorted(planted.items()))


# The rows of each raw table that the mock generator broke on purpose (planted_losses); empty for any other
# directory. The contract gate allows them on top of its share of the table (validate.row_loss).
PLANTED_TABLE = "meta.planted_losses"


def planted_losses(data_dir: Path) -> dict[str, int]:
    """Per raw table, the rows the generator that wrote data_dir broke on purpose, from its generator.json;
    {} when there is none, or it does not say (then nothing is allowed for them)."""
    try:
        recorded = json.loads((data_dir / GENERATOR_FILE).read_text(encoding="utf-8")).get(PLANTED_LOSSES)
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(recorded, dict):
        return {}
    return {table: rows for table, rows in recorded.items()
            if table in TABLES_BY_NAME and isinstance(rows, int) and not isinstance(rows, bool) and rows > 0}
