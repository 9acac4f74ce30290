"""The Great Expectations contracts: suite files, the DuckDB connection fix, what a failure and an error
report, the tolerance of raw row rules, and the build gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from sales_insights.cli import main
from sales_insights.config import SHARE_ENV, ContractsConfig, load_project_config, load_settings
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.build import build
from sales_insights.pipeline.data_source import DataSource
from sales_insights.quality import gx_dialect as gx_duckdb
from sales_insights.quality.raw_contract import TABLES
from sales_insights.quality.suites import SUITES_DIR, all_suites, raw_rule_columns, render, suite_file
from sales_insights.quality.validate import (
    ERROR,
    FAILED,
    PASSED,
    ROW_LOSS_SUITE,
    lost_rows,
    row_rules_mostly,
    validate_build,
    validate_warehouse,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory, clean_generated):
    """A warehouse built (and checked) from a small generated store without bad rows."""
    root = tmp_path_factory.mktemp("contracts")
    settings = load_settings({"SALES_INSIGHTS_WAREHOUSE": str(root / "wh" / "warehouse.duckdb")})
    result = build(settings, DataSource("directory", clean_generated, "test store"), settings.warehouse)
    return settings, result


def _copy_warehouse(built, tmp_path: Path) -> Path:
    settings, result = built
    copy = tmp_path / "wh" / "warehouse.duckdb"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(result.warehouse, copy)
    return copy


def _validate(warehouse: Path, suites: list[str], project_dir: Path = PROJECT_DIR,
              contracts: ContractsConfig | None = None):
    return validate_warehouse(warehouse, project_dir, "raw", contracts or ContractsConfig(), "USD",
                              warehouse.parent / "docs", suites)


def _outcome(report, description_start: str):
    found = [o for s in report.suites for o in s.outcomes if o.description.startswith(description_start)]
    assert len(found) == 1, [o.description for s in report.suites for o in s.outcomes]
    return found[0]


def test_committed_suite_files_are_the_definitions():
    directory = PROJECT_DIR / SUITES_DIR
    suites = all_suites()
    assert sorted(p.name for p in directory.glob("*.json")) == sorted(f"{s.name}.json" for s in suites)
    for suite in suites:
        assert suite_file(PROJECT_DIR, suite.name).read_text(encoding="utf-8") == render(suite), (
            f"{suite.name}: run `python -m sales_insights.quality.suites` to rewrite gx/expectations"
        )


def test_every_raw_table_and_mart_has_a_suite_covering_the_contract():
    by_name = {s.name: s for s in all_suites()}
    con = duckdb.connect()
    for table in TABLES:
        kinds = {(e["type"], e["kwargs"].get("column")) for e in by_name[table.name].expectations}
        assert ("expect_table_columns_to_match_set", None) in kinds
        for column in table.columns:
            if not column.nullable:
                assert ("expect_column_values_to_not_be_null", column.name) in kinds
            if column.type != "string":
                assert any(c and c.startswith(f"{column.name}__not_") for _, c in kinds), column
            if column.accepted_values:
                assert ("expect_column_values_to_be_in_set", column.name) in kinds
        if table.key:
            assert ("expect_column_values_to_be_null", f"{table.key}__not_unique") in kinds
        for column in table.references:
            assert any(c and c.startswith(f"{column}__not_in_") for _, c in kinds)
        # The rule SQL runs in DuckDB as written, and holds no "?" (GE would take it for a bind parameter).
        for e in by_name[table.name].expectations:
            sql = e["meta"].get("rule_sql")
            if sql:
                assert "?" not in sql
                con.execute("select " + sql.replace("{column}", "'x'").replace("{shop_currency}", "USD")
                            .replace("{schema}.", "").replace(f'"{table.name}"', "(select 1 as id)")
                            .replace('"raw_shopify_orders"', "(select 1 as id)")
                            .replace('"raw_shopify_products"', "(select 1 as id)"))
    marts = [s.name for s in all_suites() if s.layer == "mart"]
    assert len(marts) == 19 and len(all_suites()) == 27  # and 8 raw suites: seven tables and the GA4 report
    assert {"fct_experiment_shortlist", "fct_customer_cohorts", "fct_headline_metrics"} <= set(marts)


def test_the_dialect_keeps_a_result_after_its_connection_is_returned(tmp_path):
    path = tmp_path / "t.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table t as select range as id from range(10)")
    con.close()
    plain = sa.create_engine(f"duckdb:///{path}")
    with plain.connect() as connection:
        lost = connection.execute(sa.text("select count(*) from t"))
    # The trap this dialect exists for: plain duckdb-engine hands back an empty result.
    assert lost.fetchall() == []
    plain.dispose()
    fixed = sa.create_engine(gx_duckdb.connection_url(str(path)))
    with fixed.connect() as connection:
        kept = connection.execute(sa.text("select count(*) from t"))
    assert kept.fetchall() == [(10,)]
    fixed.dispose()
    gx_duckdb.close_all()
    duckdb.connect(str(path)).close()  # nothing left open: the file opens read-write again


def test_the_dialect_opens_a_warehouse_whose_path_has_quotes_and_url_characters(tmp_path):
    """The path is percent-encoded into the URL: a ? or # in it does not start the URL's query or fragment,
    and a %41 stays those three characters. (DuckDB itself cannot open a file under a directory whose name
    has a ?: it cuts the name of the write-ahead log there.)"""
    assert sa.engine.make_url(gx_duckdb.connection_url("/data/a?b.duckdb")).database == "/data/a?b.duckdb"
    path = tmp_path / "it's a#b %41; drop" / "t.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as id")
    engine = sa.create_engine(gx_duckdb.connection_url(str(path)))
    assert engine.url.database == str(path) and engine.url.query == {"access_mode": "read_only"}
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from t")).fetchall() == [(1,)]
    engine.dispose()
    gx_duckdb.close_all()


def test_the_generated_store_passes_every_contract_with_no_error(built):
    settings, result = built
    report = result.contracts
    assert report is not None and report.success
    assert report.count(ERROR) == 0 and report.count(FAILED) == 0
    # 26 suites of gx/expectations and the row-loss check, one expectation per raw table
    assert len(report.suites) == 27 and all(len(s.outcomes) >= 4 for s in report.suites)
    loss = next(s for s in report.suites if s.name == ROW_LOSS_SUITE)
    assert {o.description.split()[0] for o in loss.outcomes} == {
        s.table for s in report.suites if s.layer == "source" and s.name != ROW_LOSS_SUITE}
    assert all(o.unexpected_count <= o.element_count // 100 for o in loss.outcomes)
    con = duckdb.connect(str(result.warehouse), read_only=True)
    statuses = con.execute("select status, count(*) from meta.contract_results group by 1").fetchall()
    con.close()
    assert statuses == [(PASSED, report.expectations)]
    index = settings.data_docs_dir(result.warehouse) / "index.html"
    assert index.is_file() and "fct_funnel_daily" in index.read_text(encoding="utf-8")


def test_an_expectation_that_errors_is_reported_as_an_error_never_as_data(built, tmp_path):
    warehouse = _copy_warehouse(built, tmp_path)
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / SUITES_DIR, project / SUITES_DIR)
    path = project / SUITES_DIR / "fct_orders.json"
    suite = json.loads(path.read_text())
    suite["expectations"].append({"type": "expect_column_values_to_be_between", "description": "a broken check",
                                  "kwargs": {"column": "no_such_column", "min_value": 0}, "meta": {}})
    path.write_text(json.dumps(suite))
    report = _validate(warehouse, ["fct_orders"], project)
    broken = _outcome(report, "a broken check")
    assert broken.status == ERROR and "no_such_column" in broken.error
    assert report.suites[0].status == ERROR and not report.success
    assert report.count(FAILED) == 0  # the data broke nothing


def test_on_plain_duckdb_engine_every_check_errors_and_none_passes_or_fails(built, tmp_path, monkeypatch):
    """The known trap: without the dialect GE's metrics come back empty. That must show as errors."""
    warehouse = _copy_warehouse(built, tmp_path)
    monkeypatch.setattr(gx_duckdb, "connection_url", lambda path, read_only=True: f"duckdb:///{path}")
    report = _validate(warehouse, ["fct_orders", "raw_shopify_refunds"])
    assert not report.success and report.count(FAILED) == 0
    # (the row-loss check reads the warehouse before GE does, with DuckDB itself)
    not_errored = [o for s in report.suites if s.name != ROW_LOSS_SUITE for o in s.outcomes if o.status != ERROR]
    # Only a check on metadata survives (column names come with the cursor, not its rows), and it is right.
    assert [o.expectation_type for o in not_errored] == ["expect_table_columns_to_match_set"]
    assert {"id", "order_id", "created_at", "amount"} <= set(not_errored[0].observed)


