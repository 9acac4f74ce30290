"""Build the warehouse: load raw data, run `dbt build` once, publish the new file atomically.

The build writes a new DuckDB file beside the published one and replaces it with os.replace only when
every model and test passed. When the published warehouse was built from the same data source by the
same project code (a fingerprint of the dbt project is kept in meta.build_info), the new file starts as a
copy of it, so incremental models only process what is new; otherwise it starts empty (a full build).
An analyst who has the old file open keeps reading the old file; a failed build leaves the published
warehouse exactly as it was. A lock file keeps two builds from overlapping.

An attempt that dies without recording itself (killed outright, its machine stopped) is not lost: a marker
beside the record names its process while it runs, so `status` reports it once that process is gone, and
the next build records it as failed and removes the unpublished file it left. dbt dies with the build
(processes.py); a full disk or a file another process holds fails the build with one line saying so
(faults.py).
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
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

from sales_insights.config import Settings, ShopConfig, load_shop_config
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.atomic_files import write_text_atomically
from sales_insights.pipeline.data_source import DataSource
from sales_insights.pipeline.faults import (
    DiskFull,
    disk_full_file,
    disk_full_message,
    duckdb_lock_holder,
    held_lock,
    held_lock_message,
    size_text,
    tree_size,
)
from sales_insights.pipeline.load import LoadReport, ga4_grain, load_data_dir
from sales_insights.pipeline.locks import exclusive_lock
from sales_insights.pipeline.processes import (
    Stopped,
    is_running,
    process_started,
    processes_with_args,
    start_child,
    stop_child,
)
from sales_insights.quality.validate import (
    ContractsFailed,
    TableRejects,
    ValidationReport,
    failure_message,
    raw_schema_of,
    record_results,
    rejects_by_table,
    validate_build,
)

MOCK_SEEDS_SELECTOR = "path:seeds/mock"
UNIT_TESTS_SELECTOR = "test_type:unit"
# What decides the content of the warehouse besides the raw data (the package holds the loader and the
# Python models' code): a change here means a full build.
FINGERPRINTED = ("dbt_project.yml", "models", "macros", "seeds", "tests/dbt", "scripts/sales_insights")
FINGERPRINTED_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")


class BuildFailed(SalesInsightsError):
    """dbt reported an error or a failing test; nothing was published."""


LAST_BUILD = "last_build.json"
# Beside it while an attempt runs: the attempt as it started, with its process (pid and start time).
IN_PROGRESS = "build_in_progress.json"
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
    pid: int | None = None  # the process that ran the attempt

    def finish(self, started: float, outcome: str, error: str | None = None) -> None:
        self.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.seconds = round(time.monotonic() - started, 3)
        self.outcome = outcome
        self.error = error


def write_build_attempt(warehouse: Path, attempt: BuildAttempt) -> None:
    write_text_atomically(dbt_artefacts_dir(warehouse) / LAST_BUILD, json.dumps(asdict(attempt), indent=2) + "\n")


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _unrecorded_attempt(warehouse: Path) -> dict | None:
    """The in-progress marker of an attempt last_build.json does not hold yet (None when there is none)."""
    artefacts = dbt_artefacts_dir(warehouse)
    marker = _read_record(artefacts / IN_PROGRESS)
    if not marker or not marker.get("build_id"):
        return None
    recorded = _read_record(artefacts / LAST_BUILD)
    return None if recorded and recorded.get("build_id") == marker["build_id"] else marker


def _marker_runs(marker: dict) -> bool:
    pid = marker.get("pid")
    return isinstance(pid, int) and is_running(pid, marker.get("process_started"))


def _died(marker: dict) -> BuildAttempt:
    """The record of the attempt `marker` started, whose process is gone: failed, at a duration unknown."""
    known = {f.name for f in fields(BuildAttempt)}
    attempt = BuildAttempt(**{k: v for k, v in marker.items() if k in known})
    attempt.outcome = "failed"
    attempt.error = (f"died without finishing (pid {attempt.pid}: killed, or its machine stopped); nothing was "
                     "published")
    return attempt


def read_build_state(warehouse: Path) -> tuple[dict | None, dict | None]:
    """The last build attempt of `warehouse` (see read_build_attempt) and the one running now (build_id,
    started_at, pid, ...; None when none is), from one read of the in-progress marker and one check of its
    process."""
    marker = _unrecorded_attempt(warehouse)
    if marker and _marker_runs(marker):
        return _read_record(dbt_artefacts_dir(warehouse) / LAST_BUILD), marker
    if marker:
        return asdict(_died(marker)), None
    return _read_record(dbt_artefacts_dir(warehouse) / LAST_BUILD), None


def read_build_attempt(warehouse: Path) -> dict | None:
    """The last build attempt of `warehouse` (None when none was recorded): last_build.json, unless an
    attempt started after it died without recording itself (its process is gone): then that one, failed."""
    return read_build_state(warehouse)[0]


def _mark_in_progress(warehouse: Path, attempt: BuildAttempt) -> None:
    marker = asdict(attempt) | {"process_started": process_started(os.getpid())}
    write_text_atomically(dbt_artefacts_dir(warehouse) / IN_PROGRESS, json.dumps(marker, indent=2) + "\n")


def _record_attempt(warehouse: Path, attempt: BuildAttempt) -> str | None:
    """Write the attempt's record and drop its in-progress marker; the error when the record could not be
    written (then the marker stays, and the attempt shows as died: never as not having run)."""
    try:
        write_build_attempt(warehouse, attempt)
    except OSError as exc:
        record = dbt_artefacts_dir(warehouse) / LAST_BUILD
        return f"could not record build attempt {attempt.build_id} in {record}: {exc}"
    (dbt_artefacts_dir(warehouse) / IN_PROGRESS).unlink(missing_ok=True)
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
    # per raw table with rejected rows, what they cost (kept in staging.stg_rejected_rows)
    rejected_rows: tuple[TableRejects, ...] = ()
    contracts: ValidationReport | None = None


def project_fingerprint(project_dir: Path, shop: ShopConfig | None = None) -> str:
    """sha256 over the dbt project's files (paths and contents), the shop's settings (a new reporting time
    zone moves every date) and the versions of the engine that runs them: an upgrade of dbt or DuckDB
    builds everything again."""
    digest = hashlib.sha256()
    shop = shop or load_shop_config(project_dir)
    digest.update(json.dumps(shop.dbt_vars(), sort_keys=True).encode())
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


def _database_files(path: Path) -> tuple[Path, Path]:
    """A DuckDB database file and its write-ahead log."""
    return path, path.with_name(path.name + ".wal")


def _remove_database(path: Path) -> None:
    for candidate in _database_files(path):
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
    # dbt dies with this process, and is stopped before an exception (a signal's Stopped) leaves here: it must
    # not go on writing the file, and the artefacts, that the next build uses.
    proc = start_child(
        command, cwd=settings.project_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    tail: deque[str] = deque(maxlen=15)
    try:
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            if on_output:
                on_output(line.rstrip("\n"))
        code = proc.wait()
    except BaseException:
        stop_child(proc)
        raise
    finally:
        proc.stdout.close()
    try:
        results = json.loads(results_path.read_text())["results"] if results_path.exists() else []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # dbt did not finish writing it (its disk filled up, say): what dbt printed says why
        raise BuildFailed(f"dbt exited with code {code} leaving {results_path} unreadable ({exc}); nothing was "
                          f"published. dbt said:\n{_dbt_said(tail)}") from exc
    return code, results, list(tail)


def _dbt_said(output_tail: deque[str] | list[str]) -> str:
    return "\n".join(f"  | {line}" for line in output_tail if line.strip())


def _failure_message(code: int, results: list[dict], output_tail: list[str]) -> str:
    bad = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    if not bad:
        return (f"dbt exited with code {code} before running any model; nothing was published. dbt said:\n"
                f"{_dbt_said(output_tail)}")
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
) -> tuple[TableRejects, ...]:
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
        rejected = tuple(rejects_by_table(con, raw_schema_of(source.kind)))
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
    on_note: Callable[[str], None] | None = None,
) -> BuildResult:
    """Load `source`, run dbt build into a new file, check the contracts (Great Expectations) on it, and
    publish it over `warehouse` only if every model, test and contract passed. `on_note` hears, as it
    happens, of what an earlier attempt that died left and this build cleared."""
    target = (warehouse or settings.warehouse).resolve()
    started = time.monotonic()
    attempt = BuildAttempt(new_build_id(), datetime.now(UTC).isoformat(timespec="seconds"), source.kind,
                           pid=os.getpid())
    note = on_note or (lambda line: None)
    with build_lock(target):
        try:
            # The lock goes with its holder, so an attempt still marked in progress now is one whose process is
            # gone: it is recorded as failed before this one is marked.
            unrecorded = _unrecorded_attempt(target)
            if unrecorded:
                died = _died(unrecorded)
                write_build_attempt(target, died)
                note(f"the build attempt started at {died.started_at} (pid {died.pid}) died without finishing; "
                     "it is recorded as failed")
            previous = asdict(died) if unrecorded else _read_record(dbt_artefacts_dir(target) / LAST_BUILD)
            # the install's first build, carried from record to record; a record written before
            # first_started_at existed shows only that builds ran before it, at a time not recorded
            attempt.first_started_at = (previous.get("first_started_at") or BEFORE_RECORDS) if previous \
                else attempt.started_at
            _mark_in_progress(target, attempt)
            result = _build_locked(settings, source, target, attempt, started, on_output, full_refresh, contracts,
                                   on_progress, note)
        except BaseException as exc:  # an interrupted or crashed build is a failed attempt too
            explained = _explain(exc, target, source)
            attempt.finish(started, "failed", str(explained) or type(explained).__name__)
            not_recorded = _record_attempt(target, attempt)
            if not_recorded:
                note(not_recorded)
            if explained is exc:
                raise
            raise explained from exc
        attempt.finish(started, "published")
        not_recorded = _record_attempt(target, attempt)
        if not_recorded:
            note(not_recorded)
    return result


def _explain(exc: BaseException, target: Path, source: DataSource) -> BaseException:
    """`exc` said in one line when the machine caused it (a full disk, a file another process holds), or
    with what it left when a signal stopped the build; else `exc` itself."""
    if isinstance(exc, Stopped):
        exc.detail = exc.detail or "the build attempt is recorded as failed; nothing was published"
        return exc
    if not isinstance(exc, Exception):
        return exc
    full = disk_full_file(exc, _staged(target))
    if full is not None:
        return DiskFull(full, disk_full_message(full, _space_needed(target, source)) + "; nothing was published")
    held = held_lock(exc)
    if held is not None:
        path, program, pid = held
        return SalesInsightsError(held_lock_message(path, program, pid) + "; nothing was published")
    return exc


def _space_needed(target: Path, source: DataSource) -> str:
    """Roughly what a build of `source` into `target` writes beside it, in words: a new file about as big
    as the published one (a copy of it, or a full build of the same data), its write-ahead log (which holds
    what a model writes until the next checkpoint), and the raw data loaded. Twice the published file errs
    high: a build of the committed seeds beside its 16 MB warehouse took 24 MB at most, besides dbt's
    artefacts. A first build has only the raw data to go by, and needs more: the warehouse holds the raw
    tables and the models dbt builds from them (the seeds, 4 MB, make a 16 MB warehouse)."""
    published = sum(tree_size(p) for p in _database_files(target))
    raw = tree_size(source.path)
    if not published:
        return f"the build needs more than {size_text(raw)} (the raw data in {source.path}, and the models on it)"
    return (f"the build needs up to about {size_text(2 * published + raw)} (a new warehouse and its write-ahead "
            f"log, each up to the published one's {size_text(published)}, and the raw data, {size_text(raw)} in "
            f"{source.path})")


def _staged(target: Path) -> Path:
    """The unpublished new file a build writes beside the published one."""
    return target.with_name(target.name + ".next")


def _clear_dead_attempt(staged: Path, note: Callable[[str], None]) -> None:
    """Remove the unpublished file (and its WAL) that an attempt which died left: holding the build lock,
    no other build is writing it. Its dbt may still run, though, if it did not die with its build (one
    started by an older version, or where the kernel cannot tie it to its parent): then the build stops,
    naming it, rather than run beside a dbt that still writes the file or the artefacts. Such a dbt shows by
    its command line (the artefacts folder of this warehouse) or by the DuckDB lock it holds on the file."""
    target_path = str(dbt_artefacts_dir(staged) / "target")
    for pid, command in processes_with_args("--target-path", target_path)[:1]:
        shown = command if len(command) <= 80 else command[:77] + "..."
        raise SalesInsightsError(f"a dbt of an earlier build attempt still runs on {staged} (process {pid}: "
                                 f"{shown}); stop it (`kill {pid}`) and build again")
    left = [p for p in _database_files(staged) if p.exists()]
    if not left:
        return
    holder = duckdb_lock_holder(staged)
    if holder is not None:
        program, pid = holder
        raise SalesInsightsError(held_lock_message(staged, program, pid, ", left by an earlier build attempt,"))
    _remove_database(staged)
    note(f"removed {' and '.join(str(p) for p in left)}, left by a build attempt that did not finish")


def _load_raw_files(source: DataSource, staged: Path, shop: ShopConfig,
                    on_progress: Callable[[str], None] | None) -> LoadReport | None:
    """Load a directory source's raw files into the staged warehouse; None for the mock seeds, which dbt
    seeds itself."""
    if source.kind != "directory":
        return None
    if on_progress:
        on_progress(f"loading the raw files of {source.path}")
    con = duckdb.connect(str(staged))
    try:
        return load_data_dir(con, source.path, shop=shop)
    finally:
        con.close()


def _dbt_build_args(source: DataSource, load_report: LoadReport | None, grain: str, incremental: bool,
                    shop: ShopConfig) -> list[str]:
    """The arguments of the build's one `dbt build`: its vars (the shop's settings among them), and what it
    leaves out."""
    # cli_build tells the project's hooks that the CLI runs dbt (data_source.sql): a dbt command without
    # it drops meta.build_info, since the warehouse is then no longer the build that was checked. (A
    # constant: vars that change between builds would cost dbt its partial parsing.)
    dbt_vars: dict[str, object] = {"use_mock_data": source.is_mock, "ga4_grain": grain, "cli_build": True,
                                   **shop.dbt_vars()}
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
    return args


def _build_locked(
    settings: Settings, source: DataSource, target: Path, attempt: BuildAttempt, started: float,
    on_output: Callable[[str], None] | None, full_refresh: bool, contracts: bool,
    on_progress: Callable[[str], None] | None, note: Callable[[str], None],
) -> BuildResult:
    shop = load_shop_config(settings.project_dir)
    fingerprint = project_fingerprint(settings.project_dir, shop)
    staged = _staged(target)
    _clear_dead_attempt(staged, note)
    incremental = not full_refresh and can_build_incrementally(read_build_info(target), fingerprint, source)
    try:
        if incremental:
            shutil.copyfile(target, staged)
        load_report = _load_raw_files(source, staged, shop, on_progress)
        grain = load_report.ga4_grain if load_report is not None else "events"
        args = _dbt_build_args(source, load_report, grain, incremental, shop)
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
    try:
        return _meta_row(warehouse, "meta.outside_cli_write")
    except SalesInsightsError:
        return None


def read_build_info(warehouse: Path) -> dict | None:
    """The published warehouse's meta.build_info row, or None when there is no warehouse yet."""
    return _meta_row(warehouse, "meta.build_info")


def _meta_row(warehouse: Path, table: str) -> dict | None:
    """The one row of a meta table of `warehouse`, by column name; None when there is no warehouse, no such
    table or no row. Raises when the file cannot be opened."""
    if not warehouse.exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise SalesInsightsError(f"cannot open {warehouse} to read it: {exc} (does another process have it open "
                                 "for writing, like the duckdb CLI without -readonly?)") from exc
    try:
        row = con.execute(f"select * from {table}").fetchone()
        names = [d[0] for d in con.description]
    except duckdb.Error:
        return None
    finally:
        con.close()
    return dict(zip(names, row, strict=True)) if row else None
