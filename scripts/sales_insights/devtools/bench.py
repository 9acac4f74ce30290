"""The benchmark: the whole pipeline at N GA4 events, each step in its own process.

For each size it generates a store of N events (over 366 days) and splits the last day off, so the
full build reads 365 days and the incremental build reads the same files with one more day appended,
the way a daily extract grows. It then measures, over several runs (the median is reported):

- generate: `sales-insights generate` of the whole store;
- build_full: `sales-insights build --full-refresh --no-contracts` (load + dbt build) on 365 days;
- build_incremental: `sales-insights build --no-contracts` after the new day was appended;
- validate: `sales-insights validate` (every Great Expectations suite);
- export: `sales-insights export` (every exported mart);
- dbt_run and raw_sql: `dbt run --full-refresh` of every model, and the same compiled SQL run raw in one
  DuckDB connection in dependency order, both from the same loaded file. Python models (the CLV fit and
  the forecast) have no SQL: their time inside dbt is added to the raw side, so the ratio is dbt's
  orchestration overhead alone.

`bench --products N` measures a store with a real catalog's shape instead (run_catalog_bench): N products
with a long tail of popularity, CATALOG_LINES_PER_ORDER lines an order and enough visitors for the order
lines asked for; it times the generator and the full build, the experiment models within that build
(their dbt times), and the experiment models run again alone, for their own peak memory.

Wall time and peak RSS (of the step's process and everything it started) come from wait4(2); the dbt
elapsed times come from run_results.json. Nothing here asserts a timing: the figures are printed and
written to a JSON file, and compared with the targets of the scale issue.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

from sales_insights.config import Settings, duckdb_memory_limit
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.atomic_files import write_text_atomically
from sales_insights.pipeline.build import dbt_artefacts_dir, dbt_command, read_build_info
from sales_insights.pipeline.load import load_data_dir, read_header
from sales_insights.quality.raw_contract import GENERATOR_FILE, TABLES
from sales_insights.sql import sql_identifier, sql_string

# GA4 events per simulated visitor with the generator's defaults (1,449,000 events from 100,000
# visitors over 365 days; 9,957,716 from 690,000).
EVENTS_PER_USER = 14.43
DAYS = 365

# The targets of the scale issue, set at 10 million events on a 2-core machine: (figure, limit, unit).
TARGET_EVENTS = 10_000_000
TARGETS = {
    "generate_seconds": ("generate", 60.0, "s"),
    "build_full_seconds": ("full build", 60.0, "s"),
    "build_full_rss_gib": ("full build peak RSS", 4.0, "GiB"),
    "dbt_over_raw_sql": ("dbt run / raw SQL", 1.3, "x"),
    "incremental_share": ("incremental / full (dbt elapsed)", 0.15, "x"),
    "validate_seconds": ("validate", 15.0, "s"),
    "validate_rss_gib": ("validate peak RSS", 1.0, "GiB"),
    "export_seconds": ("export", 10.0, "s"),
}


# The catalog benchmark: order lines per visitor for each line of the mean basket (516,137 lines from 1.6
# million visitors at 4 lines an order), the basket it generates, and its targets on a 2-core machine for
# 5,000 products and 500,000 order lines.
LINES_PER_USER_PER_BASKET_LINE = 0.0806
CATALOG_LINES_PER_ORDER = 4.0
CATALOG_TARGET = (5_000, 500_000)
CATALOG_TARGETS = {
    "build_full_seconds": ("full build", 180.0, "s"),
    "experiments_in_build_seconds": ("experiment models (in the build)", 30.0, "s"),
    "build_full_rss_gib": ("full build peak RSS", 4.0, "GiB"),
}
# The models of the experiment shortlist, from the product pairs to the ranked mart.
EXPERIMENT_MODELS = ("calc_experiment_product_pairs", "calc_experiment_substitutes", "calc_experiment_order_values",
                     "calc_experiment_candidates", "fct_experiment_shortlist")


class BenchError(SalesInsightsError):
    """A benchmarked step failed."""


@dataclass
class Measurement:
    seconds: float
    peak_rss_mib: float
    dbt_elapsed: float | None = None


@dataclass
class SizeResult:
    events_requested: int
    events: int = 0
    users: int = 0
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    summary: dict[str, float] = field(default_factory=dict)


def measure(command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run `command` to completion; its wall time and the peak RSS of it and its children."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(("\n$ " + " ".join(command) + "\n").encode())
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise BenchError(f"{' '.join(command[:3])} ... exited with {code}; its output is in {log}")
    # Linux reports ru_maxrss in KiB.
    return Measurement(seconds=seconds, peak_rss_mib=usage.ru_maxrss / 1024)


def _cli() -> list[str]:
    return [sys.executable, "-m", "sales_insights.cli"]


def _dbt_elapsed(warehouse: Path) -> float:
    results = json.loads((dbt_artefacts_dir(warehouse) / "target" / "run_results.json").read_text())
    return float(results["elapsed_time"])


# --------------------------------------------------------------------------------------------------
# the data: 365 days, then the same files with day 366 appended


_DAY_OF = {
    # how each table's rows are dated, for splitting the last day off (text comparison of ISO / YYYYMMDD)
    "raw_ga4_events": "event_date",
    "raw_shopify_orders": "substr(created_at, 1, 10)",
    "raw_shopify_refunds": "substr(created_at, 1, 10)",
}


def split_last_day(full_dir: Path, before_dir: Path, after_dir: Path) -> str:
    """Write `before_dir` (every row of `full_dir` except the last day's) and `after_dir` (the same rows in
    the same order, then the last day's appended). Order lines follow their order. Returns the day."""
    for d in (before_dir, after_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    # A file, and DuckDB's memory limit: at 50M events the rows do not all fit in memory.
    scratch = before_dir.parent / "split.duckdb"
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch), config={"memory_limit": duckdb_memory_limit(),
                                               "temp_directory": str(before_dir.parent / ".split.tmp")})
    try:
        headers = {t.name: read_header(full_dir / t.file_name, t) for t in TABLES}

        def reader(table: str) -> str:
            columns = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in headers[table]) + "}"
            return (f"read_csv({sql_string(str(full_dir / (table + '.csv')))}, header = true, all_varchar = true, "
                    f"auto_detect = false, columns = {columns})")

        last = con.execute(
            f"select max(event_date) from {reader('raw_ga4_events')} where regexp_full_match(event_date, '[0-9]{{8}}')"
        ).fetchone()[0]
        last_iso = f"{last[:4]}-{last[4:6]}-{last[6:]}"
        con.execute(f"create table last_orders as select id from {reader('raw_shopify_orders')} "
                    f"where {_DAY_OF['raw_shopify_orders']} = ?", [last_iso])
        for table in TABLES:
            name = table.name
            if name in _DAY_OF:
                value = last if name == "raw_ga4_events" else last_iso
                is_new = f"coalesce({_DAY_OF[name]} = {sql_string(value)}, false)"
            elif name == "raw_shopify_order_lines":
                is_new = "order_id in (select id from last_orders)"
            else:
                is_new = "false"
            con.execute(f"create or replace table t as select *, {is_new} as _new from {reader(name)}")
            columns = ", ".join(sql_identifier(c) for c in headers[name])
            con.execute(f"copy (select {columns} from t where not _new) to ? (format csv, header true)",
                        [str(before_dir / (name + ".csv"))])
            con.execute(f"copy (select {columns} from t order by _new, rowid) to ? (format csv, header true)",
                        [str(after_dir / (name + ".csv"))])
    finally:
        con.close()
        scratch.unlink(missing_ok=True)
        shutil.rmtree(before_dir.parent / ".split.tmp", ignore_errors=True)
    # The generator's record goes with its rows: the contract gate allows the rows it broke on purpose (in
    # before_dir, at most as many: one may be on the last day).
    for d in (before_dir, after_dir):
        shutil.copy(full_dir / GENERATOR_FILE, d)
    return last_iso


