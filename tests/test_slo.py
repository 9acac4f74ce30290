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
from sales_insights.cli import main
from sales_insights.config import SloConfig, load_project_config
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline import build as build_module
from sales_insights.pipeline.build import BuildAttempt, build, read_build_attempt, write_build_attempt
from sales_insights.pipeline.data_source import DataSource
from sales_insights.quality.slo import PENDING, evaluate, format_results

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CONFIG = SloConfig(ga4_max_age_hours=36, shopify_max_age_hours=36, build_max_minutes=30,
                   contract_min_pass_rate=0.99, export_deadline="07:00", timezone="UTC",
                   tracking_coverage_floor=0.85, tracking_coverage_days=7)


def make_world(root: Path, *, newest_event: datetime = NOW - timedelta(hours=10),
               newest_order: datetime = NOW - timedelta(hours=12), build_seconds: float = 600.0,
               tests: tuple[int, int] = (150, 150), expectations: tuple[int, int] | None = (120, 120),
               exported_at: datetime | None = NOW - timedelta(hours=3), coverage: tuple[int, int] = (90, 100),
               build_started: datetime = NOW - timedelta(hours=4),
               first_build: datetime | None = NOW - timedelta(days=30)):
    """A published warehouse, its last build record and an export, as the jobs leave them: by default of an
    install that has been building for a month (first_build; None: a record without it, as older builds wrote)."""
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

    attempt = BuildAttempt("B1", build_started.isoformat(), "directory")
    attempt.seconds, attempt.outcome = build_seconds, "published"
    attempt.dbt_tests = {"passed": tests[0], "total": tests[1]}
    attempt.contracts = {"passed": expectations[0], "total": expectations[1]} if expectations else None
    attempt.first_started_at = first_build.isoformat() if first_build else None
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


def _export(exports: Path, name: str, at: datetime) -> None:
    run = exports / name
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"build_id": name.split("--")[0], "exported_at": at.isoformat(),
                                                   "files": []}))


def _delivery(warehouse: Path, exports: Path, now: datetime):
    return next(r for r in evaluate(CONFIG, warehouse, exports, now) if r.name == "export_delivery")


def test_a_fresh_install_owes_no_export_before_its_first_deadline(tmp_path):
    # installed at 08:00, an hour after today's 07:00 deadline, and exported at 08:30 (the first `run`)
    installed, exported = datetime(2026, 3, 10, 8, 0, tzinfo=UTC), datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    warehouse, exports = make_world(tmp_path, build_started=installed, first_build=installed, exported_at=exported)
    delivery = _delivery(warehouse, exports, NOW)
    assert delivery.status == PENDING and not delivery.breached and not delivery.passed
    assert delivery.measured == (
        "not yet due: this install began at 2026-03-10T08:00+00:00, after the deadline of 2026-03-10T07:00+00:00; "
        "the next deadline is 2026-03-11T07:00+00:00; complete export B1 at 2026-03-10T08:30+00:00 is in for it")
    # `slo` exits 0: every other objective is met and this one is not due
    runner = CliRunner()
    args = ["slo", "--warehouse", str(warehouse), "--export-dir", str(exports), "--now", NOW.isoformat()]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "WAIT   export_delivery     not yet due" in result.output
    assert result.output.strip().endswith("5 of 5 objectives met; 1 not yet due")
    assert {r["name"]: r["status"] for r in json.loads(runner.invoke(main, [*args, "--json"]).output)}[
        "export_delivery"] == "pending"

    # its first deadline: the export of 08:30 meets it, and the one after, with nothing new, is missed
    assert _delivery(warehouse, exports, datetime(2026, 3, 11, 7, 0, tzinfo=UTC)).passed
    missed = _delivery(warehouse, exports, datetime(2026, 3, 12, 7, 0, tzinfo=UTC))
    assert missed.breached and "no complete export due between 2026-03-11T07:00" in missed.measured

    # a first run whose export failed: pending too, and it says no export is in yet
    warehouse, exports = make_world(tmp_path / "failed", build_started=installed, first_build=installed,
                                    exported_at=None)
    delivery = _delivery(warehouse, exports, NOW)
    assert delivery.status == PENDING and delivery.measured.endswith("no complete export in for it yet")


