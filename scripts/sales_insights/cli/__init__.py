"""The `sales-insights` command: parses options, calls the library, prints, sets the exit code."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from sales_insights import __version__
from sales_insights.config import load_project_config, load_settings
from sales_insights.devtools.generate import GA4_FORMATS, GeneratorConfig, generate
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.export import ExportResult, export_marts
from sales_insights.outputs.report import ReportResult, write_report
from sales_insights.outputs.shortlist import TYPES, format_shortlist, read_shortlist
from sales_insights.outputs.sql_access import FORMATS, prompt_lines, run_sql
from sales_insights.outputs.sql_access import shell as run_shell
from sales_insights.pipeline.build import BuildResult, build, read_build_info
from sales_insights.pipeline.data_source import resolve_source
from sales_insights.pipeline.faults import disk_full_message
from sales_insights.pipeline.main_job import report_path, run_main
from sales_insights.pipeline.processes import Stopped, stop_on_signals
from sales_insights.quality.validate import ERROR, format_report, suite_names, validate_build

_path = click.Path(path_type=Path)
_EXPORT_DIR_HELP = ("Export directory (default: SALES_INSIGHTS_EXPORT_DIR, else exports/, or W_exports/ beside a "
                    "warehouse W given with --warehouse).")
# The warehouse a command reads (the published one unless told otherwise).
_warehouse_to_read = click.option(
    "--warehouse", type=_path, default=None,
    help="DuckDB file (default: SALES_INSIGHTS_WAREHOUSE or warehouse/sales_insights.duckdb).")


def _fail(exc: SalesInsightsError) -> None:
    click.secho(f"error: {exc}", fg="red", err=True)
    sys.exit(1)


def _note(line: str) -> None:
    click.secho(f"note: {line}", fg="yellow", err=True)


def _echo_dbt(quiet: bool):
    return None if quiet else (lambda line: click.echo(line, err=True))


def _print_build(result: BuildResult) -> None:
    for warning in result.load_report.warnings if result.load_report else []:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(result.node_statuses.items()))
    kind = "incremental build" if result.incremental else "full build"
    click.echo(f"Built {result.warehouse} in {result.seconds:.1f}s ({kind}) from {result.source.description}")
    click.echo(f"  build id {result.build_id}; dbt nodes: {statuses}")
    click.echo("  rejected rows: none" if not result.rejected_rows else
               "  rejected rows (kept in staging.stg_rejected_rows with their reasons):")
    for table in result.rejected_rows:
        click.echo(f"    {table.describe()}")
    if result.contracts:
        report = result.contracts
        click.echo(f"  contracts: {report.count('passed')}/{report.expectations} expectations passed in "
                   f"{len(report.suites)} suites ({report.seconds:.1f}s); Data Docs: {report.data_docs}")
    else:
        click.secho("  contracts: not checked (--no-contracts); run `sales-insights validate`", fg="yellow")
    for note in result.source.notes:
        click.secho(f"note: {note}", fg="yellow")


def _progress(line: str) -> None:
    """Progress for a person at a terminal; nothing when piped or in CI."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        click.echo(line, err=True)


def _print_export(result: ExportResult) -> None:
    rows = sum(f["rows"] for f in result.files)
    verb = "Export already up to date" if result.reused else "Exported"
    click.echo(f"{verb}: {len(result.files)} marts, {rows:,} rows in {result.run_dir} (build {result.build_id})")
    if result.is_complete:
        click.echo(f"  latest -> {result.run_dir.name}")
    for old in result.removed:
        click.echo(f"  removed old export {old.name}")


def _print_report(result: ReportResult) -> None:
    click.echo(f"Report of build {result.build_id}: {result.path} ({len(result.charts)} charts, "
               f"{result.bytes_written / 1e6:.1f} MB, opens offline)")


def _cli_command() -> str:
    """How to call this command again from here: `sales-insights` when that is what the PATH finds, else the
    path of this install's script (.venv/bin/sales-insights in the project)."""
    script = Path(sys.executable).with_name("sales-insights")
    found = shutil.which("sales-insights")
    if found and Path(found).resolve() == script.resolve():
        return "sales-insights"
    with contextlib.suppress(ValueError):
        return str(script.relative_to(Path.cwd()))
    return str(script)