def _replace_dir(source: Path, target: Path) -> None:
    """`target` becomes a copy of `source`, by hard links: the builds only read the files, and at 50M
    events each set is 9 GB of disk."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=os.link)


# --------------------------------------------------------------------------------------------------
# dbt against the raw-SQL floor


def _compiled_models(target_dir: Path) -> list[dict]:
    """The models of the last dbt run, in dependency order, with their compiled code."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    ordered: list[dict] = []
    done: set[str] = set()

    def visit(uid: str) -> None:
        if uid in done or uid not in models:
            return
        done.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(models[uid])

    for uid in sorted(models):
        visit(uid)
    return ordered


def run_raw_sql(warehouse: Path, target_dir: Path, dbt_warehouse: Path) -> dict:
    """Run every SQL model's compiled code in one DuckDB connection, in dependency order. Python models
    have no SQL: their tables are copied from `dbt_warehouse` (before the clock starts) for the SQL
    models that read them, and they are listed in the result."""
    # The dbt profile's DuckDB settings, so both sides run under the same memory limit.
    con = duckdb.connect(str(warehouse), config={
        "memory_limit": duckdb_memory_limit(),
        "temp_directory": str(warehouse.parent / ".tmp"),
    })
    skipped, ran = [], []
    models = _compiled_models(target_dir)
    try:
        con.execute("attach ? as dbt_built (read_only)", [str(dbt_warehouse)])
        for node in models:
            if node.get("language") == "python":
                skipped.append(node["name"])
                con.execute(f"create schema if not exists {sql_identifier(node['schema'])}")
                con.execute(f"create or replace table {node['relation_name']} as select * from "
                            f"dbt_built.{sql_identifier(node['schema'])}.{sql_identifier(node['alias'])}")
        con.execute("detach dbt_built")
        con.execute("checkpoint")
        started = time.perf_counter()
        for node in models:
            if node.get("language") == "python":
                continue
            code = node.get("compiled_code")
            if not code:
                raise BenchError(f"{node['unique_id']} has no compiled SQL in {target_dir / 'manifest.json'}")
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f"create schema if not exists {sql_identifier(node['schema'])}")
            con.execute(f"create or replace {kind} {node['relation_name']} as {code}")
            ran.append(node["name"])
        con.execute("checkpoint")
    finally:
        con.close()
    return {"seconds": time.perf_counter() - started, "models": ran, "python_models": skipped}


