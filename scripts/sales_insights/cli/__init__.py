"""The `sales-insights` command: parses options, calls the library, prints, sets the exit code.

Every command runs inside the group's error handling (_Commands): a SalesInsightsError, which is what a
user's mistake raises (a bad setting, a bad file, a missing warehouse), becomes one `error:` line and exit
code 1, never a traceback; so does a full disk, and a signal ends the command with 128 + its number."""

from __future__ import annotations

import dataclasses
import errno
import json
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from sales_insights import __version__
from sales_insights.cli import options
from sales_insights.cli.output import (
    echo_dbt,
    error,
    note,
    print_build,
    print_export,
    print_query_help,
    print_report,
    progress,
)
from sales_insights.config import load_project_config, load_settings
from sales_insights.devtools.generate import GA4_FORMATS, SHOPIFY_FORMATS, GeneratorConfig, generate
from sales_insights.devtools.mock_catalog import PRODUCTS
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.export import export_marts
from sales_insights.outputs.report import write_report
from sales_insights.outputs.shortlist import TYPES, format_shortlist, read_shortlist
from sales_insights.outputs.sql_access import FORMATS, prompt_lines, run_sql
from sales_insights.outputs.sql_access import shell as run_shell
from sales_insights.pipeline.build import build, read_build_info
from sales_insights.pipeline.data_source import resolve_source
from sales_insights.pipeline.faults import disk_full_message
from sales_insights.pipeline.main_job import report_path, run_main
from sales_insights.pipeline.processes import Stopped, stop_on_signals
from sales_insights.quality.validate import ERROR, format_report, suite_names, validate_build


