"""Run the Great Expectations suites (gx/expectations) against a DuckDB warehouse, inside DuckDB.

One ephemeral data context per run: a SQL data source on the warehouse file (read-only, through the
`duckdb+sales_insights` dialect of gx_dialect.py), a query asset per raw table (the raw table plus one
column per row rule, see suites.py) and a table asset per mart, a whole-table batch definition each, one
validation definition per suite, and one checkpoint whose action writes the Data Docs (HTML). Every
metric is a SQL query that DuckDB runs; no table is pulled into pandas.

Each expectation ends in one of three states: passed, failed (the data broke it) or error (it could not
be evaluated: a query that failed, a metric GE could not compute). An error is never a data failure and
never a pass: any error fails the run, and the report says the check is broken, not the data.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sales_insights.config import ContractsConfig, Settings, load_project_config, load_shop_config
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.export import MART_SCHEMA
from sales_insights.pipeline.load import PLANTED_TABLE, RAW_SCHEMA
from sales_insights.quality.raw_contract import GA4_GRAIN_TABLES, TABLES
from sales_insights.quality.suites import (
    MART,
    SOURCE,
    Suite,
    load_suite_file,
    mostly_parameter,
    raw_checked_query,
    suite_file,
)
from sales_insights.quality.suites import all_suites as defined_suites
from sales_insights.sql import sql_identifier, sql_string

PASSED, FAILED, ERROR = "passed", "failed", "error"
EXAMPLES = 5


class ContractsFailed(SalesInsightsError):
    """A contract check failed or could not run."""


@dataclass
class ExpectationOutcome:
    suite: str
    expectation_type: str
    description: str
    column: str | None
    status: str
    unexpected_count: int | None = None
    element_count: int | None = None
    examples: list = field(default_factory=list)
    observed: object = None
    error: str | None = None
    mostly: float | None = None


@dataclass
class SuiteOutcome:
    name: str
    layer: str
    table: str
    outcomes: list[ExpectationOutcome]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def status(self) -> str:
        if self.count(ERROR):
            return ERROR
        return FAILED if self.count(FAILED) else PASSED


@dataclass
class ValidationReport:
    warehouse: Path
    suites: list[SuiteOutcome]
    data_docs: Path | None
    seconds: float
    # Suites that do not apply to this warehouse: those of the GA4 grain it was not built from.
    skipped: tuple[str, ...] = ()

    def count(self, status: str) -> int:
        return sum(s.count(status) for s in self.suites)

    @property
    def expectations(self) -> int:
        return sum(len(s.outcomes) for s in self.suites)

    @property
    def success(self) -> bool:
        return bool(self.suites) and all(s.status == PASSED for s in self.suites)

    @property
    def pass_rate(self) -> float:
        return self.count(PASSED) / self.expectations if self.expectations else 0.0


def suite_names() -> list[str]:
    return [s.name for s in defined_suites()]


def load_suites(project_dir: Path, names: list[str] | None = None) -> list[Suite]:
    """The committed suite files, in the order of their definitions; `names` picks some."""
    known = suite_names()
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise SalesInsightsError(f"no suite named {', '.join(unknown)}; the suites are: {', '.join(known)}")
    chosen = [n for n in known if not names or n in names]
    suites = []
    for name in chosen:
        path = suite_file(project_dir, name)
        if not path.is_file():
            raise SalesInsightsError(f"{path}: suite file missing; run `python -m sales_insights.quality.suites`")
        suites.append(load_suite_file(path))
    return suites


def row_rules_mostly(rows: int, contracts: ContractsConfig, data_source: str = "directory",
                     planted: int = 0) -> float:
    """The share of a raw table's rows that must keep a row rule: all but the rows the table may lose."""
    if rows <= 0:
        return 1.0
    # GE passes a rule when (rows - unexpected) / rows >= mostly: the same division, so that exactly the
    # tolerated rows pass (1 - 1/7 is a float above 6/7).
    return max(0, rows - contracts.tolerated(rows, data_source, planted)) / rows


# The suite of the row-loss check: one expectation per raw table, that staging lost no more of its rows
# than the tolerance. The suites' row rules are checked one by one; this counts every row a table lost,
# whatever the reason (an orphan line, a refund beyond its order, a duplicate key), with two exceptions that
# lose nothing of the table's own: the exact copies kept once, and the rows that went with a rejected row
# they point at (the lines of a rejected order), whose loss is counted once, at that row's table.
ROW_LOSS_SUITE = "raw_row_loss"
_KEPT_ONCE = "exact duplicate%"