def _model_seconds(warehouse: Path, names) -> float:
    """The dbt execution time of these models in the warehouse's last dbt command."""
    results = json.loads((dbt_artefacts_dir(warehouse) / "target" / "run_results.json").read_text())["results"]
    return sum(float(r["execution_time"]) for r in results
               if r["unique_id"].startswith("model.") and r["unique_id"].rsplit(".", 1)[-1] in names)


# --------------------------------------------------------------------------------------------------
# one size


def bench_size(settings: Settings, events: int, runs: int, work: Path, log: Path,
               on_progress=lambda line: None) -> SizeResult:
    result = SizeResult(events_requested=events)
    users = max(50, round(events / EVENTS_PER_USER))
    result.users = users
    env = dict(os.environ)
    cli = _cli()
    full, before, after = work / "generated", work / "days-365", work / "days-366"
    data, wh_dir = work / "data", work / "warehouse"
    warehouse = wh_dir / "w.duckdb"

    def record(step: str, m: Measurement) -> None:
        result.runs.setdefault(step, []).append(m)
        extra = f", dbt {m.dbt_elapsed:.1f}s" if m.dbt_elapsed is not None else ""
        on_progress(f"  {events:,} events: {step} {m.seconds:.1f}s, peak {m.peak_rss_mib:,.0f} MiB{extra}")

    for run in range(runs):
        shutil.rmtree(full, ignore_errors=True)
        record("generate", measure([*cli, "generate", "--out", str(full), "--users", str(users),
                                    "--days", str(DAYS + 1)], log, env))
        if run == 0:
            # In a child process: a child's peak RSS counts its parent's at the fork, so the benchmark's
            # own process must stay small.
            measure([sys.executable, "-m", "sales_insights.devtools.bench", "--split", str(full), str(before),
                     str(after)], log, env)
            # the split keeps every row: the events are the generated ones
            generated = json.loads((full / "generator.json").read_text())
            result.events = int(generated["row_counts"]["raw_ga4_events"])
        # the split has what the steps read; the generated files were for timing the generator
        shutil.rmtree(full)

        shutil.rmtree(wh_dir, ignore_errors=True)
        _replace_dir(before, data)
        m = measure([*cli, "build", "--data-dir", str(data), "--warehouse", str(warehouse), "--full-refresh",
                     "--quiet", "--no-contracts"], log, env)
        m.dbt_elapsed = _dbt_elapsed(warehouse)
        record("build_full", m)

        _replace_dir(after, data)
        m = measure([*cli, "build", "--data-dir", str(data), "--warehouse", str(warehouse), "--quiet",
                     "--no-contracts"], log, env)
        m.dbt_elapsed = _dbt_elapsed(warehouse)
        if not read_build_info(warehouse)["is_incremental"]:
            raise BenchError(f"the build after appending a day was not incremental; see {log}")
        record("build_incremental", m)

        record("validate", measure([*cli, "validate", "--warehouse", str(warehouse)], log, env))
        shutil.rmtree(work / "exports", ignore_errors=True)
        record("export", measure([*cli, "export", "--warehouse", str(warehouse), "--out", str(work / "exports")],
                                 log, env))

        dbt_m, raw_m = _dbt_against_raw(settings, after, work / "floor", log, env)
        record("dbt_run", dbt_m)
        record("raw_sql", raw_m)

    result.summary = summarize(result.runs)
    return result