class _Commands(click.Group):
    """The command group: a user's mistake (SalesInsightsError) or a full disk ends a command with one line
    and exit code 1, a signal (SIGTERM, SIGINT) with one line and 128 + the signal; never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SalesInsightsError as exc:
            error(str(exc))
            sys.exit(1)

    def main(self, *args, **kwargs):
        try:
            return super().main(*args, **kwargs)
        except Stopped as exc:  # a SystemExit carrying the exit code (128 + the signal)
            error(str(exc))
            raise
        except OSError as exc:  # click takes the other errors; a build says more of a full disk itself
            if exc.errno != errno.ENOSPC:
                raise
            where = Path(exc.filename) if isinstance(exc.filename, str) else Path.cwd()
            error(disk_full_message(where))
            sys.exit(1)


@click.group(cls=_Commands, help="Shopify orders and GA4 events turned into funnel, CLV and experiment marts.")
@click.version_option(__version__, prog_name="sales-insights")
def main() -> None:
    # A signal raises Stopped, which unwinds the stack: a build stops dbt, records its failed attempt and
    # removes its unpublished file. The handlers before are back once the command ends.
    click.get_current_context().call_on_close(stop_on_signals())


@main.command(name="generate", help="Write the seven raw-contract CSVs of a deterministic mock store into OUT.")
@click.option("--out", "out_dir", type=options.PATH, required=True, help="Directory for the CSVs.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed: same seed, same files.")
@click.option("--users", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Number of GA4 visitors (browsers).")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="Days of history.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default="2025-06-01", show_default=True,
              help="First day of history.")
@click.option("--bad-rows/--no-bad-rows", default=True, show_default=True,
              help="Plant a few rows that break the raw-data contract, for the rejects table.")
@click.option("--planted/--no-planted", default=True, show_default=True,
              help="Plant the opportunities (leaky mobile checkout, bad landing page, product pair); "
                   "--no-planted makes a store where nothing differs.")
@click.option("--ga4-format", type=click.Choice(GA4_FORMATS), default="csv", show_default=True,
              help="GA4 events as raw_ga4_events.csv (the raw-data contract), or as GA4's BigQuery export in "
                   "ga4_export/: daily Parquet tables (export) or gzipped, sharded JSON (export-json).")
@click.option("--shopify-format", type=click.Choice(SHOPIFY_FORMATS), default="flat", show_default=True,
              help="Shopify as the six raw_shopify_*.csv (the raw-data contract), as a Bulk Operation's JSONL in "
                   "shopify_bulk/ (bulk), or as Fivetran's Shopify tables in fivetran_shopify/ (fivetran).")
@click.option("--messy-catalog", is_flag=True,
              help="Give the catalog a real one's shapes: a product relaunched under a new id with the same title, "
                   "a renamed product, fee and custom lines that are not merchandise.")
@click.option("--products", type=click.IntRange(min=len(PRODUCTS)), default=len(PRODUCTS), show_default=True,
              help="Products in the catalog: the mock store's own and, past them, a long tail of generated ones "
                   "whose sales fall off as a power of their rank.")
@click.option("--lines-per-order", type=click.FloatRange(min=1.0), default=GeneratorConfig.lines_per_order,
              show_default=True,
              help="Mean number of lines of an order (before the planted pair's add-on).")
def generate_cmd(out_dir: Path, seed: int, users: int, days: int, start, bad_rows: bool, planted: bool,
                 ga4_format: str, shopify_format: str, messy_catalog: bool, products: int,
                 lines_per_order: float) -> None:
    config = GeneratorConfig(seed=seed, users=users, days=days, start=date(start.year, start.month, start.day),
                             bad_rows=bad_rows, planted=planted, ga4_format=ga4_format,
                             shopify_format=shopify_format, messy_catalog=messy_catalog, products=products,
                             lines_per_order=lines_per_order)
    progress(f"generating {users:,} visitors over {days} days into {out_dir}")
    result = generate(out_dir, config)
    for name, rows in result.row_counts.items():
        click.echo(f"{name:26s} {rows:>12,d} rows")
    click.echo(f"Wrote {out_dir}")


@main.command(name="build", help="Load raw data and run dbt build; publish the warehouse only if all passed.")
@options.data_dir
@options.published_warehouse
@options.full_refresh
@options.quiet
@click.option("--no-contracts", is_flag=True,
              help="Publish after dbt build without the contract checks (the Great Expectations suites; to "
                   "time them apart, run `sales-insights validate` after).")
def build_cmd(data_dir: Path | None, warehouse: Path | None, full_refresh: bool, quiet: bool,
              no_contracts: bool) -> None:
    settings = load_settings()
    source = resolve_source(settings, data_dir)
    result = build(settings, source, warehouse, echo_dbt(quiet), full_refresh, contracts=not no_contracts,
                   on_progress=progress, on_note=note)
    print_build(result)


@main.command(name="run", help="The main job: generate mock data if needed, build, and say how to query.")
@options.data_dir
@options.published_warehouse
@options.export_dir
@click.option("--seed", type=int, default=42, show_default=True, help="Mock data seed.")
@click.option("--users", type=click.IntRange(min=1), default=100_000, show_default=True, help="Mock visitors.")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True, help="Mock days.")
@options.full_refresh
@options.quiet
def run_cmd(
    data_dir: Path | None, warehouse: Path | None, export_dir: Path | None, seed: int, users: int, days: int,
    full_refresh: bool, quiet: bool
) -> None:
    settings = load_settings()
    if export_dir:
        settings = dataclasses.replace(settings, export_dir_override=export_dir.resolve())
    result = run_main(settings, data_dir, warehouse, GeneratorConfig(seed=seed, users=users, days=days),
                      echo_dbt(quiet), full_refresh, progress, note)
    if result.generated:
        click.echo(f"Generated mock data in {result.source.path}")
    print_build(result.build)
    print_export(result.export)
    print_report(result.report)
    print_query_help(result.build.warehouse)


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SalesInsightsError(f"--now {value!r}: not an ISO time such as 2026-11-25T07:00:00+00:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@main.command(help="Show the data mode and MCP state, the last build, its contract checks, the last export "
                   "and the SLOs.")
@options.as_json
@click.option("--check-mcp", is_flag=True,
              help="Also open a session with each MCP server and check it has the tools the connectors call.")
@options.as_of
def status(as_json: bool, now: str | None, check_mcp: bool) -> None:
    from sales_insights.pipeline.status import collect, format_status

    settings = load_settings()
    state = collect(settings, load_project_config(settings.project_dir), _now(now), check_mcp)
    click.echo(json.dumps(state, indent=2, default=str) if as_json else format_status(state))


@main.command(help="Evaluate the service level objectives ([slo] in sales_insights.toml) from the warehouse, the "
                   "last build and the exports. Exit code 1 when one is breached (not when one is only not "
                   "yet due, as the export of a fresh install before its first deadline).")
@options.warehouse
@options.export_dir
@options.as_json
@options.as_of
def slo(warehouse: Path | None, export_dir: Path | None, as_json: bool, now: str | None) -> None:
    from sales_insights.quality.slo import as_dicts, evaluate, format_results

    settings = load_settings()
    config = load_project_config(settings.project_dir)
    results = evaluate(config.slo, (warehouse or settings.warehouse).resolve(),
                       (export_dir or settings.export_dir_for(warehouse)).resolve(), _now(now))
    click.echo(json.dumps(as_dicts(results), indent=2) if as_json else format_results(results))
    if any(r.breached for r in results):
        sys.exit(1)


@main.command(help="Run the contract checks on the warehouse: the Great Expectations suites (gx/expectations) of "
                   "every raw table and mart. Exit code 1 when data fails a check, 3 when a check could not be "
                   "evaluated.")
@click.option("--suite", "suites", multiple=True, type=click.Choice(suite_names()), metavar="NAME",
              help="Only this suite (repeat for several); a suite is named after its table.")
@options.warehouse
@click.option("--verbose", "-v", is_flag=True, help="List every expectation, not only the ones that failed.")
def validate(suites: tuple[str, ...], warehouse: Path | None, verbose: bool) -> None:
    settings = load_settings()
    target = (warehouse or settings.warehouse).resolve()
    info = read_build_info(target)
    if info is None:
        raise SalesInsightsError(f"no built warehouse at {target}: run `sales-insights build` first")
    report = validate_build(settings, target, str(info["data_source"]), list(suites) or None, progress,
                            str(info.get("ga4_grain") or "events"))
    click.echo(format_report(report, verbose=verbose))
    if not report.success:
        sys.exit(3 if report.count(ERROR) else 1)


@main.command(name="export", help="Write the marts of the warehouse's build as CSV, with a manifest.")
@click.option("--out", "out_dir", type=options.PATH, default=None, help=options.EXPORT_DIR_HELP)
@click.option("--mart", "marts", multiple=True,
              help="Only this mart (repeat for several); default: the marts listed in sales_insights.toml.")
@options.warehouse
def export_cmd(out_dir: Path | None, marts: tuple[str, ...], warehouse: Path | None) -> None:
    settings = load_settings()
    config = load_project_config(settings.project_dir)
    result = export_marts(warehouse or settings.warehouse, out_dir or settings.export_dir_for(warehouse),
                          list(config.export_marts), list(marts) or None, config.keep_export_runs, progress,
                          config.export_order_by, config.neutralize_export_formulas)
    print_export(result)


@main.command(help="Write one self-contained HTML page of the warehouse's marts (headline metrics, the landing page "
                   "to fix first, funnel, cohorts, CLV, forecast, tracking coverage, experiment shortlist); it "
                   "needs no network to open. `run` writes it too.")
@click.option("--out", type=options.PATH, default=None,
              help="HTML file (default: report.html in the warehouse's export directory; see `export --help`).")
@options.warehouse
def report(out: Path | None, warehouse: Path | None) -> None:
    settings = load_settings()
    config = load_project_config(settings.project_dir)
    result = write_report(warehouse or settings.warehouse, out or report_path(settings, warehouse),
                          config.slo.tracking_coverage_floor, progress)
    print_report(result)


@main.command(help="Extract GA4 and Shopify data through their MCP servers (ENABLE_MCP=true) into dated extract "
                   "folders under SALES_INSIGHTS_EXTRACT_DIR: each day's raw responses (JSON lines) and contract "
                   "CSVs; re-extracting a day replaces it. Then current/ is rebuilt from every day.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day to extract (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (default: today, UTC).")
@click.option("--connector", "connectors", type=click.Choice(["ga4", "shopify"]), multiple=True,
              help="Only this connector (repeat for both; default: both).")
def extract(since, until, connectors: tuple[str, ...]) -> None:
    from sales_insights.connectors.extract import run_extract

    settings = load_settings()
    result = run_extract(settings, since.date(), until.date() if until else None,
                         connectors or ("ga4", "shopify"), on_progress=progress)
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
@options.warehouse
def sql_cmd(query: str, fmt: str, max_rows: int, warehouse: Path | None) -> None:
    text = sys.stdin.read() if query == "-" else query
    click.echo(run_sql((warehouse or load_settings().warehouse).resolve(), text, fmt, max_rows), nl=False)


@main.command(help="An interactive SQL prompt on the warehouse, read-only (statements end with ;, .help for "
                   "help). Piped input runs as a script; a failed statement then gives exit code 1.")
@click.option("--max-rows", type=click.IntRange(min=1), default=40, show_default=True,
              help="Rows a result shows.")
@options.warehouse
def shell(max_rows: int, warehouse: Path | None) -> None:
    lines = prompt_lines() if sys.stdin.isatty() else sys.stdin
    code = run_shell((warehouse or load_settings().warehouse).resolve(), lines,
                     lambda text: click.echo(text, nl=False), max_rows)
    sys.exit(code)


@main.command(help="Print the ranked experiment shortlist of the warehouse.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many experiments, of those with evidence.")
@click.option("--all", "show_all", is_flag=True,
              help="Every candidate, also the ones whose test found nothing (has_evidence false).")
@click.option("--type", "types", type=click.Choice(TYPES), multiple=True,
              help="Only this experiment type (repeat for several).")
@options.warehouse
@click.option("--no-hypotheses", is_flag=True, help="Only the table, not the hypothesis of each experiment.")
def shortlist(top: int, show_all: bool, types: tuple[str, ...], warehouse: Path | None, no_hypotheses: bool) -> None:
    settings = load_settings()
    frame = read_shortlist(warehouse or settings.warehouse, None if show_all else top, types)
    width = shutil.get_terminal_size((120, 24)).columns
    click.echo(format_shortlist(frame, width=width, hypotheses=not no_hypotheses))


@main.command(help="Benchmark the pipeline at N GA4 events: generate, full and one-day incremental build, validate, "
                   "export, and dbt against the same SQL run raw. Prints a table and writes JSON.")
@click.option("--events", "sizes", type=click.IntRange(min=1000), multiple=True, metavar="N",
              help="GA4 events (repeat for a scaling table). Default: 10,000,000.")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Runs of each step; the median is reported.")
@click.option("--out", type=options.PATH, default=Path("bench/results.json"), show_default=True, help="JSON results.")
@click.option("--work-dir", type=options.PATH, default=Path("bench/work"), show_default=True,
              help="Where the data, warehouses and the log go (several GiB at 10M events).")
@click.option("--products", type=click.IntRange(min=len(PRODUCTS)), default=None, metavar="N",
              help="Instead of GA4 volume, a store with a real catalog's shape: N products with a long tail of "
                   "popularity (targets set at 5,000); times the full build and the experiment models.")
@click.option("--order-lines", type=click.IntRange(min=1000), default=500_000, show_default=True, metavar="N",
              help="With --products: the order lines of the store.")
def bench(sizes: tuple[int, ...], runs: int, out: Path, work_dir: Path, products: int | None,
          order_lines: int) -> None:
    from sales_insights.devtools.bench import format_catalog, format_table, format_targets, run_bench, run_catalog_bench

    settings = load_settings()
    if products is not None:
        if sizes:
            raise click.UsageError("--products measures a catalog, --events GA4 volume: one at a time")
        result = run_catalog_bench(settings, products, order_lines, runs, out, work_dir,
                                   on_progress=lambda line: click.echo(line, err=True))
        click.echo(format_catalog(result))
        click.echo(f"Results: {out}")
        return
    results = run_bench(settings, list(sizes) or [10_000_000], runs, out, work_dir,
                        on_progress=lambda line: click.echo(line, err=True))
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
@click.option("--data-dir", type=options.PATH, default=None,
              help="Spark session targets: load this directory of raw-contract CSVs into the target's raw schema "
                   "first (the loader's checks), and build from it instead of the mock seeds.")
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt_cmd(data_dir: Path | None, dbt_args: tuple[str, ...]) -> None:
    from sales_insights.devtools.spark import run_dbt_in_process

    settings = load_settings()
    code = run_dbt_in_process(list(dbt_args), settings.project_dir, settings.profiles_dir, data_dir)
    sys.exit(code)


if __name__ == "__main__":
    main()
