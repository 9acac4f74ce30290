"""Build the warehouse: load raw data, run `dbt build` once, publish the new file atomically.

The build writes a new DuckDB file beside the published one and replaces it with os.replace only when
every model and test passed. When the published warehouse was built from the same data source by the
same project code (a fingerprint of the dbt project is kept in meta.build_info), the new file starts as a
copy of it, so incremental models only process what is new; otherwise it starts empty (a full build).
An analyst who has the old file open keeps reading the old file; a failed build leaves the published
warehouse exactly as it was. A lock file keeps two builds from overlapping.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

from .config import Settings
from .errors import SalesInsightsError
from .files import write_text_atomically
from .load import LoadReport, ga4_grain, load_data_dir
from .locks import exclusive_lock
from .sources import DataSource
from .validate import ContractsFailed, ValidationReport, failure_message, record_results, validate_build

MOCK_SEEDS_SELECTOR = "path:seeds/mock"
UNIT_TESTS_SELECTOR = "test_type:unit"
# What decides the content of the warehouse besides the raw data (the package holds the loader and the
# Python models' code): a change here means a full build.
FINGERPRINTED = ("dbt_project.yml", "models", "macros", "seeds", "tests/dbt", "scripts/sales_insights")
FINGERPRINTED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")


class BuildFailed(SalesInsightsError):
    """dbt reported an error or a failing test; nothing was published."""


LAST_BUILD = "last_build.json"
# first_started_at of an install whose earlier records did not keep it: before anything was recorded.
BEFORE_RECORDS = "0001-01-01T00:00:00+00:00"


@dataclass
class BuildAttempt:
    """What the last build of a warehouse did, published or not (last_build.json in dbt's artefacts folder
    beside the warehouse): `status` and the SLOs read it."""

    build_id: str
    started_at: str
    data_source: str
    finished_at: str | None = None
    seconds: float | None = None
    outcome: str | None = None  # published | failed
    error: str | None = None
    incremental: bool | None = None
    dbt_tests: dict[str, int] | None = None  # passed, total (data and unit tests)
    contracts: dict[str, int] | None = None  # passed, total (Great Expectations expectations)
    # When the first attempt recorded for this warehouse started, carried from record to record: the SLOs
    # owe no export for a day that passed before the install ever built (slo._in_service_since).
    first_started_at: str | None = None

    def finish(self, started: float, outcome: str, error: str | None = None) -> None:
        self.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.seconds = round(time.monotonic() - started, 3)
        self.outcome = outcome
        self.error = error


def write_build_attempt(warehouse: Path, attempt: BuildAttempt) -> None:
    write_text_atomically(dbt_artefacts_dir(warehouse) / LAST_BUILD, json.dumps(asdict(attempt), indent=2) + "\n")


def read_build_attempt(warehouse: Path) -> dict | None:
    """The last build attempt of `warehouse` (None when none was recorded)."""
    try:
        return json.loads((dbt_artefacts_dir(warehouse) / LAST_BUILD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class BuildResult:
    warehouse: Path
    source: DataSource
    build_id: str
    seconds: float
    incremental: bool = False
    load_report: LoadReport | None = None
    node_statuses: dict[str, int] = field(default_factory=dict)
    rejected_rows: dict[str, int] = field(default_factory=dict)
    contracts: ValidationReport | None = None


def project_fingerprint(project_dir: Path) -> str:
    """sha256 over the dbt project's files (paths and contents) and the versions of the engine that runs
    them: an upgrade of dbt or DuckDB builds everything again."""
    digest = hashlib.sha256()
    for package in FINGERPRINTED_PACKAGES:
        digest.update(f"{package}=={version(package)}".encode())
    for entry in FINGERPRINTED:
        root = project_dir / entry
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def source_grain(source: DataSource) -> str:
    """How GA4 comes in this source: "events", or "report" (a data directory with ga4_funnel_report.csv)."""
    return ga4_grain(source.path) if source.kind == "directory" else "events"


def can_build_incrementally(previous: dict | None, fingerprint: str, source: DataSource) -> bool:
    """The published build is of the same source by the same code, so a copy of it can be built on. Never for
    the committed seeds: dbt reloads them whole, and every incremental model builds in full from them."""
    return bool(
        not source.is_mock
        and previous
        and previous.get("project_fingerprint") == fingerprint
        and previous.get("data_source") == source.kind
        and previous.get("data_path") == str(source.path)
        and (previous.get("ga4_grain") or "events") == source_grain(source)
    )


def new_build_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def build_lock(warehouse: Path):
    """Held for the whole build; a second build of the same warehouse fails at once with a clear message."""
    return exclusive_lock(warehouse.with_name(warehouse.name + ".lock"), f"build of {warehouse}")


def _remove_database(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise SalesInsightsError("dbt is not installed in this environment; run `make install`")
    return found


def dbt_artefacts_dir(warehouse: Path) -> Path:
    """Where dbt keeps run_results.json, manifest.json and its logs for builds of `warehouse`."""
    name = warehouse.name.removesuffix(".next")
    return warehouse.parent / f".{name}.dbt"


def dbt_command(settings: Settings, args: list[str], warehouse: Path) -> tuple[list[str], dict[str, str]]:
    """The dbt command line and environment that run `args` against `warehouse`."""
    env = dict(os.environ)
    env["SALES_INSIGHTS_DBT_WAREHOUSE"] = str(warehouse)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("SALES_INSIGHTS_TEMP_DIR", str(warehouse.parent / ".tmp"))
    # dbt's log file at info level: the debug level (every statement run) cost about 5% of an incremental
    # build at 10M events. DBT_LOG_LEVEL_FILE=debug brings the statements back.
    env.setdefault("DBT_LOG_LEVEL_FILE", "info")
    # dbt's artefacts and logs beside the warehouse, so builds of different warehouses never share them.
    artefacts = dbt_artefacts_dir(warehouse)
    command = [
        dbt_executable(), *args,
        "--project-dir", str(settings.project_dir),
        "--profiles-dir", str(settings.profiles_dir),
        "--target-path", str(artefacts / "target"),
        "--log-path", str(artefacts / "logs"),
    ]
    if not sys.stdout.isatty():
        command.append("--no-use-colors")
    return command, env


def run_dbt(
    settings: Settings,
    args: list[str],
    warehouse: Path,
    on_output: Callable[[str], None] | None = None,
) -> tuple[int, list[dict], list[str]]:
    """Run one dbt command against `warehouse`; returns its exit code, run_results.json's results and
    the last lines dbt printed."""
    command, env = dbt_command(settings, args, warehouse)
    results_path = dbt_artefacts_dir(warehouse) / "target" / "run_results.json"
    results_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        command, cwd=settings.project_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    tail: deque[str] = deque(maxlen=15)
    for line in proc.stdout:
        tail.append(line.rstrip("\n"))
        if on_output:
            on_output(line.rstrip("\n"))
    code = proc.wait()
    results = json.loads(results_path.read_text())["results"] if results_path.exists() else []
    return code, results, list(tail)


def _failure_message(code: int, results: list[dict], output_tail: list[str]) -> str:
    bad = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    if not bad:
        last_lines = "\n".join(f"  | {line}" for line in output_tail if line.strip())
        return f"dbt exited with code {code} before running any model; nothing was published. dbt said:\n{last_lines}"
    lines = [f"dbt build failed: {len(bad)} node(s) did not pass; nothing was published."]
    for r in bad[:10]:
        # dbt's message: its first line, then the detail (a contract mismatch table, the failing SQL's
        # error), without the trail of macros it passed through
        message = [m for m in (r.get("message") or "").strip().splitlines()
                   if m.strip() and not m.strip().startswith("> ")]
        lines.append(f"  - {r['unique_id']}: {r['status']}: {message[0] if message else ''}")
        lines.extend(f"      {m.strip()}" for m in message[1:16])
    if len(bad) > 10:
        lines.append(f"  ... and {len(bad) - 10} more")
    return "\n".join(lines)


def _record_build(
    path: Path, build_id: str, source: DataSource, statuses: dict[str, int], fingerprint: str, incremental: bool,
    contracts: ValidationReport | None, grain: str,
) -> dict[str, int]:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists meta")
        con.execute("drop table if exists meta.outside_cli_write")  # this build is the CLI's
        if contracts is not None:
            record_results(con, contracts, build_id)
        con.execute(
            "create or replace table meta.build_info as select ? as build_id, ?::timestamptz as built_at, "
            "? as data_source, ? as data_path, ? as node_statuses, ? as project_fingerprint, "
            "? as is_incremental, ? as ga4_grain",
            [build_id, datetime.now(UTC), source.kind, str(source.path), json.dumps(statuses), fingerprint,
             incremental, grain],
        )
        rejected = dict(con.execute(
            "select source_table, count(*) from staging.stg_rejected_rows group by 1 order by 1"
        ).fetchall())
        con.execute("checkpoint")
    finally:
        con.close()
    return rejected


def build(
    settings: Settings,
    source: DataSource,
    warehouse: Path | None = None,
    on_output: Callable[[str], None] | None = None,
    full_refresh: bool = False,
    contracts: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Load `source`, run dbt build into a new file, check the contracts (Great Expectations) on it, and
    publish it over `warehouse` only if every model, test and contract passed."""
    target = (warehouse or settings.warehouse).resolve()
    started = time.monotonic()
    attempt = BuildAttempt(new_build_id(), datetime.now(UTC).isoformat(timespec="seconds"), source.kind)
    with build_lock(target):
        previous = read_build_attempt(target)
        # the install's first build, carried from record to record; a record written before first_started_at
        # existed shows only that builds ran before it, at a time not recorded
        attempt.first_started_at = (previous.get("first_started_at") or BEFORE_RECORDS) if previous \
            else attempt.started_at
        try:
            result = _build_locked(settings, source, target, attempt, started, on_output, full_refresh, contracts,
                                   on_progress)
        except BaseException as exc:  # an interrupted or crashed build is a failed attempt too
            attempt.finish(started, "failed", str(exc) or type(exc).__name__)
            write_build_attempt(target, attempt)
            raise
        attempt.finish(started, "published")
        write_build_attempt(target, attempt)
    return result