def _dbt_against_raw(settings: Settings, data_dir: Path, floor: Path, log: Path,
                     env: dict[str, str]) -> tuple[Measurement, Measurement]:
    """`dbt run --full-refresh` of every model, then the same SQL run raw, each on a fresh copy of one
    loaded file (raw tables and the reference seeds)."""
    shutil.rmtree(floor, ignore_errors=True)
    loaded, dbt_wh, raw_wh = floor / "loaded" / "w.duckdb", floor / "dbt" / "w.duckdb", floor / "raw" / "w.duckdb"
    for path in (loaded, dbt_wh, raw_wh):
        path.parent.mkdir(parents=True)
    measure([sys.executable, "-m", "sales_insights.devtools.bench", "--load", str(data_dir), str(loaded)], log, env)
    vars_ = ["--vars", json.dumps({"use_mock_data": False})]
    command, dbt_env = dbt_command(settings, ["seed", "--exclude", "path:seeds/mock", *vars_], loaded)
    measure(command, log, {**env, **dbt_env}, cwd=settings.project_dir)

    shutil.copyfile(loaded, dbt_wh)
    command, dbt_env = dbt_command(settings, ["run", "--full-refresh", *vars_], dbt_wh)
    dbt_m = measure(command, log, {**env, **dbt_env}, cwd=settings.project_dir)
    dbt_m.dbt_elapsed = _dbt_elapsed(dbt_wh)

    shutil.copyfile(loaded, raw_wh)
    target_dir = dbt_artefacts_dir(dbt_wh) / "target"
    raw_m = measure([sys.executable, "-m", "sales_insights.devtools.bench", "--raw-sql", str(raw_wh), str(target_dir),
                     str(dbt_wh)], log, env)
    raw_info = json.loads((raw_wh.parent / "raw_sql.json").read_text())
    # The Python models ran only in dbt: count their dbt time on the raw side too.
    raw_m.dbt_elapsed = None
    raw_m.seconds += _model_seconds(dbt_wh, raw_info["python_models"])
    return dbt_m, raw_m


def summarize_steps(runs: dict[str, list[Measurement]]) -> dict[str, float]:
    """Each step's median seconds, peak RSS and (where measured) dbt elapsed time."""
    def median(step: str, attr: str = "seconds") -> float:
        return statistics.median(getattr(m, attr) for m in runs[step])

    summary = {}
    for step in runs:
        summary[f"{step}_seconds"] = median(step)
        summary[f"{step}_rss_gib"] = median(step, "peak_rss_mib") / 1024
        if runs[step][0].dbt_elapsed is not None:
            summary[f"{step}_dbt_seconds"] = median(step, "dbt_elapsed")
    return summary


def summarize(runs: dict[str, list[Measurement]]) -> dict[str, float]:
    summary = summarize_steps(runs)
    # ratios measured within one run, then the median of the ratios
    summary["dbt_over_raw_sql"] = statistics.median(
        d.seconds / r.seconds for d, r in zip(runs["dbt_run"], runs["raw_sql"], strict=True))
    summary["incremental_share"] = statistics.median(
        i.dbt_elapsed / f.dbt_elapsed for i, f in zip(runs["build_incremental"], runs["build_full"], strict=True))
    summary["incremental_share_wall"] = statistics.median(
        i.seconds / f.seconds for i, f in zip(runs["build_incremental"], runs["build_full"], strict=True))
    return summary


# --------------------------------------------------------------------------------------------------
# the report


def machine() -> dict:
    mem_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "duckdb_memory_limit": duckdb_memory_limit(),
    }


def target_rows(summary: dict[str, float], targets: dict = TARGETS) -> list[tuple[str, float, float, str, bool]]:
    rows = []
    for key, (label, limit, unit) in targets.items():
        if key in summary:
            rows.append((label, summary[key], limit, unit, summary[key] <= limit))
    return rows