def test_a_mart_that_breaks_its_contract_fails_with_the_rows_and_the_cli_says_so(built, tmp_path, monkeypatch):
    warehouse = _copy_warehouse(built, tmp_path)
    con = duckdb.connect(str(warehouse))
    con.execute("""update marts.fct_funnel_daily set purchase_sessions = begin_checkout_sessions + 1
                   where funnel_daily_key in (select funnel_daily_key from marts.fct_funnel_daily
                                              order by funnel_daily_key limit 3)""")
    con.close()
    report = _validate(warehouse, ["fct_funnel_daily"])
    broken = _outcome(report, "begin_checkout_sessions >= purchase_sessions")
    assert broken.status == FAILED and broken.unexpected_count == 3
    assert report.suites[0].status == FAILED and report.count(ERROR) == 0

    monkeypatch.setenv("SALES_INSIGHTS_WAREHOUSE", str(warehouse))
    result = CliRunner().invoke(main, ["validate", "--suite", "fct_funnel_daily"])
    assert result.exit_code == 1, result.output
    assert "FAILED fct_funnel_daily" in result.output
    assert "begin_checkout_sessions >= purchase_sessions" in result.output and "3 of " in result.output


def test_raw_rules_tolerate_a_few_bad_rows_but_not_a_flood(built, tmp_path):
    warehouse = _copy_warehouse(built, tmp_path)
    con = duckdb.connect(str(warehouse))
    rows = con.execute("select count(*) from raw.raw_ga4_events").fetchone()[0]
    con.execute("update raw.raw_ga4_events set device_category = 'phone' where rowid < 3")
    con.close()
    few = _validate(warehouse, ["raw_ga4_events"])
    device = _outcome(few, "device_category is one of")
    assert few.success and device.status == PASSED and device.unexpected_count == 3

    con = duckdb.connect(str(warehouse))
    con.execute("update raw.raw_ga4_events set device_category = 'phone' where rowid % 10 = 0")
    flooded = con.execute("select count(*) from raw.raw_ga4_events where device_category = 'phone'").fetchone()[0]
    con.close()
    many = _validate(warehouse, ["raw_ga4_events"])
    device = _outcome(many, "device_category is one of")
    assert device.status == FAILED and device.unexpected_count == flooded and device.element_count == rows
    assert device.examples and set(device.examples) == {"phone"}