def _print_query_help(warehouse: Path) -> None:
    command = _cli_command()
    default = warehouse == load_settings().warehouse
    where = "" if default else f" --warehouse {warehouse}"
    click.echo("")
    click.echo(f"Warehouse: {warehouse}")
    click.echo("Query it (read-only), for example:")
    click.echo(f"  {command} sql{where} \"select reason, count(*) from staging.stg_rejected_rows group by 1\"")
    click.echo(f"  {command} shell{where}    # an interactive SQL prompt")


class _Commands(click.Group):
    """The command group, ending on a signal (SIGTERM, SIGINT) or a full disk with one line, not a
    traceback."""

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except Stopped as exc:  # a SystemExit carrying the exit code (128 + the signal)
            click.secho(f"error: {exc}", fg="red", err=True)
            raise
        except OSError as exc:  # click takes the other errors; a build says more of a full disk itself
            if exc.errno != errno.ENOSPC:
                raise
            where = Path(exc.filename) if isinstance(exc.filename, str) else Path.cwd()
            _fail(SalesInsightsError(disk_full_message(where)))


@click.group(cls=_Commands, help="Shopify orders and GA4 events turned into funnel, CLV and experiment marts.")
@click.version_option(__version__, prog_name="sales-insights")
def main() -> None:
    # A signal raises Stopped, which unwinds the stack: a build stops dbt, records its failed attempt and
    # removes its unpublished file. The handlers before are back once the command ends.
    click.get_current_context().call_on_close(stop_on_signals())


@main.command(help="Write the seven raw-contract CSVs of a deterministic mock store into OUT.")
@click.option("--out", "out_dir", type=_path, required=True, help="Directory for the CSVs.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed: same seed, same files.")
@click.option("--users", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Number of GA4 visitors (browsers).")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="Days of history.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default="2025-06-01", show_default=True,
              help="First day of history.")
@click.option("--bad-rows/--no-bad-rows", default=True, show_default=True,
              help="Plant a few contract-breaking rows for the rejects table.")
@click.option("--planted/--no-planted", default=True, show_default=True,
              help="Plant the opportunities (leaky mobile checkout, bad landing page, product pair); "
                   "--no-planted makes a store where nothing differs.")
@click.option("--ga4-format", type=click.Choice(GA4_FORMATS), default="csv", show_default=True,
              help="GA4 events as raw_ga4_events.csv (the raw-data contract), or as GA4's BigQuery export in "
                   "ga4_export/: daily Parquet tables (export) or gzipped, sharded JSON (export-json).")
def generate_cmd(out_dir: Path, seed: int, users: int, days: int, start, bad_rows: bool, planted: bool,
                 ga4_format: str) -> None:
    config = GeneratorConfig(seed=seed, users=users, days=days, start=date(start.year, start.month, start.day),
                             bad_rows=bad_rows, planted=planted, ga4_format=ga4_format)
    _progress(f"generating {users:,} visitors over {days} days into {out_dir}")
    result = generate(out_dir, config)
    for name, rows in result.row_counts.items():
        click.echo(f"{name:26s} {rows:>12,d} rows")
    click.echo(f"Wrote {out_dir}")


main.add_command(generate_cmd, name="generate")


@main.command(name="build", help="Load raw data and run dbt build; publish the warehouse only if all passed.")
@click.option("--data-dir", type=_path, default=None,
              help="Directory of raw-contract CSVs (default: SALES_INSIGHTS_DATA_DIR, else the mock seeds).")
@click.option("--warehouse", type=_path, default=None,
              help="DuckDB file to publish (default: SALES_INSIGHTS_WAREHOUSE or warehouse/sales_insights.duckdb).")
@click.option("--full-refresh", is_flag=True, help="Rebuild everything instead of building incrementally.")
@click.option("--quiet", is_flag=True, help="Do not show dbt's output.")
@click.option("--no-contracts", is_flag=True,
              help="Publish after dbt build without the Great Expectations check (for timing it apart: "
                   "run `sales-insights validate` after).")
def build_cmd(data_dir: Path | None, warehouse: Path | None, full_refresh: bool, quiet: bool,
              no_contracts: bool) -> None:
    settings = load_settings()
    try:
        source = resolve_source(settings, data_dir)
        result = build(settings, source, warehouse, _echo_dbt(quiet), full_refresh, contracts=not no_contracts,
                       on_progress=_progress, on_note=_note)
    except SalesInsightsError as exc:
        _fail(exc)
    _print_build(result)