def format_table(results: list[SizeResult]) -> str:
    """A Markdown table: one row per size."""
    header = ("| events | generate | full build (dbt) | full RSS | incremental (dbt) | incr./full | "
              "validate | validate RSS | export | dbt run / raw SQL |")
    lines = [header, "|" + "|".join("---" for _ in range(header.count("|") - 1)) + "|"]
    for r in results:
        s = r.summary
        lines.append(
            f"| {r.events:,} | {s['generate_seconds']:.1f} s | {s['build_full_seconds']:.1f} s "
            f"({s['build_full_dbt_seconds']:.1f} s) | {s['build_full_rss_gib']:.2f} GiB | "
            f"{s['build_incremental_seconds']:.1f} s ({s['build_incremental_dbt_seconds']:.1f} s) | "
            f"{s['incremental_share']:.2f} | {s['validate_seconds']:.1f} s | {s['validate_rss_gib']:.2f} GiB | "
            f"{s['export_seconds']:.1f} s | {s['dbt_over_raw_sql']:.2f} |"
        )
    return "\n".join(lines)


def format_targets(result: SizeResult) -> str:
    if result.events_requested != TARGET_EVENTS:
        return f"(The targets are set at {TARGET_EVENTS:,} events; {result.events:,} is not compared.)"
    lines = [f"Targets at {result.events:,} events:", *_target_lines(target_rows(result.summary))]
    return "\n".join(lines)


def _target_lines(rows: list[tuple[str, float, float, str, bool]]) -> list[str]:
    return [f"  {'met   ' if ok else 'MISSED'} {label}: {value:.2f} {unit} (target <= {limit:g} {unit})"
            for label, value, limit, unit, ok in rows]


@dataclass
class CatalogResult:
    products: int
    order_lines_requested: int
    users: int = 0
    row_counts: dict[str, int] = field(default_factory=dict)
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    summary: dict[str, float] = field(default_factory=dict)


def bench_catalog(settings: Settings, products: int, order_lines: int, runs: int, work: Path, log: Path,
                  on_progress=lambda line: None) -> CatalogResult:
    """A store of `products` products and about `order_lines` order lines: generate it, build it in full,
    and run the experiment models again alone (each step `runs` times)."""
    users = max(50, round(order_lines / (LINES_PER_USER_PER_BASKET_LINE * CATALOG_LINES_PER_ORDER)))
    result = CatalogResult(products=products, order_lines_requested=order_lines, users=users)
    env, cli = dict(os.environ), _cli()
    data, warehouse = work / "data", work / "warehouse" / "w.duckdb"

    def record(step: str, m: Measurement) -> None:
        result.runs.setdefault(step, []).append(m)
        peak = f", peak {m.peak_rss_mib:,.0f} MiB" if m.peak_rss_mib else ""
        on_progress(f"  {products:,} products: {step} {m.seconds:.1f}s{peak}")

    for _ in range(runs):
        shutil.rmtree(data, ignore_errors=True)
        record("generate", measure([*cli, "generate", "--out", str(data), "--users", str(users), "--days", str(DAYS),
                                    "--products", str(products), "--lines-per-order", str(CATALOG_LINES_PER_ORDER)],
                                   log, env))
        result.row_counts = json.loads((data / "generator.json").read_text())["row_counts"]
        shutil.rmtree(warehouse.parent, ignore_errors=True)
        m = measure([*cli, "build", "--data-dir", str(data), "--warehouse", str(warehouse), "--full-refresh",
                     "--quiet", "--no-contracts"], log, env)
        m.dbt_elapsed = _dbt_elapsed(warehouse)
        record("build_full", m)
        inside = _model_seconds(warehouse, EXPERIMENT_MODELS)
        record("experiments_in_build", Measurement(seconds=inside, peak_rss_mib=0.0))
        command, dbt_env = dbt_command(settings, ["run", "--select", " ".join(EXPERIMENT_MODELS), "--vars",
                                                  json.dumps({"use_mock_data": False})], warehouse)
        m = measure(command, log, {**env, **dbt_env}, cwd=settings.project_dir)
        m.dbt_elapsed = _model_seconds(warehouse, EXPERIMENT_MODELS)
        record("experiments_alone", m)
    result.summary = {k: v for k, v in summarize_steps(result.runs).items() if k != "experiments_in_build_rss_gib"}
    return result