def _followed_parent_sql() -> str:
    """A condition on a rejected row `r` of staging.stg_rejected_rows: it was rejected on a column that points
    at another raw table (contract references), and its value is the key of a row rejected there."""
    pointers = [(t.name, column, target.split(".")[0]) for t in TABLES for column, target in t.references.items()]
    return " or ".join(
        f"(r.source_table = {sql_string(table)} and r.column_name = {sql_string(column)} and exists ("
        f"select 1 from staging.stg_rejected_rows as p where p.source_table = {sql_string(parent)} "
        f"and p.record_key = r.rejected_value and p.reason not like '{_KEPT_ONCE}'))"
        for table, column, parent in pointers
    )


@dataclass(frozen=True)
class TableRejects:
    """One raw table's rows in staging.stg_rejected_rows, by what their rejection cost."""

    table: str
    rejected: int
    copies: int  # exact copies of a row, kept once: nothing of the table is lost
    with_parent: int  # rows that went with a rejected row they point at: counted once, at that row's table
    rows: int | None = None  # the raw table's rows, when known

    @property
    def lost(self) -> int:
        return self.rejected - self.copies - self.with_parent

    def describe(self) -> str:
        """`raw_shopify_orders 4 (3 lost of 23 rows; 1 exact copy kept once)`."""
        parts = [f"{self.lost:,} lost" + ("" if self.rows is None else f" of {self.rows:,} rows")]
        if self.copies:
            parts.append(f"{self.copies:,} exact cop{'y' if self.copies == 1 else 'ies'} kept once")
        if self.with_parent:
            parts.append(f"{self.with_parent:,} with the rejected row"
                         + (" it points at" if self.with_parent == 1 else "s they point at"))
        return f"{self.table} {self.rejected:,} ({'; '.join(parts)})"


def rejects_by_table(con: duckdb.DuckDBPyConnection, raw_schema: str | None = None) -> list[TableRejects]:
    """Per raw table with rejected rows, what they cost (see TableRejects), with the table's rows when
    `raw_schema` holds it. Raises duckdb.Error when staging.stg_rejected_rows cannot be read."""
    found = con.execute(
        "select r.source_table, count(*), "
        f"count(*) filter (where r.reason like '{_KEPT_ONCE}'), "
        f"count(*) filter (where r.reason not like '{_KEPT_ONCE}' and coalesce({_followed_parent_sql()}, false)) "
        "from staging.stg_rejected_rows as r group by 1 order by 1"
    ).fetchall()
    summary = []
    for table, rejected, copies, with_parent in found:
        rows = None
        if raw_schema is not None:
            try:
                rows = con.execute(
                    f"select count(*) from {sql_identifier(raw_schema)}.{sql_identifier(table)}").fetchone()[0]
            except duckdb.CatalogException:
                rows = None
        summary.append(TableRejects(table, rejected, copies, with_parent, rows))
    return summary


def lost_rows(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], str | None]:
    """Per raw table, the rows staging.stg_rejected_rows holds for it, but for exact copies and the rows that
    went with a rejected row they point at; or the error that kept them from being counted."""
    try:
        return {t.table: t.lost for t in rejects_by_table(con) if t.lost}, None
    except duckdb.Error as exc:
        return {}, str(exc).splitlines()[0]


def row_loss(row_counts: dict[str, int], lost: dict[str, int], error: str | None, contracts: ContractsConfig,
             data_source: str, planted: dict[str, int] | None = None) -> SuiteOutcome:
    """Per raw table, its lost rows against the rows it may lose (with the generator's planted losses)."""
    outcomes = []
    for table, rows in row_counts.items():
        broken = (planted or {}).get(table, 0)
        tolerated = contracts.tolerated(rows, data_source, broken)
        count = int(lost.get(table, 0))
        on_purpose = f" ({broken:,} broken on purpose by the mock generator)" if broken else ""
        outcomes.append(ExpectationOutcome(
            suite=ROW_LOSS_SUITE, expectation_type="row_loss_within_tolerance",
            description=f"{table} loses at most {tolerated:,} of its rows to rejects{on_purpose}",
            column=None, status=ERROR if error else (PASSED if count <= tolerated else FAILED),
            unexpected_count=None if error else count, element_count=None if error else rows, error=error,
            mostly=None if not rows else max(0, rows - tolerated) / rows,
        ))
    return SuiteOutcome(ROW_LOSS_SUITE, SOURCE, "raw tables", outcomes)