@main.command(name="run", help="The main job: generate mock data if needed, build, and say how to query.")
@click.option("--data-dir", type=_path, default=None, help="Directory of raw-contract CSVs instead of mocks.")
@click.option("--warehouse", type=_path, default=None, help="DuckDB file to publish.")
@click.option("--export-dir", type=_path, default=None,
              help=_EXPORT_DIR_HELP)
@click.option("--seed", type=int, default=42, show_default=True, help="Mock data seed.")
@click.option("--users", type=click.IntRange(min=1), default=100_000, show_default=True, help="Mock visitors.")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="Mock days.")
@click.option("--full-refresh", is_flag=True, help="Rebuild everything instead of building incrementally.")
@click.option("--quiet", is_flag=True, help="Do not show dbt's output.")
def run_cmd(
    data_dir: Path | None, warehouse: Path | None, export_dir: Path | None, seed: int, users: int, days: int,
    full_refresh: bool, quiet: bool
) -> None:
    settings = load_settings()
    if export_dir:
        settings = dataclasses.replace(settings, export_dir_override=export_dir.resolve())
    try:
        result = run_main(settings, data_dir, warehouse, GeneratorConfig(seed=seed, users=users, days=days),
                          _echo_dbt(quiet), full_refresh, _progress, _note)
    except SalesInsightsError as exc:
        _fail(exc)
    if result.generated:
        click.echo(f"Generated mock data in {result.source.path}")
    _print_build(result.build)
    _print_export(result.export)
    _print_report(result.report)
    _print_query_help(result.build.warehouse)


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SalesInsightsError(f"--now {value!r}: not an ISO time such as 2026-11-25T07:00:00+00:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_as_of = click.option("--now", "now", default=None, metavar="TIMESTAMP",
                      help="Evaluate as of this ISO time instead of now (UTC unless it has an offset).")


@main.command(help="Show the data mode and MCP state, the last build, its contract checks, the last export "
                   "and the SLOs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--check-mcp", is_flag=True,
              help="Also open a session with each MCP server and check it has the tools the connectors call.")
@_as_of
def status(as_json: bool, now: str | None, check_mcp: bool) -> None:
    from sales_insights.pipeline.status import collect, format_status

    try:
        settings = load_settings()
        state = collect(settings, load_project_config(settings.project_dir), _now(now), check_mcp)
    except SalesInsightsError as exc:
        _fail(exc)
    click.echo(json.dumps(state, indent=2, default=str) if as_json else format_status(state))


@main.command(help="Evaluate the service level objectives ([slo] in sales_insights.toml) from the warehouse, the "
                   "last build and the exports. Exit code 1 when one is breached (not when one is only not "
                   "yet due, as the export of a fresh install before its first deadline).")
