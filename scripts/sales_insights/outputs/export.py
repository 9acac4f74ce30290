"""CSV exports of the marts: one folder per warehouse build, written whole or not at all.

Layout under the export directory:

    <build_id>/                  one folder per build (the build id starts with its UTC date and time)
        <mart>.csv               header row, ',' separated, ISO dates, UTC ISO timestamps, '.' decimals
        manifest.json            build id, times, neutralize_formulas, and per file: rows, columns, bytes, sha256
    <build_id>--<marts hash>/    an export of a chosen subset of marts (`--mart`)
    latest -> <build_id>         symlink to the newest complete export of every configured mart

A run writes into a hidden temporary folder and renames it into place at the end, so a reader never sees
a half-written file or folder; `latest` moves (an atomic symlink swap) only after that. A run that fails
removes its temporary folder and leaves earlier exports and `latest` as they were. Exporting the same
build again reuses the folder when its files still match their manifest. A lock keeps two exports of the
same directory from overlapping, and only the newest `keep_runs` folders are kept.

A text cell that a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage return)
is written with a leading single quote unless `[exports] neutralize_formulas` is false (see _cell).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.locks import exclusive_lock
from sales_insights.sql import sql_identifier

MANIFEST = "manifest.json"
LATEST = "latest"
MART_SCHEMA = "marts"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# OWASP's CSV injection guidance: a cell that starts with one of these is a formula to a spreadsheet (tab
# and carriage return too, which some strip before they read the rest), run when the file is opened.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The column types whose values are text in the CSV as the data gave them (numbers, dates and times are
# written by DuckDB and start with a digit or a minus sign that means a negative number).
TEXT_TYPES = ("VARCHAR",)


class ExportFailed(SalesInsightsError):
    pass


@dataclass
class ExportResult:
    run_dir: Path
    build_id: str
    files: list[dict]
    reused: bool
    is_complete: bool  # every configured mart: `latest` points here
    removed: list[Path] = field(default_factory=list)


def export_lock(out_dir: Path):
    return exclusive_lock(out_dir / ".export.lock", f"export into {out_dir}", ExportFailed)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _build_info(con: duckdb.DuckDBPyConnection, warehouse: Path) -> dict:
    try:
        row = con.execute("select build_id, built_at from meta.build_info").fetchone()
    except duckdb.CatalogException as exc:
        raise ExportFailed(f"{warehouse} has no meta.build_info: it was not published by `sales-insights build`, "
                           "so there is no build to export") from exc
    return {"build_id": row[0], "built_at": row[1].astimezone(UTC).isoformat()}


def _mart_columns(con: duckdb.DuckDBPyConnection, marts: list[str], warehouse: Path) -> dict[str, list[dict]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position", [MART_SCHEMA]
    ).fetchall()
    columns: dict[str, list[dict]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table, []).append({"name": column, "type": data_type})
    missing = [m for m in marts if m not in columns]
    if missing:
        raise ExportFailed(f"{warehouse}: no mart named {', '.join(missing)} in schema {MART_SCHEMA}; "
                           f"the marts are: {', '.join(sorted(columns))}")
    return {m: columns[m] for m in marts}


def read_manifest(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def verify_run(run_dir: Path) -> bool:
    """The folder has a manifest and every file it lists, byte for byte."""
    manifest = read_manifest(run_dir)
    return bool(manifest) and _files_match(run_dir, manifest)


def _files_match(run_dir: Path, manifest: dict) -> bool:
    """Every file `manifest` lists is in `run_dir`, byte for byte."""
    for entry in manifest.get("files", []):
        path = run_dir / entry["file"]
        if not path.is_file() or path.stat().st_size != entry["bytes"] or file_sha256(path) != entry["sha256"]:
            return False
    return True


def _run_name(build_id: str, marts: list[str], configured: list[str]) -> str:
    if marts == configured:
        return build_id
    return f"{build_id}--{hashlib.sha256(','.join(marts).encode()).hexdigest()[:8]}"


def _point_latest(out_dir: Path, run_name: str) -> None:
    temporary = out_dir / f".{LATEST}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(run_name, temporary)
    os.replace(temporary, out_dir / LATEST)


def latest_run(out_dir: Path) -> Path | None:
    link = out_dir / LATEST
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def _run_dirs(out_dir: Path) -> list[Path]:
    """The export folders: those with a manifest file (not `latest`, not a run's hidden temporary folder)."""
    if not out_dir.is_dir():
        return []
    return [p for p in out_dir.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
            and (p / MANIFEST).is_file()]


def export_runs(out_dir: Path) -> list[tuple[Path, dict]]:
    """Every export folder with its manifest, complete or of a subset of the marts."""
    return [(p, m) for p in _run_dirs(out_dir) if (m := read_manifest(p))]


def complete_runs(out_dir: Path) -> list[tuple[Path, dict]]:
    """Export folders of every configured mart (named after their build, see _run_name), with manifests."""
    return [(p, m) for p, m in export_runs(out_dir) if "--" not in p.name]


def is_text(data_type: str) -> bool:
    """A column whose CSV cells are text from the data (VARCHAR, or an ENUM of text labels)."""
    return data_type in TEXT_TYPES or data_type.startswith("ENUM(")


def _cell(column: dict, neutralize_formulas: bool) -> str:
    """The SQL of one column's CSV cells. With neutralize_formulas, a text cell starting with a formula
    character gets a single quote in front (OWASP's advice), so a spreadsheet shows it as text instead of
    running it; NULL stays empty, and numbers, dates and times are never touched (-12.50 in a decimal
    column stays a number). It is done in the SELECT of the COPY, so the mart is still streamed."""
    name = sql_identifier(column["name"])
    value = f"mart.{name}"
    if not (neutralize_formulas and is_text(column["type"])):
        return value
    prefixes = ", ".join(f"chr({ord(c)})" for c in FORMULA_PREFIXES)
    return f"case when left({value}, 1) in ({prefixes}) then chr(39) || {value} else {value} end as {name}"


def _write_run(con: duckdb.DuckDBPyConnection, staging: Path, columns: dict[str, list[dict]], info: dict,
               order_by: dict[str, tuple[str, ...]], on_progress: Callable[[str], None] | None,
               neutralize_formulas: bool) -> list[dict]:
    files = []
    for index, (mart, cols) in enumerate(columns.items(), start=1):
        path = staging / f"{mart}.csv"
        select = ", ".join(_cell(c, neutralize_formulas) for c in cols)
        unknown = [c for c in order_by.get(mart, ()) if c not in {col["name"] for col in cols}]
        if unknown:
            raise ExportFailed(f"exports order_by of {mart}: no column {', '.join(unknown)}")
        # Sorted then by every column, so that the same build always gives the same bytes; by the mart's own
        # values (mart.<column>), so neutralizing a cell never moves its row.
        first = list(order_by.get(mart, ()))
        order = ", ".join(f"mart.{sql_identifier(c)}"
                          for c in first + [c["name"] for c in cols if c["name"] not in first])
        # Streamed to the file by DuckDB's COPY, never held in memory. The path goes as a parameter: whatever
        # it holds (a quote, a semicolon) is a file name to DuckDB, never SQL.
        rows = con.execute(
            f"copy (select {select} from {MART_SCHEMA}.{sql_identifier(mart)} as mart order by {order}) to ? "
            f"(format csv, header true, delimiter ',', timestampformat '{TIMESTAMP_FORMAT}')", [str(path)]
        ).fetchone()[0]
        files.append({"mart": mart, "file": path.name, "rows": int(rows), "columns": cols,
                      "formula_neutralized_columns": [c["name"] for c in cols
                                                      if neutralize_formulas and is_text(c["type"])],
                      "bytes": path.stat().st_size, "sha256": file_sha256(path)})
        if on_progress:
            on_progress(f"exported {index}/{len(columns)} {mart}: {rows:,} rows")
    manifest = {
        "build_id": info["build_id"],
        "built_at": info["built_at"],
        "exported_at": datetime.now(UTC).isoformat(),
        "marts": list(columns),
        # Whether text cells starting with = + - @ tab or carriage return were given a leading ' (see _cell).
        "neutralize_formulas": neutralize_formulas,
        "files": files,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return files


def _prune(out_dir: Path, keep: int, protect: set[Path]) -> list[Path]:
    runs = sorted(_run_dirs(out_dir), key=lambda p: (read_manifest(p) or {}).get("exported_at", ""), reverse=True)
    removed = []
    for old in runs[max(keep, 1):]:
        if old.resolve() in protect:
            continue
        shutil.rmtree(old)
        removed.append(old)
    return removed


def export_marts(
    warehouse: Path,
    out_dir: Path,
    configured: list[str],
    marts: list[str] | None = None,
    keep_runs: int = 14,
    on_progress: Callable[[str], None] | None = None,
    order_by: dict[str, tuple[str, ...]] | None = None,
    neutralize_formulas: bool = True,
) -> ExportResult:
    """Export `marts` (default: every configured mart) of the warehouse's build into out_dir. With
    neutralize_formulas (the default; `[exports] neutralize_formulas` in sales_insights.toml), a text cell a
    spreadsheet would run as a formula is written with a leading single quote."""
    marts = list(dict.fromkeys(marts or configured))
    if not warehouse.exists():
        raise ExportFailed(f"no warehouse at {warehouse}: run `sales-insights run` (or `build`) first")
    out_dir = out_dir.resolve()
    with export_lock(out_dir):
        # One read-only connection: the file a build later publishes in its place does not change what it sees.
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            info = _build_info(con, warehouse)
            columns = _mart_columns(con, marts, warehouse)
            name = _run_name(info["build_id"], marts, configured)
            run_dir = out_dir / name
            complete = marts == configured
            # An earlier export of this build is reused only when it was written the same way (a manifest from
            # before the setting existed was written without neutralizing).
            earlier = read_manifest(run_dir)
            same_way = bool(earlier) and earlier.get("neutralize_formulas", False) == neutralize_formulas
            if same_way and _files_match(run_dir, earlier):
                if complete:
                    _point_latest(out_dir, name)
                return ExportResult(run_dir, info["build_id"], earlier.get("files", []), True, complete)
            staging = out_dir / f".tmp-{name}-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            try:
                files = _write_run(con, staging, columns, info, order_by or {}, on_progress, neutralize_formulas)
                if run_dir.exists():  # a damaged or differently written export of this build: replace it
                    trash = out_dir / f".trash-{name}-{os.getpid()}"
                    os.rename(run_dir, trash)
                    os.rename(staging, run_dir)
                    shutil.rmtree(trash, ignore_errors=True)
                else:
                    os.rename(staging, run_dir)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        except duckdb.Error as exc:
            raise ExportFailed(f"export of {warehouse} to {out_dir} failed, earlier exports untouched: {exc}") from exc
        finally:
            con.close()
        if complete:
            _point_latest(out_dir, name)
        removed = _prune(out_dir, keep_runs, {p for p in [latest_run(out_dir), run_dir.resolve()] if p})
        return ExportResult(run_dir, info["build_id"], files, False, complete, removed)