def test_an_install_that_has_been_exporting_breaches_when_it_misses_a_deadline(tmp_path):
    # daily exports on time until 8 March, none for the day due by 07:00 today, one late at 08:00 today;
    # the install began on 5 March
    began = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
    warehouse, exports = make_world(tmp_path, first_build=began, exported_at=NOW - timedelta(hours=1))
    for day in (6, 7, 8):
        _export(exports, f"B0{day}", datetime(2026, 3, day, 6, 30, tzinfo=UTC))
    delivery = _delivery(warehouse, exports, NOW)
    assert delivery.breached, delivery.measured
    assert delivery.measured == ("no complete export due between 2026-03-09T07:00+00:00 and 2026-03-10T07:00+00:00; "
                                 "the newest, B1, at 2026-03-10T08:00+00:00; it counts for the next deadline")
    result = CliRunner().invoke(main, ["slo", "--warehouse", str(warehouse), "--export-dir", str(exports),
                                       "--now", NOW.isoformat()])
    assert result.exit_code == 1 and "BREACH export_delivery" in result.output, result.output

    # a build record from before first_started_at was kept (None): builds ran before it, so the day was owed
    warehouse, exports = make_world(tmp_path / "old", first_build=None, exported_at=NOW - timedelta(hours=1))
    assert _delivery(warehouse, exports, NOW).breached
    # an install whose first build was at 07:05 yesterday and whose exports all failed: it had the whole
    # day up to 07:00 today, and missed it
    yesterday = datetime(2026, 3, 9, 7, 5, tzinfo=UTC)
    warehouse, exports = make_world(tmp_path / "failing", first_build=yesterday, exported_at=None)
    assert _delivery(warehouse, exports, NOW).breached
    # a subset export (`--mart`) shows the install was running as much as a build does
    warehouse, exports = make_world(tmp_path / "subset", build_started=NOW, first_build=NOW,
                                    exported_at=NOW - timedelta(hours=1))
    assert _delivery(warehouse, exports, NOW).status == PENDING
    _export(exports, "B00--1a2b3c4d", datetime(2026, 3, 10, 6, 0, tzinfo=UTC))
    assert _delivery(warehouse, exports, NOW).breached


def test_each_build_record_carries_the_first_builds_start(isolated_env, monkeypatch):
    # builds that fail before dbt, recorded as every attempt is: what the SLOs read of the install's age
    def fails(*args, **kwargs):
        raise SalesInsightsError("no data")

    monkeypatch.setattr(build_module, "_build_locked", fails)
    source = DataSource("directory", isolated_env.project_dir / "no-such-dir", "test")
    with pytest.raises(SalesInsightsError):
        build(isolated_env, source)
    first = read_build_attempt(isolated_env.warehouse)
    assert first["first_started_at"] == first["started_at"]
    for _ in range(2):
        with pytest.raises(SalesInsightsError):
            build(isolated_env, source)
        assert read_build_attempt(isolated_env.warehouse)["first_started_at"] == first["started_at"]
    # a record from before first_started_at was kept: builds ran before it, at a time not recorded
    old = {k: v for k, v in first.items() if k != "first_started_at"} | {"started_at": "2026-01-05T06:00:00+00:00"}
    (build_module.dbt_artefacts_dir(isolated_env.warehouse) / build_module.LAST_BUILD).write_text(json.dumps(old))
    for _ in range(2):
        with pytest.raises(SalesInsightsError):
            build(isolated_env, source)
        assert read_build_attempt(isolated_env.warehouse)["first_started_at"] == build_module.BEFORE_RECORDS


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