@_warehouse_to_read
@click.option("--export-dir", type=_path, default=None,
              help=_EXPORT_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@_as_of
def slo(warehouse: Path | None, export_dir: Path | None, as_json: bool, now: str | None) -> None:
    from sales_insights.quality.slo import as_dicts, evaluate, format_results

    try:
        settings = load_settings()
        config = load_project_config(settings.project_dir)
        results = evaluate(config.slo, (warehouse or settings.warehouse).resolve(),
                           (export_dir or settings.export_dir_for(warehouse)).resolve(), _now(now))
    except SalesInsightsError as exc:
        _fail(exc)
    click.echo(json.dumps(as_dicts(results), indent=2) if as_json else format_results(results))
    if any(r.breached for r in results):
        sys.exit(1)


@main.command(help="Check the warehouse against the Great Expectations suites (gx/expectations): every raw table "
                   "and mart. Exit code 1 when data breaks a contract, 3 when a check could not be evaluated.")
@click.option("--suite", "suites", multiple=True, type=click.Choice(suite_names()), metavar="NAME",
              help="Only this suite (repeat for several); a suite is named after its table.")
@_warehouse_to_read
@click.option("--verbose", "-v", is_flag=True, help="List every expectation, not only the ones that failed.")
def validate(suites: tuple[str, ...], warehouse: Path | None, verbose: bool) -> None:
    try:
        settings = load_settings()
        target = (warehouse or settings.warehouse).resolve()
        info = read_build_info(target)
        if info is None:
            raise SalesInsightsError(f"no built warehouse at {target}: run `sales-insights build` first")
        report = validate_build(settings, target, str(info["data_source"]), list(suites) or None, _progress,
                                str(info.get("ga4_grain") or "events"))
    except SalesInsightsError as exc:
        _fail(exc)
    click.echo(format_report(report, verbose=verbose))
    if not report.success:
        sys.exit(3 if report.count(ERROR) else 1)


@main.command(name="export", help="Write the marts of the warehouse's build as CSV, with a manifest.")
@click.option("--out", "out_dir", type=_path, default=None,
              help=_EXPORT_DIR_HELP)
@click.option("--mart", "marts", multiple=True,
              help="Only this mart (repeat for several); default: the marts listed in sales_insights.toml.")
@_warehouse_to_read
def export_cmd(out_dir: Path | None, marts: tuple[str, ...], warehouse: Path | None) -> None:
    try:
        settings = load_settings()
        config = load_project_config(settings.project_dir)
        result = export_marts(warehouse or settings.warehouse, out_dir or settings.export_dir_for(warehouse),
                              list(config.export_marts), list(marts) or None, config.keep_export_runs, _progress,
                              config.export_order_by, config.neutralize_export_formulas)
    except SalesInsightsError as exc:
        _fail(exc)
    _print_export(result)


@main.command(help="Write one self-contained HTML page of the warehouse's marts (headline metrics, the landing page "
                   "to fix first, funnel, cohorts, CLV, forecast, tracking coverage, experiment shortlist); it "
                   "needs no network to open. `run` writes it too.")
@click.option("--out", type=_path, default=None,
              help="HTML file (default: report.html in the warehouse's export directory; see `export --help`).")
@_warehouse_to_read
def report(out: Path | None, warehouse: Path | None) -> None:
    try:
        settings = load_settings()
        config = load_project_config(settings.project_dir)
        result = write_report(warehouse or settings.warehouse, out or report_path(settings, warehouse),
                              config.slo.tracking_coverage_floor, _progress)
    except SalesInsightsError as exc:
        _fail(exc)
    _print_report(result)


@main.command(help="Extract GA4 and Shopify data through their MCP servers (ENABLE_MCP=true) into dated extract "
                   "folders under SALES_INSIGHTS_EXTRACT_DIR: each day's raw responses (JSON lines) and contract "
                   "CSVs; re-extracting a day replaces it. Then current/ is rebuilt from every day.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day to extract (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (default: today, UTC).")
@click.option("--connector", "connectors", type=click.Choice(["ga4", "shopify"]), multiple=True,
              help="Only this connector (repeat for both; default: both).")
def extract(since, until, connectors: tuple[str, ...]) -> None:
    from sales_insights.connectors.extract import run_extract

    try:
        settings = load_settings()
        result = run_extract(settings, since.date(), until.date() if until else None,
                             connectors or ("ga4", "shopify"), on_progress=_progress)
    except SalesInsightsError as exc:
        _fail(exc)
    for connector in result.connectors:
        tables = ", ".join(f"{table} {rows:,}" for table, rows in connector.rows.items())
        click.echo(f"{connector.connector}: {len(connector.days)} days ({result.since} to {result.until}); {tables}; "
                   f"{connector.pages} pages, {connector.retries} retries")
    click.echo(f"Extracts in {result.extract_dir}; the contract CSVs of every day extracted: {result.current_dir}")
    click.echo("Build from them: USE_MOCK_DATA=false sales-insights build (with ENABLE_MCP=true), or "
               f"sales-insights build --data-dir {result.current_dir}")


@main.command(name="sql", help="Run SQL on the warehouse, read-only, and print the result; QUERY - reads it from "
                              "standard input. For example: sales-insights sql \"select * from "
                              "marts.fct_headline_metrics\"")
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="A table for people, or every row as CSV or JSON lines for programs.")
@click.option("--max-rows", type=click.IntRange(min=1), default=40, show_default=True,
              help="Rows a table shows (CSV and JSON give them all).")