def _build_locked(
    settings: Settings, source: DataSource, target: Path, attempt: BuildAttempt, started: float,
    on_output: Callable[[str], None] | None, full_refresh: bool, contracts: bool,
    on_progress: Callable[[str], None] | None,
) -> BuildResult:
    fingerprint = project_fingerprint(settings.project_dir)
    staged = target.with_name(target.name + ".next")
    _remove_database(staged)
    incremental = not full_refresh and can_build_incrementally(read_build_info(target), fingerprint, source)
    try:
        if incremental:
            shutil.copyfile(target, staged)
        load_report = None
        if source.kind == "directory":
            if on_progress:
                on_progress(f"loading the raw files of {source.path}")
            con = duckdb.connect(str(staged))
            try:
                load_report = load_data_dir(con, source.path)
            finally:
                con.close()
        grain = load_report.ga4_grain if load_report is not None else "events"
        # cli_build tells the project's hooks that the CLI runs dbt (data_source.sql): a dbt command without
        # it drops meta.build_info, since the warehouse is then no longer the build that was checked. (A
        # constant: vars that change between builds would cost dbt its partial parsing.)
        dbt_vars: dict[str, object] = {"use_mock_data": source.is_mock, "ga4_grain": grain, "cli_build": True}
        if load_report is not None and load_report.ga4_layout != "csv":
            dbt_vars["ga4_layout"] = load_report.ga4_layout
        if incremental and load_report is not None:
            # Raw tables holding the published build's rows plus new ones: the models process only the
            # new rows, from the source_line of the first (row n is line n + 1, the header being line 1).
            dbt_vars["appended_from_line"] = {
                name: load_report.row_counts[name] - appended + 2
                for name, appended in load_report.appended_rows.items()
            }
        args = ["build", "--vars", json.dumps(dbt_vars)]
        excluded = [] if source.is_mock else [MOCK_SEEDS_SELECTOR]
        if incremental:
            # Unit tests check the code against fixed inputs: the published build ran them on this
            # very code (same fingerprint), so a build of new data has nothing new for them to check.
            excluded.append(UNIT_TESTS_SELECTOR)
        if excluded:
            args += ["--exclude", " ".join(excluded)]
        if on_progress:
            on_progress(f"dbt build ({'incremental' if incremental else 'full'})")
        code, results, output_tail = run_dbt(settings, args, staged, on_output)
        attempt.incremental = incremental
        tests = [r for r in results if r["unique_id"].split(".")[0] in ("test", "unit_test")]
        attempt.dbt_tests = {"passed": sum(r["status"] == "pass" for r in tests), "total": len(tests)}
        if code != 0:
            raise BuildFailed(_failure_message(code, results, output_tail))
        statuses = dict(Counter(r["status"] for r in results))
        report = None
        if contracts:
            report = validate_build(settings, staged, source.kind, on_progress=on_progress, ga4_grain=grain)
            attempt.contracts = {"passed": report.count("passed"), "total": report.expectations}
            if not report.success:
                raise ContractsFailed(failure_message(report) + "\nNothing was published.")
        rejected = _record_build(staged, attempt.build_id, source, statuses, fingerprint, incremental, report, grain)
        os.replace(staged, target)
    finally:
        _remove_database(staged)
    return BuildResult(
        warehouse=target,
        source=source,
        build_id=attempt.build_id,
        seconds=time.monotonic() - started,
        incremental=incremental,
        load_report=load_report,
        node_statuses=statuses,
        rejected_rows=rejected,
        contracts=report,
    )


def read_outside_cli_write(warehouse: Path) -> dict | None:
    """The last dbt command that built models in `warehouse` outside `sales-insights build`
    (meta.outside_cli_write, by the project's on-run-end hook, which then removed meta.build_info): its
    command, invocation_id, finished_at and data_source. None when there is none, or the file cannot be
    read."""
    if not warehouse.exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute("select * from meta.outside_cli_write").fetchone()
            names = [d[0] for d in con.description]
    except duckdb.Error:
        return None
    return dict(zip(names, row, strict=True)) if row else None


def read_build_info(warehouse: Path) -> dict | None:
    """The published warehouse's meta.build_info row, or None when there is no warehouse yet."""
    if not warehouse.exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise SalesInsightsError(f"cannot open {warehouse} to read it: {exc} (does another process have it open "
                                 "for writing, like the duckdb CLI without -readonly?)") from exc
    try:
        row = con.execute("select * from meta.build_info").fetchone()
        names = [d[0] for d in con.description]
    except duckdb.Error:
        return None
    finally:
        con.close()
    return dict(zip(names, row, strict=True)) if row else None
