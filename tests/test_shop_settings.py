"""The shop's settings (currency, reporting time zone, free-shipping threshold) come from sales_insights.toml
or the environment and reach every dbt command the CLI runs; a merchant never edits dbt_project.yml."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.cli import main
from sales_insights.config import SHARE_ENV, load_settings, load_shop_config
from sales_insights.devtools.spark import with_vars
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.build import build, project_fingerprint
from sales_insights.pipeline.data_source import DataSource
from test_build import EXPECTED_REJECTS, write_handmade_store


def _project(tmp_path: Path, shop: str | None) -> Path:
    """A project folder with the real dbt_project.yml and a sales_insights.toml holding `shop`."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_DIR / "dbt_project.yml", project)
    (project / "sales_insights.toml").write_text('[exports]\nmarts = ["fct_orders"]\n' + (shop or ""))
    return project


def test_without_settings_the_dbt_project_defaults_apply(tmp_path):
    shop = load_shop_config(_project(tmp_path, None), {})
    assert shop.dbt_vars() == {"shop_currency": "USD", "reporting_timezone": "UTC", "free_shipping_threshold": 75}


def test_the_environment_overrides_the_toml_which_overrides_dbt_project(tmp_path):
    project = _project(tmp_path, '[shop]\ncurrency = "EUR"\nreporting_timezone = "Europe/Berlin"\n')
    assert load_shop_config(project, {}).dbt_vars() == {
        "shop_currency": "EUR", "reporting_timezone": "Europe/Berlin", "free_shipping_threshold": 75}
    env = {"SALES_INSIGHTS_REPORTING_TIMEZONE": "America/New_York", "SALES_INSIGHTS_FREE_SHIPPING_THRESHOLD": "49.90"}
    assert load_shop_config(project, env).dbt_vars() == {
        "shop_currency": "EUR", "reporting_timezone": "America/New_York", "free_shipping_threshold": 49.9}


@pytest.mark.parametrize(("shop", "env", "message"), [
    ('[shop]\ncurrency = "usd"\n', {}, "[shop] currency: the shop currency must be an ISO 4217 code"),
    ("", {"SALES_INSIGHTS_SHOP_CURRENCY": "EURO"}, "SALES_INSIGHTS_SHOP_CURRENCY=EURO: the shop currency"),
    ('[shop]\nreporting_timezone = "CET+1"\n', {}, "[shop] reporting_timezone: the reporting time zone must be"),
    ("", {"SALES_INSIGHTS_REPORTING_TIMEZONE": "Mars/Olympus"}, "SALES_INSIGHTS_REPORTING_TIMEZONE=Mars/Olympus"),
    ("[shop]\nfree_shipping_threshold = -5\n", {}, "the free-shipping threshold must be an amount of at least 0"),
    ("[shop]\nfree_shipping_threshold = 49.999\n", {}, "with at most two decimals"),
    ("", {"SALES_INSIGHTS_FREE_SHIPPING_THRESHOLD": "75; drop table x"}, "SALES_INSIGHTS_FREE_SHIPPING_THRESHOLD="),
    ('[shop]\ncurency = "EUR"\n', {}, "[shop] has unknown keys ['curency']"),
])
def test_a_setting_that_is_not_a_currency_zone_or_amount_is_an_error_naming_where_it_was_set(
        tmp_path, shop, env, message):
    with pytest.raises(SalesInsightsError) as caught:
        load_shop_config(_project(tmp_path, shop), env)
    assert message in str(caught.value)


def test_the_shop_settings_are_part_of_the_build_fingerprint(tmp_path):
    """A build in another time zone or currency cannot build incrementally on the published one."""
    project = _project(tmp_path, None)
    fingerprints = {project_fingerprint(project, load_shop_config(project, env)) for env in (
        {}, {"SALES_INSIGHTS_SHOP_CURRENCY": "EUR"}, {"SALES_INSIGHTS_REPORTING_TIMEZONE": "Asia/Tokyo"})}
    assert len(fingerprints) == 3


def test_dbt_commands_get_the_shop_vars_under_those_the_user_gives():
    flags = with_vars(["build", "--vars", "{shop_currency: GBP, clv_months: 6}", "--target", "spark"],
                      {"shop_currency": "EUR", "reporting_timezone": "UTC"})
    assert flags[:3] == ["build", "--target", "spark"] and flags[3] == "--vars"
    assert json.loads(flags[4]) == {"shop_currency": "GBP", "reporting_timezone": "UTC", "clv_months": 6}
    assert json.loads(with_vars(["run", "--vars={a: 1}"], {"b": 2})[-1]) == {"a": 1, "b": 2}
    with pytest.raises(SalesInsightsError, match="not a mapping"):
        with_vars(["run", "--vars", "[1, 2]"], {})


def test_a_bad_shop_setting_in_the_environment_ends_build_with_one_line(tmp_path):
    result = CliRunner(env={"SALES_INSIGHTS_SHOP_CURRENCY": "euro",
                            "SALES_INSIGHTS_WAREHOUSE": str(tmp_path / "w.duckdb")}).invoke(main, ["build"])
    assert result.exit_code == 1, result.output
    assert "error: SALES_INSIGHTS_SHOP_CURRENCY=euro: the shop currency must be" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "w.duckdb").exists()


@pytest.mark.dbt
def test_a_build_uses_the_shop_currency_and_time_zone_of_the_environment(tmp_path, monkeypatch):
    """The hand-made store of test_build with its currencies swapped (order 1001 in EUR, 1003 in USD), built
    for a EUR shop reporting in Pacific/Kiritimati (UTC+14): the same rows are rejected as in the USD shop,
    the currency row now for being USD, and the orders and sessions of 12:00 UTC fall on the next day."""
    data = tmp_path / "data"
    write_handmade_store(data)
    orders = data / "raw_shopify_orders.csv"
    orders.write_text(orders.read_text().replace("USD", "TMP").replace("EUR", "USD").replace("TMP", "EUR"))
    for name, value in (("SALES_INSIGHTS_SHOP_CURRENCY", "EUR"), ("SALES_INSIGHTS_REPORTING_TIMEZONE",
                                                                  "Pacific/Kiritimati"),
                        ("SALES_INSIGHTS_WAREHOUSE", str(tmp_path / "w.duckdb")), (SHARE_ENV, "0.9")):
        monkeypatch.setenv(name, value)
    result = build(load_settings(), DataSource("directory", data, "hand-made store in EUR"))
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        rejects = set(con.execute("select source_table, source_line, column_name, reason, rejected_value "
                                  "from staging.stg_rejected_rows").fetchall())
        currency = ("raw_shopify_orders", 4, "currency", "currency differs from the shop currency USD", "EUR")
        assert rejects == (EXPECTED_REJECTS - {currency}) | {
            ("raw_shopify_orders", 4, "currency", "currency differs from the shop currency EUR", "USD")}
        assert con.execute("select order_id, order_date from marts.fct_orders").fetchall() == [
            (1001, date(2025, 6, 2))]
        assert {d for (d,) in con.execute("select session_date from marts.fct_sessions").fetchall()} == {
            date(2025, 6, 2)}


def test_the_committed_shop_settings_are_the_dbt_defaults(tmp_path):
    """The demo store builds the same with `sales-insights build` and with a plain `dbt build`."""
    committed = load_shop_config(PROJECT_DIR, {})
    assert committed == load_shop_config(_project(tmp_path, None), {})