@_warehouse_to_read
def sql_cmd(query: str, fmt: str, max_rows: int, warehouse: Path | None) -> None:
    try:
        text = sys.stdin.read() if query == "-" else query
        click.echo(run_sql((warehouse or load_settings().warehouse).resolve(), text, fmt, max_rows), nl=False)
    except SalesInsightsError as exc:
        _fail(exc)


@main.command(help="An interactive SQL prompt on the warehouse, read-only (statements end with ;, .help for "
                   "help). Piped input runs as a script; a failed statement then gives exit code 1.")
@click.option("--max-rows", type=click.IntRange(min=1), default=40, show_default=True,
              help="Rows a result shows.")
@_warehouse_to_read
def shell(max_rows: int, warehouse: Path | None) -> None:
    try:
        lines = prompt_lines() if sys.stdin.isatty() else sys.stdin
        code = run_shell((warehouse or load_settings().warehouse).resolve(), lines,
                         lambda text: click.echo(text, nl=False), max_rows)
    except SalesInsightsError as exc:
        _fail(exc)
    sys.exit(code)


@main.command(help="Print the ranked experiment shortlist of the warehouse.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="How many experiments.")
@click.option("--all", "show_all", is_flag=True, help="Every candidate, also the ones that scored zero.")
@click.option("--type", "types", type=click.Choice(TYPES), multiple=True,
              help="Only this experiment type (repeat for several).")
@_warehouse_to_read
@click.option("--no-hypotheses", is_flag=True, help="Only the table, not the hypothesis of each experiment.")
def shortlist(top: int, show_all: bool, types: tuple[str, ...], warehouse: Path | None, no_hypotheses: bool) -> None:
    try:
        settings = load_settings()
        frame = read_shortlist(warehouse or settings.warehouse, None if show_all else top, types)
    except SalesInsightsError as exc:
        _fail(exc)
    width = shutil.get_terminal_size((120, 24)).columns
    click.echo(format_shortlist(frame, width=width, hypotheses=not no_hypotheses))


@main.command(help="Benchmark the pipeline at N GA4 events: generate, full and one-day incremental build, validate, "
                   "export, and dbt against the same SQL run raw. Prints a table and writes JSON.")
@click.option("--events", "sizes", type=click.IntRange(min=1000), multiple=True, metavar="N",
              help="GA4 events (repeat for a scaling table). Default: 10,000,000.")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs of each step; the median is reported.")
@click.option("--out", type=_path, default=Path("bench/results.json"), show_default=True, help="JSON results.")
@click.option("--work-dir", type=_path, default=Path("bench/work"), show_default=True,
              help="Where the data, warehouses and the log go (several GiB at 10M events).")
def bench(sizes: tuple[int, ...], runs: int, out: Path, work_dir: Path) -> None:
    from sales_insights.devtools.bench import format_table, format_targets, run_bench

    settings = load_settings()
    try:
        results = run_bench(settings, list(sizes) or [10_000_000], runs, out, work_dir,
                            on_progress=lambda line: click.echo(line, err=True))
    except SalesInsightsError as exc:
        _fail(exc)
    click.echo(format_table(results))
    for result in results:
        click.echo(format_targets(result))
    click.echo(f"Results: {out}")


@main.command(name="dbt", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
              help="Run dbt in this process on the project (its profiles/ and project directory by default), for "
                   "example `sales-insights dbt build --target spark` or `sales-insights dbt --data-dir DIR build "
                   "--target spark`. On a Spark session target (the optional "
                   "extra '.[spark]') the Python models run in dbt's own Spark session, which plain dbt-spark "
                   "cannot do. Exits with dbt's code.")
@click.option("--data-dir", type=_path, default=None,
              help="Spark session targets: load this directory of raw-contract CSVs into the target's raw schema "
                   "first (the loader's checks), and build from it instead of the mock seeds.")
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt_cmd(data_dir: Path | None, dbt_args: tuple[str, ...]) -> None:
    from sales_insights.devtools.spark import run_dbt_in_process

    try:
        settings = load_settings()
        code = run_dbt_in_process(list(dbt_args), settings.project_dir, settings.profiles_dir, data_dir)
    except SalesInsightsError as exc:
        _fail(exc)
    sys.exit(code)


if __name__ == "__main__":
    main()
