"""SLOs: each objective passes on a warehouse, build record and export that meet it, and breaches when its
own measurement is pushed past the limit (or cannot be made)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.build import BuildAttempt, write_build_attempt
from sales_insights.cli import main
from sales_insights.config import SloConfig, load_project_config
from sales_insights.errors import SalesInsightsError
from sales_insights.slo import evaluate, format_results

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CONFIG = SloConfig(ga4_max_age_hours=36, shopify_max_age_hours=36, build_max_minutes=30,
                   contract_min_pass_rate=0.99, export_deadline="07:00", timezone="UTC",
                   tracking_coverage_floor=0.85, tracking_coverage_days=7)


def make_world(root: Path, *, newest_event: datetime = NOW - timedelta(hours=10),
               newest_order: datetime = NOW - timedelta(hours=12), build_seconds: float = 600.0,
               tests: tuple[int, int] = (150, 150), expectations: tuple[int, int] | None = (120, 120),
               exported_at: datetime | None = NOW - timedelta(hours=3), coverage: tuple[int, int] = (90, 100)):
    """A published warehouse, its last build record and an export, as the jobs leave them."""
    warehouse = root / "wh" / "w.duckdb"
    warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(warehouse))
    con.execute("create schema staging; create schema marts")
    con.execute("create table staging.stg_ga4__events as select ?::timestamptz as event_at "
                "union all select ?::timestamptz - interval 3 day", [newest_event, newest_event])
    con.execute("create table staging.stg_shopify__orders as select ?::timestamptz as created_at", [newest_order])
    matched, orders = coverage
    # Ten days of data; the objective looks at the last 7 only. Today and 6 days ago have the web orders
    # (half each) and the ones GA4 saw; 7 days ago, just outside the window, 500 orders GA4 missed.
    today, half = NOW.date(), orders // 2
    rows = [(today - timedelta(days=d), 0, None) for d in range(10) if d not in (0, 6, 7)] + [
        (today, half, (matched // 2) / half),
        (today - timedelta(days=6), orders - half, (matched - matched // 2) / (orders - half)),
        (today - timedelta(days=7), 500, 0.0),
    ]
    con.execute("create table marts.fct_ga4_shopify_reconciliation (report_date date, shopify_web_orders bigint, "
                "web_tracking_coverage_rate double)")
    con.executemany("insert into marts.fct_ga4_shopify_reconciliation values (?, ?, ?)", rows)
    con.close()

    attempt = BuildAttempt("B1", (NOW - timedelta(hours=4)).isoformat(), "directory")
    attempt.seconds, attempt.outcome = build_seconds, "published"
    attempt.dbt_tests = {"passed": tests[0], "total": tests[1]}
    attempt.contracts = {"passed": expectations[0], "total": expectations[1]} if expectations else None
    write_build_attempt(warehouse, attempt)

    exports = root / "exports"
    exports.mkdir()
    if exported_at is not None:
        run = exports / "B1"
        run.mkdir()
        (run / "manifest.json").write_text(json.dumps({"build_id": "B1", "exported_at": exported_at.isoformat(),
                                                       "files": []}))
        (exports / "latest").symlink_to("B1")
    return warehouse, exports


def statuses(results) -> dict[str, str]:
    return {r.name: r.status for r in results}


ALL = ["ga4_freshness", "shopify_freshness", "build_duration", "contract_pass_rate", "export_delivery",
       "tracking_coverage"]


def test_every_objective_passes_when_met(tmp_path):
    results = evaluate(CONFIG, *make_world(tmp_path), NOW)
    assert statuses(results) == {name: "pass" for name in ALL}
    by_name = {r.name: r for r in results}
    assert by_name["ga4_freshness"].value == 10.0
    assert by_name["shopify_freshness"].value == 12.0
    assert by_name["build_duration"].value == 10.0
    assert by_name["contract_pass_rate"].value == 1.0
    assert by_name["tracking_coverage"].value == 0.9  # 90 of 100 over the last 7 days, not the older 500
    assert "90 of 100 online-store orders (90.0%)" in by_name["tracking_coverage"].measured
    assert format_results(results).endswith("6 of 6 objectives met")
    # a few failed checks within the objective: 268 of 270 = 99.26% >= 99%
    results = evaluate(CONFIG, *make_world(tmp_path / "b", tests=(148, 150)), NOW)
    assert statuses(results)["contract_pass_rate"] == "pass"


@pytest.mark.parametrize(("breached", "world"), [
    ("ga4_freshness", {"newest_event": NOW - timedelta(hours=37)}),
    ("shopify_freshness", {"newest_order": NOW - timedelta(hours=36, minutes=1)}),
    ("build_duration", {"build_seconds": 30 * 60 + 1}),
    ("contract_pass_rate", {"tests": (150, 150), "expectations": (115, 120)}),  # 265/270 = 98.1% < 99%
    ("export_delivery", {"exported_at": NOW - timedelta(hours=1)}),  # today's export came at 08:00, after 07:00
    ("export_delivery", {"exported_at": NOW - timedelta(days=1, hours=3)}),  # the last one is yesterday's
    ("export_delivery", {"exported_at": None}),  # none at all
    ("tracking_coverage", {"coverage": (84, 100)}),
])
def test_each_objective_breaches_on_its_own_measurement(tmp_path, breached, world):
    results = evaluate(CONFIG, *make_world(tmp_path, **world), NOW)
    expected = {name: "pass" for name in ALL}
    expected[breached] = "breach"
    assert statuses(results) == expected


def test_export_written_before_the_deadline_counts_until_the_next_one(tmp_path):
    # exported at 06:30; checked at 06:59 the next day it still counts (the next deadline has not passed),
    # at 07:00 it no longer does
    warehouse, exports = make_world(tmp_path, exported_at=datetime(2026, 3, 9, 6, 30, tzinfo=UTC))
    assert statuses(evaluate(CONFIG, warehouse, exports, datetime(2026, 3, 10, 6, 59, tzinfo=UTC)))[
        "export_delivery"] == "pass"
    assert statuses(evaluate(CONFIG, warehouse, exports, datetime(2026, 3, 10, 7, 0, tzinfo=UTC)))[
        "export_delivery"] == "breach"
    # a re-run after the deadline (its own folder, `latest` moved to it) does not hide the one on time
    rerun = exports / "B2"
    rerun.mkdir()
    (rerun / "manifest.json").write_text(json.dumps({"build_id": "B2", "exported_at": "2026-03-09T15:00:00+00:00"}))
    assert statuses(evaluate(CONFIG, warehouse, exports, datetime(2026, 3, 9, 16, 0, tzinfo=UTC)))[
        "export_delivery"] == "pass"

    # the deadline is a local time: 07:00 in Tokyo is 22:00 UTC the day before
    tokyo = replace(CONFIG, timezone="Asia/Tokyo")
    warehouse, exports = make_world(tmp_path / "tokyo", exported_at=datetime(2026, 3, 8, 21, 30, tzinfo=UTC))
    assert statuses(evaluate(tokyo, warehouse, exports, datetime(2026, 3, 9, 21, 59, tzinfo=UTC)))[
        "export_delivery"] == "pass"
    assert statuses(evaluate(tokyo, warehouse, exports, datetime(2026, 3, 9, 22, 0, tzinfo=UTC)))[
        "export_delivery"] == "breach"


def test_nothing_to_measure_is_a_breach_not_a_pass(tmp_path):
    results = evaluate(CONFIG, tmp_path / "missing.duckdb", tmp_path / "no-exports", NOW)
    assert statuses(results) == {name: "breach" for name in ALL}
    assert all(r.value is None for r in results)


def test_a_build_without_great_expectations_counts_only_the_dbt_tests(tmp_path):
    results = evaluate(CONFIG, *make_world(tmp_path, expectations=None), NOW)
    rate = next(r for r in results if r.name == "contract_pass_rate")
    assert rate.passed and "150/150" in rate.measured and "Great Expectations not run" in rate.measured


def test_slo_command_prints_each_objective_and_exits_1_on_a_breach(tmp_path, monkeypatch):
    warehouse, exports = make_world(tmp_path, newest_event=NOW - timedelta(hours=40))
    runner = CliRunner()
    args = ["slo", "--warehouse", str(warehouse), "--export-dir", str(exports), "--now", NOW.isoformat()]
    result = runner.invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "BREACH ga4_freshness" in result.output and "40.0 h old" in result.output
    assert "PASS   shopify_freshness" in result.output
    as_json = json.loads(runner.invoke(main, [*args, "--json"]).output)
    assert {r["name"]: r["status"] for r in as_json}["ga4_freshness"] == "breach"

    bad = runner.invoke(main, [*args[:-1], "yesterday"])
    assert bad.exit_code == 1 and "--now 'yesterday': not an ISO time" in bad.output

    warehouse, exports = make_world(tmp_path / "ok")
    met = runner.invoke(main, ["slo", "--warehouse", str(warehouse), "--export-dir", str(exports),
                               "--now", NOW.isoformat()])
    assert met.exit_code == 0, met.output
    assert met.output.strip().endswith("6 of 6 objectives met")


def test_slo_config_is_checked_and_dbt_freshness_uses_the_same_limits(tmp_path):
    config = load_project_config(PROJECT_DIR).slo
    sources = {
        "ga4_max_age_hours": ("models/staging/ga4/_ga4__sources.yml", "raw_ga4_events"),
        "shopify_max_age_hours": ("models/staging/shopify/_shopify__sources.yml", "raw_shopify_orders"),
    }
    for key, (path, table) in sources.items():
        source = yaml.safe_load((PROJECT_DIR / path).read_text())["sources"][0]
        freshness = next(t for t in source["tables"] if t["name"] == table)["config"]["freshness"]
        assert freshness["error_after"] == {"count": getattr(config, key), "period": "hour"}, path

    (tmp_path / "sales_insights.toml").write_text('[exports]\nmarts = ["fct_orders_daily"]\n'
                                                  '[slo]\nexport_deadline = "7am"\n')
    with pytest.raises(SalesInsightsError, match=r"sales_insights.toml: \[slo\] export_deadline .* HH:MM"):
        load_project_config(tmp_path)
    (tmp_path / "sales_insights.toml").write_text('[exports]\nmarts = ["fct_orders_daily"]\n'
                                                  '[slo]\nga4_max_age_hour = 3\n')
    with pytest.raises(SalesInsightsError, match="unknown keys"):
        load_project_config(tmp_path)