# The suites that apply only to one GA4 grain, listed under the other: at report grain there are no events,
# so no raw_ga4_events and no sessions; at event grain no report.
_OTHER_GRAIN_SUITES = {
    "events": (GA4_GRAIN_TABLES["report"],),
    "report": (GA4_GRAIN_TABLES["events"], "fct_sessions"),
}


def _planted_losses(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The loader's meta.planted_losses: the rows the mock generator broke on purpose, per raw table."""
    try:
        return dict(con.execute(f"select source_table, rows from {PLANTED_TABLE}").fetchall())
    except duckdb.CatalogException:
        return {}


def _raw_row_counts(warehouse: Path, schema: str, tables: list[str]
                    ) -> tuple[dict[str, int], dict[str, int], str | None, dict[str, int]]:
    """The raw tables' row counts, their lost rows (see lost_rows) and, for the loader's raw schema, the rows
    the mock generator broke on purpose; read before GE opens the file."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = {}
        for table in tables:
            try:
                counts[table] = con.execute(
                    f"select count(*) from {sql_identifier(schema)}.{sql_identifier(table)}").fetchone()[0]
            except duckdb.CatalogException as exc:
                raise ContractsFailed(f"{warehouse}: no raw table {schema}.{table} to validate") from exc
        planted = _planted_losses(con) if schema == RAW_SCHEMA else {}
        return (counts, *lost_rows(con), planted) if counts else (counts, {}, None, planted)
    finally:
        con.close()


def _error_message(exception_info: dict | None) -> str | None:
    """The first error GE recorded for an expectation, or None. GE keeps either one record
    ({raised_exception, exception_message, ...}) or one per metric it failed to compute."""
    if not exception_info:
        return None
    records = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for record in records:
        if isinstance(record, dict) and record.get("raised_exception"):
            traceback_text = (record.get("exception_traceback") or "").strip()
            message = record.get("exception_message") or (traceback_text.splitlines() or ["unknown error"])[-1]
            return message.strip().splitlines()[0]
    return None


def _outcome(suite: str, result, mostly: float | None) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs
    error = _error_message(result.exception_info)
    details = result.result or {}
    status = ERROR if error else (PASSED if result.success else FAILED)
    uses_mostly = isinstance(kwargs.get("mostly"), dict)
    return ExpectationOutcome(
        suite=suite,
        expectation_type=config.type,
        description=config.description or config.type,
        column=kwargs.get("column") or kwargs.get("column_A"),
        status=status,
        unexpected_count=details.get("unexpected_count"),
        element_count=details.get("element_count"),
        examples=list(details.get("partial_unexpected_list") or [])[:EXAMPLES],
        observed=details.get("observed_value"),
        error=error,
        mostly=mostly if uses_mostly else None,
    )


def validate_warehouse(
    warehouse: Path,
    project_dir: Path,
    raw_schema: str,
    contracts: ContractsConfig,
    shop_currency: str,
    data_docs_dir: Path | None = None,
    suite_filter: list[str] | None = None,
    on_progress: Callable[[str], None] | None = None,
    ga4_grain: str = "events",
) -> ValidationReport:
    """Validate `warehouse` against the suites (all, or those named) that apply to its GA4 grain. Raises only
    when it cannot start."""
    started = time.monotonic()
    warehouse = Path(warehouse).resolve()
    if not warehouse.is_file():
        raise ContractsFailed(f"no warehouse at {warehouse}: run `sales-insights build` first")
    suites = load_suites(project_dir, suite_filter)
    # GA4 came as events or as a report; the suites of the other grain would only find its empty table.
    skipped = tuple(s.name for s in suites if s.name in _OTHER_GRAIN_SUITES[ga4_grain])
    suites = [s for s in suites if s.name not in skipped]
    raw_tables = [s.table for s in suites if s.layer == SOURCE]
    data_source = "seeds" if raw_schema == "mock" else "directory"
    row_counts, lost, lost_error, planted = _raw_row_counts(warehouse, raw_schema, raw_tables)
    mostly = {t: row_rules_mostly(n, contracts, data_source, planted.get(t, 0)) for t, n in row_counts.items()}

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sales_insights.quality import gx_dialect as gx_duckdb

        context = _ephemeral_context(data_docs_dir)
        datasource = context.data_sources.add_sql(name="warehouse",
                                                  connection_string=gx_duckdb.connection_url(str(warehouse)))
        checkpoint = _checkpoint(context, datasource, suites, raw_schema, shop_currency)
        if on_progress:
            on_progress(f"checking {len(suites)} Great Expectations suites on {warehouse.name}")
        try:
            result = checkpoint.run(expectation_parameters={mostly_parameter(t): m for t, m in mostly.items()})
        finally:
            # Close the warehouse: the build writes to the same file next, from this process.
            datasource.get_execution_engine().engine.dispose()
            gx_duckdb.close_all()
        if data_docs_dir is not None:
            if on_progress:
                on_progress(f"writing the Data Docs to {data_docs_dir}")
            context.build_data_docs(site_names=["sales_insights"])

    by_suite = {run.suite_name: run for run in result.run_results.values()}
    outcomes = []
    for suite in suites:
        run = by_suite[suite.name]
        outcomes.append(SuiteOutcome(suite.name, suite.layer, suite.table,
                                     [_outcome(suite.name, r, mostly.get(suite.table)) for r in run.results]))
    if row_counts:
        outcomes.append(row_loss(row_counts, lost, lost_error, contracts, data_source, planted))
    docs = data_docs_dir / "index.html" if data_docs_dir is not None else None
    return ValidationReport(warehouse, outcomes, docs, time.monotonic() - started, skipped)


def _ephemeral_context(data_docs_dir: Path | None):
    """A Great Expectations context kept in memory, without progress bars, with a Data Docs site in
    `data_docs_dir` when one is asked for."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if data_docs_dir is not None:
        context.add_data_docs_site(site_name="sales_insights", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return context


def _checkpoint(context, datasource, suites: list[Suite], raw_schema: str, shop_currency: str):
    """One checkpoint validating each suite on a query asset of its table: the checked raw rows for a
    source suite, the mart for a mart suite."""
    import great_expectations as gx

    definitions = []
    for suite in suites:
        # Query assets, also for marts: a table asset in a schema other than the connection's default
        # makes GE look its column types up by the bare table name on DuckDB, which fails.
        query = (raw_checked_query(suite, raw_schema, shop_currency) if suite.layer == SOURCE
                 else f"select * from {MART_SCHEMA}.{sql_identifier(suite.table)}")
        asset = datasource.add_query_asset(name=suite.table, query=query)
        gx_suite = context.suites.add(gx.ExpectationSuite(
            name=suite.name, expectations=[dict(e) for e in suite.expectations],
            meta={"layer": suite.layer, "table": suite.table}, notes=suite.notes or None,
        ))
        definitions.append(context.validation_definitions.add(gx.ValidationDefinition(
            name=suite.name, data=asset.add_batch_definition_whole_table("whole table"), suite=gx_suite,
        )))
    # No UpdateDataDocsAction: it rebuilds the whole site once per validation definition (measured: 28 s
    # of a 47 s run with 25 suites); the site is built once below instead.
    return context.checkpoints.add(gx.Checkpoint(
        name="contracts", validation_definitions=definitions,
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES},
    ))


def raw_schema_of(data_source: str) -> str:
    """Where a build's raw tables are: the mock seeds (dbt seed) or the loaded contract CSVs."""
    return "mock" if data_source == "seeds" else RAW_SCHEMA


def validate_build(settings: Settings, warehouse: Path, data_source: str,
                   suite_filter: list[str] | None = None,
                   on_progress: Callable[[str], None] | None = None, ga4_grain: str = "events") -> ValidationReport:
    """Validate a warehouse built from `data_source` ("seeds" or "directory") with the project's settings;
    the Data Docs replace the previous ones."""
    config = load_project_config(settings.project_dir)
    docs = settings.data_docs_dir(warehouse)
    # Only what a Data Docs site writes: the folder may be one the user named (SALES_INSIGHTS_DATA_DOCS_DIR).
    for entry in ("index.html", "validations", "expectations", "static"):
        target = docs / entry
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    return validate_warehouse(warehouse, settings.project_dir, raw_schema_of(data_source), config.contracts,
                              load_shop_config(settings.project_dir).currency, docs, suite_filter, on_progress,
                              ga4_grain)


def record_results(con: duckdb.DuckDBPyConnection, report: ValidationReport, build_id: str) -> None:
    """meta.contract_results: one row per expectation of the build's validation."""
    con.execute("create schema if not exists meta")
    con.execute(
        "create or replace table meta.contract_results (build_id varchar, validated_at timestamptz, suite varchar, "
        "layer varchar, table_name varchar, expectation_type varchar, description varchar, column_name varchar, "
        "status varchar, unexpected_count bigint, element_count bigint, examples varchar, error varchar)"
    )
    now = datetime.now(UTC)
    rows = [
        (build_id, now, s.name, s.layer, s.table, o.expectation_type, o.description, o.column, o.status,
         o.unexpected_count, o.element_count, json.dumps(o.examples, default=str), o.error)
        for s in report.suites for o in s.outcomes
    ]
    if rows:
        con.executemany("insert into meta.contract_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _describe_examples(outcome: ExpectationOutcome) -> str:
    if not outcome.examples:
        return ""
    shown = ", ".join(repr(v) for v in outcome.examples)
    return f"; e.g. {shown}"


def format_outcome(outcome: ExpectationOutcome) -> str:
    """One line saying what an expectation checked and what it found."""
    if outcome.status == ERROR:
        return f"ERROR  {outcome.description}: could not be checked ({outcome.error})"
    found = ""
    if outcome.unexpected_count is not None and outcome.element_count is not None:
        found = f" ({outcome.unexpected_count:,} of {outcome.element_count:,} rows break it"
        if outcome.mostly is not None and outcome.unexpected_count:
            found += f"; at most {(1 - outcome.mostly) * outcome.element_count:,.0f} tolerated"
        found += ")"
    elif outcome.observed is not None and outcome.status == FAILED:
        found = f" (found {outcome.observed})"
    word = "ok    " if outcome.status == PASSED else "FAILED"
    return f"{word} {outcome.description}{found}{_describe_examples(outcome) if outcome.status == FAILED else ''}"


def format_report(report: ValidationReport, verbose: bool = False) -> str:
    """Per suite a line, and per failed or broken expectation a line (every expectation when verbose)."""
    lines = []
    for suite in report.suites:
        counts = f"{suite.count(PASSED)}/{len(suite.outcomes)} passed"
        extra = [f"{suite.count(s)} {s}" for s in (FAILED, ERROR) if suite.count(s)]
        where = (f"{MART_SCHEMA}.{suite.table}" if suite.layer == MART
                 else "staging.stg_rejected_rows" if suite.name == ROW_LOSS_SUITE else f"raw {suite.table}")
        lines.append(f"{suite.status.upper():6s} {suite.name} ({where}): {', '.join([counts, *extra])}")
        for outcome in suite.outcomes:
            if verbose or outcome.status != PASSED:
                lines.append(f"         {format_outcome(outcome)}")
    if report.skipped:
        lines.append(f"skipped (not this warehouse's GA4 grain): {', '.join(report.skipped)}")
    lines.append(
        f"{report.count(PASSED)}/{report.expectations} expectations passed in {len(report.suites)} suites"
        + (f", {report.count(FAILED)} failed" if report.count(FAILED) else "")
        + (f", {report.count(ERROR)} could not be checked" if report.count(ERROR) else "")
        + f" ({report.seconds:.1f}s)"
    )
    if report.count(ERROR):
        lines.append("An expectation that could not be checked is a broken check, not bad data: see its error.")
    if report.data_docs:
        lines.append(f"Data Docs: {report.data_docs}")
    return "\n".join(lines)


def failure_message(report: ValidationReport) -> str:
    failed = [s.name for s in report.suites if s.status != PASSED]
    return (f"contract checks failed in {len(failed)} suite(s): {', '.join(failed)}\n"
            + format_report(report))


__all__ = [
    "ContractsFailed", "ERROR", "FAILED", "PASSED", "ValidationReport", "SuiteOutcome", "ExpectationOutcome",
    "validate_warehouse", "validate_build", "record_results", "raw_schema_of", "format_report", "failure_message",
    "row_rules_mostly", "suite_names", "load_suites", "TableRejects", "rejects_by_table",
]