def test_the_key_rule_flags_rows_whose_key_a_different_row_has_not_exact_copies():
    orders = {s.name: s for s in all_suites()}["raw_shopify_orders"]
    (name, column, condition), = [r for r in raw_rule_columns(orders) if r[0] == "id__not_unique"]
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.raw_shopify_orders as select * from (values ('1', '10.00'), ('2', '5.00'), "
                "('2', '5.00'), ('3', '7.00'), ('3', '8.00'), ('4', null), ('4', null)) as t(id, total_price)")
    flagged = con.execute(f"select id from raw.raw_shopify_orders as raw where "
                          f"{condition.replace('{column}', 'raw.id').replace('{schema}', 'raw')} order by 1").fetchall()
    assert flagged == [("3",), ("3",)]  # the exact copies of 2 and of 4 (nulls alike) are kept once


def test_row_rules_mostly_is_the_share_however_small_the_table():
    contracts = ContractsConfig(max_bad_row_share=0.01)
    assert row_rules_mostly(1_000, contracts) == pytest.approx(0.99)  # 10 rows
    assert row_rules_mostly(1_000_000, contracts) == pytest.approx(0.99)  # 10,000 rows
    assert row_rules_mostly(8, contracts) == 1.0  # a tiny table may lose none of its rows
    assert row_rules_mostly(8, contracts, planted=2) == pytest.approx(0.75)  # but the two broken on purpose
    assert row_rules_mostly(0, contracts) == 1.0
    assert row_rules_mostly(100, ContractsConfig(0.0)) == 1.0
    # GE's own division, so that exactly the tolerated rows pass: 1 - 1/7 would be above 6/7
    assert row_rules_mostly(7, contracts, planted=1) == 6 / 7 < 1 - 1 / 7


