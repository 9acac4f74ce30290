"""GA4 at report grain (ga4_funnel_report, what the GA4 Data API and its MCP connector give): the build
loads it instead of events, keeps its bad rows, and gives the funnel marts GA4's open-funnel counts; the
Shopify marts are those of the same Shopify data at event grain. And extracting through the MCP connectors
then building gives the marts of building the same CSVs directly."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR, build_generated_store
from sales_insights.cli import main
from sales_insights.config import load_project_config, load_settings
from sales_insights.connectors.extract import run_extract
from sales_insights.connectors.mcp_client import RetryPolicy
from sales_insights.devtools.generate import GeneratorConfig
from sales_insights.pipeline.build import build
from sales_insights.pipeline.data_source import DataSource
from sales_insights.pipeline.load import ga4_grain
from sales_insights.quality.slo import NOT_APPLICABLE, evaluate
from test_mcp import SERVER, record_shopify

SHOPIFY = ("raw_shopify_orders", "raw_shopify_order_lines", "raw_shopify_refunds", "raw_shopify_customers",
           "raw_shopify_products", "raw_shopify_variants")
OPEN = ("sessions_open", "add_to_cart_sessions_open", "begin_checkout_sessions_open", "purchase_sessions_open")
# Marts made of Shopify data only, identical whatever the GA4 grain.
SHOPIFY_MARTS = ("fct_orders_daily", "fct_customer_cohorts", "fct_cohort_clv", "fct_revenue_forecast_monthly")
BAD_ROWS = [  # new keys, so the rows that pass are exactly GA4's
    "20250605,Direct,desktop,/bad/not-a-number,ten,0,0,0",
    "20250605,Direct,desktop,/bad/more-carts,5,6,0,0",
    "2025-06-05,Direct,desktop,/bad/iso-date,5,1,0,0",
    "20250605,Direct,desktop,/bad/conflict,5,1,0,0",
    "20250605,Direct,desktop,/bad/conflict,7,1,0,0",
]


def report_from_sessions(warehouse: Path, out: Path) -> None:
    """ga4_funnel_report.csv as GA4 would report the sessions of an event-grain build: open funnel."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"""
            copy (
                select strftime(session_date, '%Y%m%d') as report_date, channel_group, device_category,
                    landing_page, count(*) as sessions, count_if(has_add_to_cart) as add_to_cart_sessions,
                    count_if(has_begin_checkout) as begin_checkout_sessions,
                    count_if(has_purchase) as purchase_sessions
                from marts.fct_sessions group by all order by all
            ) to '{out}' (header)""")


def _report_grain_dir(shopify_dir: Path, event_warehouse: Path, out: Path, bad_rows: list[str] = ()) -> Path:
    out.mkdir(parents=True)
    for table in SHOPIFY:
        shutil.copyfile(shopify_dir / f"{table}.csv", out / f"{table}.csv")
    # the generator's record of the Shopify rows it broke on purpose, which the contract gate allows
    shutil.copyfile(shopify_dir / "generator.json", out / "generator.json")
    report_from_sessions(event_warehouse, out / "ga4_funnel_report.csv")
    with (out / "ga4_funnel_report.csv").open("a") as handle:
        for row in bad_rows:
            handle.write(row + "\n")
    return out


def _differences(con, table: str, other: str, columns: str = "*") -> int:
    return con.execute(f"select count(*) from ((select {columns} from marts.{table} except all "
                       f"select {columns} from {other}.marts.{table}) union all (select {columns} from "
                       f"{other}.marts.{table} except all select {columns} from marts.{table}))").fetchone()[0]


@pytest.mark.dbt
def test_a_report_grain_build_gives_ga4s_open_funnel_and_the_same_shopify_marts(committed_seeds_build, tmp_path):
    events, _ = committed_seeds_build
    data = _report_grain_dir(PROJECT_DIR / "seeds" / "mock", events, tmp_path / "data", BAD_ROWS)
    assert ga4_grain(data) == "report"
    result = build(load_settings(), DataSource("directory", data, "report grain"), tmp_path / "wh.duckdb")
    assert result.load_report.ga4_grain == "report" and result.contracts.success
    assert set(result.contracts.skipped) == {"raw_ga4_events", "fct_sessions"}

    con = duckdb.connect(str(result.warehouse), read_only=True)
    con.execute(f"attach '{events}' as ev (read_only)")
    # The bad rows are kept with their reasons; the others are GA4's counts, whole.
    rejected = con.execute("select record_key, reason from staging.stg_rejected_rows "
                           "where source_table = 'ga4_funnel_report'").fetchall()
    reasons = sorted(reason for _, reason in rejected)
    assert all(key for key, _ in rejected)  # each names its row, bad date or not
    assert reasons == sorted([
        "not an integer written as plain digits (no spaces, plus sign, decimals or exponent)",
        "more sessions with the event than sessions", "not a YYYYMMDD date",
        "the same date, channel, device and landing page appear on other rows with other counts",
        "the same date, channel, device and landing page appear on other rows with other counts"]), rejected
    assert con.execute("select distinct funnel_basis from marts.fct_funnel_daily").fetchall() == [("ga4_report",)]
    assert _differences(con, "fct_funnel_daily", "ev", "funnel_daily_key, " + ", ".join(OPEN)) == 0
    # closed-funnel counts: each step capped at the one before
    # past add_to_cart the counts are bounds: no rates between them (add_to_cart over sessions is exact)
    assert con.execute("""
        select count(*) from marts.fct_funnel_summary
        where step_number > 2 and (conversion_rate is not null or abandoned_sessions is not null)
            or step_number = 2 and conversion_rate is null""").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.fct_experiment_shortlist where experiment_type = 'funnel_step' "
                       "and target not like '%: add_to_cart'").fetchone()[0] == 0
    capped = con.execute("""
        select count(*) from marts.fct_funnel_daily
        where add_to_cart_sessions <> add_to_cart_sessions_open
            or begin_checkout_sessions <> least(begin_checkout_sessions_open, add_to_cart_sessions)
            or purchase_sessions <> least(purchase_sessions_open, begin_checkout_sessions)""").fetchone()[0]
    assert capped == 0
    # The summary: every breakdown but new-versus-returning, with GA4's open counts.
    differing = con.execute("""
        select count(*) from marts.fct_funnel_summary as r
        full outer join (select * from ev.marts.fct_funnel_summary where breakdown <> 'user_type') as e
            on r.funnel_summary_key = e.funnel_summary_key
        where r.step_sessions_open is distinct from e.step_sessions_open""").fetchone()[0]
    assert differing == 0
    summary = dict(con.execute("select breakdown, count(*) from marts.fct_funnel_summary group by 1").fetchall())
    assert set(summary) == {"all", "channel_group", "device_category", "landing_page"}
    open_all = con.execute("select step, step_sessions_open from marts.fct_funnel_summary where breakdown = 'all' "
                           "order by step_number").fetchall()
    assert open_all == con.execute("select step, step_sessions_open from ev.marts.fct_funnel_summary "
                                   "where breakdown = 'all' order by step_number").fetchall()
    # Headline metrics: the same, but conversion, which from reports is an upper bound of the closed funnel.
    rows = con.execute("""
        select r.metric, r.period, r.metric_value, e.metric_value from marts.fct_headline_metrics as r
        inner join ev.marts.fct_headline_metrics as e using (metric, period)""").fetchall()
    assert len(rows) == 17
    for metric, period, report_value, event_value in rows:
        if metric == "conversion_rate":
            assert report_value >= event_value, period
        else:
            assert report_value == event_value, (metric, period)
    # and each is worded for its grain: the GA4 metrics differ, the Shopify ones are the same words
    worded = con.execute("""
        select distinct r.metric, r.definition, e.definition from marts.fct_headline_metrics as r
        inner join ev.marts.fct_headline_metrics as e using (metric)""").fetchall()
    assert len(worded) == 7
    for metric, report_text, event_text in worded:
        if metric in ("sessions", "conversion_rate"):
            assert report_text != event_text and "user_pseudo_id" not in report_text, metric
            assert ("GA4's own" if metric == "sessions" else "upper bound") in report_text, report_text
            assert "GA4 report" not in event_text and "GA4's own" not in event_text, event_text
        else:
            assert report_text == event_text, metric
    for mart in SHOPIFY_MARTS:
        assert _differences(con, mart, "ev") == 0, mart
    # No transaction ids in reports: tracking coverage is not measured, rather than 0.
    assert con.execute("select count(tracking_coverage_rate) from marts.fct_ga4_shopify_reconciliation"
                       ).fetchone()[0] == 0
    assert con.execute("select count(*) from marts.fct_experiment_shortlist where experiment_type = 'landing_page'"
                       ).fetchone()[0] > 0
    assert con.execute("select ga4_grain from meta.build_info").fetchone()[0] == "report"
    con.close()
    # SLOs: GA4 freshness from the newest report day; tracking coverage is not applicable (not a breach)
    last_day = duckdb.connect(str(result.warehouse), read_only=True).execute(
        "select max(report_date) from staging.stg_ga4__funnel_report").fetchone()[0]
    now = datetime.combine(last_day, time(12), tzinfo=UTC) + timedelta(days=1)
    slos = {r.name: r for r in evaluate(load_project_config(PROJECT_DIR).slo, result.warehouse, tmp_path, now)}
    assert slos["tracking_coverage"].status == NOT_APPLICABLE and not slos["tracking_coverage"].breached
    assert slos["ga4_freshness"].passed and slos["ga4_freshness"].value == 12.0
    assert "GA4 report day (its end)" in slos["ga4_freshness"].measured
    # `sales-insights validate` on the published file takes the grain from meta.build_info
    validated = CliRunner().invoke(main, ["validate", "--warehouse", str(result.warehouse)])
    assert validated.exit_code == 0, validated.output
    assert "skipped (not this warehouse's GA4 grain): raw_ga4_events, fct_sessions" in validated.output


def _ga4_recorded(report_csv: Path, out: Path) -> None:
    """The GA4 runReport rows the fake server answers with, from a ga4_funnel_report.csv."""
    with duckdb.connect() as con:
        rows = con.execute(f"select * from read_csv('{report_csv}', all_varchar = true)").fetchall()
    sessions, steps = [], []
    for date_, channel, device, page, total, *counts in rows:
        dims = {"date": date_, "sessionDefaultChannelGroup": channel, "deviceCategory": device, "landingPage": page}
        sessions.append({**dims, "sessions": int(total)})
        for event, count in zip(("add_to_cart", "begin_checkout", "purchase"), counts, strict=True):
            if int(count):  # GA4 leaves out a row of no sessions
                steps.append({**dims, "eventName": event, "sessions": int(count)})
    (out / "ga4_sessions.json").write_text(json.dumps(sessions))
    (out / "ga4_steps.json").write_text(json.dumps(steps))


@pytest.mark.dbt
def test_extract_then_build_gives_the_marts_of_the_same_csvs(tmp_path, monkeypatch):
    """With the flags on and the local MCP server answering with the data of a directory of CSVs, `extract`
    then `build --data-dir <extracts>/current` gives the marts of building that directory."""
    events, _ = build_generated_store(tmp_path / "events", GeneratorConfig(seed=11, users=1500, days=90,
                                                                           bad_rows=False))
    data = _report_grain_dir(tmp_path / "events" / "data", events, tmp_path / "csv")
    recorded = tmp_path / "recorded"
    record_shopify(data, recorded, 1500)
    _ga4_recorded(data / "ga4_funnel_report.csv", recorded)
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(SERVER))}"
    for name, value in {"ENABLE_MCP": "true", "SALES_INSIGHTS_MCP_GA4_COMMAND": command,
                        "SALES_INSIGHTS_MCP_SHOPIFY_COMMAND": command, "SALES_INSIGHTS_GA4_PROPERTY_ID": "1",
                        "SALES_INSIGHTS_EXTRACT_DIR": str(tmp_path / "extracts"),
                        "FAKE_MCP_DATA": str(recorded)}.items():
        monkeypatch.setenv(name, value)
    # through 30 August: the Shopify connector lands orders by their UTC day, and the store's last evening
    # (29 August in New York) is 30 August in UTC
    extracted = run_extract(load_settings(), date(2025, 6, 1), date(2025, 8, 30),
                            retry=RetryPolicy(attempts=3, base_delay=0.001))
    settings = load_settings()
    direct = build(settings, DataSource("directory", data, "csv"), tmp_path / "direct.duckdb")
    through = build(settings, DataSource("directory", extracted.current_dir, "mcp"), tmp_path / "mcp.duckdb")
    with duckdb.connect(str(through.warehouse), read_only=True) as con:
        con.execute(f"attach '{direct.warehouse}' as direct (read_only)")
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_catalog = 'mcp' order by 1").fetchall()]
        assert len(marts) >= 19
        for mart in marts:
            # every column, email_hash too: the recorded answers carry the emails the generator hashed
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_catalog = 'mcp' "
                f"and table_schema = 'marts' and table_name = '{mart}'"
            ).fetchall()]
            assert _differences(con, mart, "direct", ", ".join(columns)) == 0, mart