def format_catalog(result: CatalogResult) -> str:
    """The catalog benchmark's table and, at the target's shape, its targets."""
    s, rows = result.summary, result.row_counts
    lines = [
        "| products | order lines | orders | events | generate | full build (dbt) | full RSS | experiment models "
        "in the build | experiment models alone (RSS) |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {result.products:,} | {rows.get('raw_shopify_order_lines', 0):,} | {rows.get('raw_shopify_orders', 0):,} "
        f"| {rows.get('raw_ga4_events', 0):,} | {s['generate_seconds']:.1f} s | {s['build_full_seconds']:.1f} s "
        f"({s['build_full_dbt_seconds']:.1f} s) | {s['build_full_rss_gib']:.2f} GiB | "
        f"{s['experiments_in_build_seconds']:.1f} s | {s['experiments_alone_dbt_seconds']:.1f} s "
        f"({s['experiments_alone_rss_gib']:.2f} GiB) |",
    ]
    if (result.products, result.order_lines_requested) != CATALOG_TARGET:
        lines.append(f"(The targets are set at {CATALOG_TARGET[0]:,} products and {CATALOG_TARGET[1]:,} order lines.)")
        return "\n".join(lines)
    lines.append(f"Targets at {result.products:,} products:")
    lines.extend(_target_lines(target_rows(s, CATALOG_TARGETS)))
    return "\n".join(lines)


def run_catalog_bench(settings: Settings, products: int, order_lines: int, runs: int, out: Path, work: Path,
                      on_progress=lambda line: None) -> CatalogResult:
    log = _fresh_log(work)
    on_progress(f"benchmarking a catalog of {products:,} products and about {order_lines:,} order lines, {runs} run(s)")
    result = bench_catalog(settings, products, order_lines, runs, work / f"catalog{products}", log, on_progress)
    _write_results(out, runs, CATALOG_TARGETS, catalog=asdict(result), table=format_catalog(result))
    return result


def run_bench(settings: Settings, sizes: list[int], runs: int, out: Path, work: Path,
              on_progress=lambda line: None) -> list[SizeResult]:
    log = _fresh_log(work)
    results = []
    for events in sizes:
        on_progress(f"benchmarking {events:,} events, {runs} run(s)")
        results.append(bench_size(settings, events, runs, work / f"n{events}", log, on_progress))
    _write_results(out, runs, TARGETS, sizes=[asdict(r) for r in results], table=format_table(results))
    return results


def _fresh_log(work: Path) -> Path:
    """The benchmark's log in `work`, empty."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / "bench.log"
    log.unlink(missing_ok=True)
    return log


def _write_results(out: Path, runs: int, targets: dict, **measured) -> None:
    """The results file: when and where it was measured, the targets, and what was measured."""
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "runs": runs,
        "targets": {k: {"label": v[0], "limit": v[1], "unit": v[2]} for k, v in targets.items()},
        **measured,
    }
    write_text_atomically(out, json.dumps(report, indent=2) + "\n")


def _raw_sql_main(argv: list[str]) -> None:
    warehouse, target_dir, dbt_warehouse = Path(argv[0]), Path(argv[1]), Path(argv[2])
    info = run_raw_sql(warehouse, target_dir, dbt_warehouse)
    (warehouse.parent / "raw_sql.json").write_text(json.dumps(info))


def _load_main(argv: list[str]) -> None:
    con = duckdb.connect(argv[1])
    try:
        load_data_dir(con, Path(argv[0]))
    finally:
        con.close()


# The heavy steps the benchmark runs in child processes.
_STEPS = {
    "--raw-sql": (3, _raw_sql_main, "WAREHOUSE DBT_TARGET_DIR DBT_WAREHOUSE"),
    "--split": (3, lambda argv: split_last_day(*map(Path, argv)), "FULL_DIR BEFORE_DIR AFTER_DIR"),
    "--load": (2, _load_main, "DATA_DIR WAREHOUSE"),
}

if __name__ == "__main__":
    step = _STEPS.get(sys.argv[1] if len(sys.argv) > 1 else "")
    if step is None or len(sys.argv) != step[0] + 2:
        sys.exit("usage: python -m sales_insights.devtools.bench "
                 + " | ".join(f"{k} {v[2]}" for k, v in _STEPS.items()))
    step[1](sys.argv[2:])
