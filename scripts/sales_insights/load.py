"""Load a directory of raw-contract CSVs into the warehouse's `raw` schema with DuckDB's CSV reader.

Every value is loaded as text; typing and row-level checks belong to the staging models, which keep the
rows they cannot use in the rejects table. What the loader refuses is what no row-level rule can recover:
a missing file, a missing column, a header that is not the contract's, an empty table, a row whose
fields do not line up with the header (wrong delimiter, a stray quote, a truncated last line) or text
that is not UTF-8. Each refusal names the file, the column and the line numbers. Columns may come in any
order; extra columns are left out with a warning.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .contract import TABLES, Table
from .errors import SalesInsightsError, format_rows

RAW_SCHEMA = "raw"
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class LoadReport:
    data_dir: Path
    row_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_header(path: Path, table: Table) -> list[str]:
    """The header of a contract CSV, checked against the contract; raises on any mismatch."""
    if not path.is_file():
        raise SalesInsightsError(f"{path}: file not found; the raw-data contract needs {table.file_name}")
    with path.open("rb") as handle:
        first = handle.readline()
    if not first.strip():
        raise SalesInsightsError(f"{path}: the file is empty; it needs a header row with the columns "
                                 f"{', '.join(table.column_names)}")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SalesInsightsError(f"{path}: line 1 (header) is not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from exc
    header = next(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in header]
    if len(header) == 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                raise SalesInsightsError(
                    f"{path}: line 1 (header) is separated by {name}s; the contract needs commas"
                )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise SalesInsightsError(f"{path}: header names column(s) {', '.join(duplicated)} more than once")
    missing = [c for c in table.required_columns if c not in header]
    if missing:
        raise SalesInsightsError(
            f"{path}: missing required column(s) {', '.join(missing)} in the header (line 1); "
            f"found: {', '.join(header)}"
        )
    return header


def load_table(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, schema: str = RAW_SCHEMA
) -> tuple[int, list[str]]:
    """Load one CSV as text columns in contract order; returns (rows, warnings)."""
    header = read_header(path, table)
    warnings = []
    extra = [h for h in header if h not in table.column_names]
    if extra:
        warnings.append(f"{path}: extra column(s) {', '.join(extra)} ignored (not in the raw-data contract)")
    columns = "{" + ", ".join(f"{_sql_string(h)}: 'VARCHAR'" for h in header) + "}"
    rejects = f"_load_rejects_{table.name}"
    reader = (
        f"read_csv({_sql_string(str(path))}, header = true, auto_detect = false, columns = {columns}, "
        f"delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{rejects}_scan')"
    )
    select = ", ".join(f'"{c}"' for c in table.column_names)
    target = f'"{schema}"."{table.name}"'
    try:
        con.execute(f"create or replace table {target} as select {select} from {reader}")
    except duckdb.Error as exc:
        raise SalesInsightsError(f"{path}: could not be read as CSV: {exc}") from exc
    bad = con.execute(
        f"select line, column_name, error_type, error_message from {rejects} order by line"
    ).fetchall()
    if bad:
        con.execute(f"drop table {target}")
        # DuckDB lists a row once per problem (a truncated row once per missing column): count lines.
        lines = sorted({int(r[0]) for r in bad})
        kinds = sorted({r[2] for r in bad})
        first_line, column, _, message = bad[0]
        where = f", column {column}" if column else ""
        raise SalesInsightsError(
            f"{path}: {len(lines)} malformed row(s) at line(s) {format_rows(lines)} ({', '.join(kinds)}); "
            f"first, line {first_line}{where}: {message}. Nothing was loaded; fix the file and load again."
        )
    rows = con.execute(f"select count(*) from {target}").fetchone()[0]
    if rows == 0 and not table.may_be_empty:
        con.execute(f"drop table {target}")
        raise SalesInsightsError(f"{path}: has a header but no rows; {table.name} must have at least one row")
    return rows, warnings


def load_data_dir(con: duckdb.DuckDBPyConnection, data_dir: Path | str, schema: str = RAW_SCHEMA) -> LoadReport:
    """Load all seven contract tables from data_dir into `schema`. All files are checked before any load."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise SalesInsightsError(f"{data_dir}: data directory not found")
    missing = [t.file_name for t in TABLES if not (data_dir / t.file_name).is_file()]
    if missing:
        raise SalesInsightsError(f"{data_dir}: missing file(s) {', '.join(missing)} (the raw-data contract "
                                 f"needs one CSV per table)")
    for t in TABLES:
        read_header(data_dir / t.file_name, t)
    report = LoadReport(data_dir)
    con.execute(f'create schema if not exists "{schema}"')
    for t in TABLES:
        rows, warnings = load_table(con, data_dir / t.file_name, t, schema)
        report.row_counts[t.name] = rows
        report.warnings.extend(warnings)
    return report
