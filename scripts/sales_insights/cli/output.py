"""What the commands print: progress, notes, and the summaries of a build, an export and a report."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path

import click

from sales_insights.config import load_settings
from sales_insights.outputs.export import ExportResult
from sales_insights.outputs.report import ReportResult
from sales_insights.pipeline.build import BuildResult


def error(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)


def note(line: str) -> None:
    click.secho(f"note: {line}", fg="yellow", err=True)


def echo_dbt(quiet: bool):
    return None if quiet else (lambda line: click.echo(line, err=True))


def print_build(result: BuildResult) -> None:
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


def progress(line: str) -> None:
    """Progress for a person at a terminal; nothing when piped or in CI."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        click.echo(line, err=True)


def print_export(result: ExportResult) -> None:
    rows = sum(f["rows"] for f in result.files)
    verb = "Export already up to date" if result.reused else "Exported"
    click.echo(f"{verb}: {len(result.files)} marts, {rows:,} rows in {result.run_dir} (build {result.build_id})")
    if result.is_complete:
        click.echo(f"  latest -> {result.run_dir.name}")
    for old in result.removed:
        click.echo(f"  removed old export {old.name}")


def print_report(result: ReportResult) -> None:
    click.echo(f"Report of build {result.build_id}: {result.path} ({len(result.charts)} charts, "
               f"{result.bytes_written / 1e6:.1f} MB, opens offline)")


def cli_command() -> str:
    """How to call this command again from here: `sales-insights` when that is what the PATH finds, else the
    path of this install's script (.venv/bin/sales-insights in the project)."""
    script = Path(sys.executable).with_name("sales-insights")
    found = shutil.which("sales-insights")
    if found and Path(found).resolve() == script.resolve():
        return "sales-insights"
    with contextlib.suppress(ValueError):
        return str(script.relative_to(Path.cwd()))
    return str(script)


def print_query_help(warehouse: Path) -> None:
    command = cli_command()
    default = warehouse == load_settings().warehouse
    where = "" if default else f" --warehouse {warehouse}"
    click.echo("")
    click.echo(f"Warehouse: {warehouse}")
    click.echo("Query it (read-only), for example:")
    click.echo(f"  {command} sql{where} \"select reason, count(*) from staging.stg_rejected_rows group by 1\"")
    click.echo(f"  {command} shell{where}    # an interactive SQL prompt")