def test_a_table_may_lose_a_share_of_its_rows_rounded_down():
    contracts = ContractsConfig()
    assert [contracts.tolerated(n) for n in (8, 17, 99, 100, 5_000, 1_000_000)] == [0, 0, 0, 1, 50, 10_000]
    assert contracts.tolerated(148, "seeds") == 14  # the demo seeds plant bad rows on purpose
    assert contracts.tolerated(148, "directory", planted=3) == 4  # 1 of the share, 3 planted by the generator


def test_the_removed_max_bad_rows_setting_is_refused_with_the_reason(tmp_path):
    (tmp_path / "sales_insights.toml").write_text(
        (PROJECT_DIR / "sales_insights.toml").read_text().replace("[contracts]\n", "[contracts]\nmax_bad_rows = 5\n"))
    with pytest.raises(SalesInsightsError, match="max_bad_rows is gone"):
        load_project_config(tmp_path)


def test_the_share_can_be_raised_for_one_run_and_a_bad_value_is_refused(monkeypatch):
    monkeypatch.setenv(SHARE_ENV, "0.05")
    assert load_project_config(PROJECT_DIR).contracts.max_bad_row_share == 0.05
    for bad in ("5%", "1.5", "-0.1"):
        monkeypatch.setenv(SHARE_ENV, bad)
        with pytest.raises(SalesInsightsError, match=SHARE_ENV):
            load_project_config(PROJECT_DIR)


def test_validate_on_the_published_warehouse_picks_the_raw_schema_of_its_source(built):
    settings, result = built
    docs = settings.data_docs_dir(result.warehouse)
    (docs / "notes.txt").write_text("mine")  # a file of the user's in the docs folder survives
    report = validate_build(settings, result.warehouse, "directory", ["raw_shopify_orders"])
    assert (docs / "notes.txt").read_text() == "mine" and (docs / "index.html").is_file()
    assert report.success and report.suites[0].outcomes[0].element_count is None  # the column-set check
    assert any(o.element_count for o in report.suites[0].outcomes)


def test_unknown_suite_is_a_clear_error(built, monkeypatch):
    settings, result = built
    monkeypatch.setenv("SALES_INSIGHTS_WAREHOUSE", str(result.warehouse))
    outcome = CliRunner().invoke(main, ["validate", "--suite", "fct_nope"])
    assert outcome.exit_code == 2 and "fct_nope" in outcome.output


def test_rows_lost_with_a_rejected_row_they_point_at_count_once_at_its_table(tmp_path):
    """Two lines of a rejected order go with it: the order's table counts the loss, the lines' does not. A
    line pointing at no order at all, and one of an order that was kept once as an exact copy, are lost."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema staging")
    con.execute("create table staging.stg_rejected_rows (source_table varchar, column_name varchar, "
                "reason varchar, record_key varchar, rejected_value varchar)")
    con.executemany("insert into staging.stg_rejected_rows values (?, ?, ?, ?, ?)", [
        ("raw_shopify_orders", "currency", "currency differs from the shop currency USD", "10", "EUR"),
        ("raw_shopify_orders", "id", "exact duplicate of an earlier row (kept once)", "11", "11"),
        ("raw_shopify_order_lines", "order_id", "orphan line: no accepted order has this id", "100", "10"),
        ("raw_shopify_order_lines", "order_id", "orphan line: no accepted order has this id", "101", "10"),
        ("raw_shopify_order_lines", "order_id", "orphan line: no accepted order has this id", "102", "99"),
        ("raw_shopify_order_lines", "order_id", "orphan line: no accepted order has this id", "103", "11"),
        ("raw_shopify_order_lines", "quantity", "quantity must be greater than 0", "104", "10"),
        ("raw_shopify_refunds", "order_id", "orphan refund: no accepted order has this id", "7", "10"),
    ])
    assert lost_rows(con) == ({"raw_shopify_orders": 1, "raw_shopify_order_lines": 3}, None)
    con.close()
