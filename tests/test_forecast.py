"""The revenue forecast: parts add up, the backtest covers the last complete months, bad states are marked."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sales_insights.analytics import clv_tables as clv_models
from sales_insights.analytics import forecast

CDNOW = Path(__file__).parent / "data" / "cdnow"


@pytest.fixture(scope="module")
def cdnow_orders() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "value"], dtype={"date": str})
    raw["order_date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    raw = raw.sort_values(["customer_id", "order_date"], kind="stable")
    return pd.DataFrame({
        "order_date": raw["order_date"],
        "customer_id": raw["customer_id"].astype(float),
        "net_revenue": raw["value"],
        "is_first_order": ~raw.duplicated("customer_id"),
    })


@pytest.fixture(scope="module")
def cdnow_table(cdnow_orders) -> pd.DataFrame:
    return forecast.forecast_tables(cdnow_orders, forecast.ForecastSettings())


def test_last_complete_month():
    ends_on_month_end = pd.DataFrame({"order_date": pd.to_datetime(["2025-01-03", "2025-03-31"])})
    ends_mid_month = pd.DataFrame({"order_date": pd.to_datetime(["2025-01-03", "2025-03-30"])})
    assert forecast.last_complete_month(ends_on_month_end) == pd.Timestamp("2025-03-01")
    assert forecast.last_complete_month(ends_mid_month) == pd.Timestamp("2025-02-01")


def test_backtest_covers_the_last_complete_months_with_every_horizon(cdnow_table):
    backtest = cdnow_table[cdnow_table["kind"] == "backtest"]
    # CDNOW ends on 1998-06-30: origins April, May and June 1998, forecasting up to June.
    assert sorted({str(d) for d in backtest["origin_month"]}) == ["1998-04-01", "1998-05-01", "1998-06-01"]
    assert len(backtest) == 3 + 2 + 1
    assert backtest["actual_net_revenue"].notna().all()
    assert backtest["absolute_percentage_error"].notna().all()
    actual_june = backtest.loc[backtest["forecast_month"].astype(str) == "1998-06-01", "actual_net_revenue"]
    assert set(actual_june.round(2)) == {5590.87}


def test_forecast_parts_add_up_and_the_interval_brackets_it(cdnow_table):
    ahead = cdnow_table[cdnow_table["kind"] == "forecast"]
    assert len(ahead) == forecast.ForecastSettings().months
    assert str(ahead["forecast_month"].iloc[0]) == "1998-07-01"
    parts = ahead["existing_customer_revenue"] + ahead["new_customer_revenue"] + ahead["guest_revenue"]
    assert ((parts - ahead["forecast_net_revenue"]).abs() < 1e-6).all()
    assert (ahead["lower_net_revenue"] <= ahead["forecast_net_revenue"]).all()
    assert (ahead["forecast_net_revenue"] <= ahead["upper_net_revenue"]).all()
    # CDNOW's cohort was acquired in early 1997 and has no guests: all revenue comes from existing customers
    assert (ahead["new_customer_revenue"] == 0).all()
    assert (ahead["guest_revenue"] == 0).all()
    # a closed cohort decays: the last month is below the first
    assert ahead["forecast_net_revenue"].iloc[-1] < ahead["forecast_net_revenue"].iloc[0]


def test_new_customers_and_guests_are_added(cdnow_orders):
    # Shift half the customers' histories by 15 months, making them new customers of April to June
    # 1998 (inside the 6-month acquisition trend), and make some
    # 1998 orders guest checkouts.
    orders = cdnow_orders.copy()
    later = orders["customer_id"] % 2 == 0
    orders.loc[later, "order_date"] = orders.loc[later, "order_date"] + pd.DateOffset(months=15)
    orders = orders[orders["order_date"] <= "1998-06-30"]
    guests = (orders["customer_id"] % 10 == 3) & (orders["order_date"] >= "1998-01-01")
    orders.loc[guests, "customer_id"] = None
    table = forecast.forecast_tables(orders, forecast.ForecastSettings())
    ahead = table[table["kind"] == "forecast"]
    assert (ahead["new_customer_revenue"] > 0).all()
    assert (ahead["guest_revenue"] > 0).all()


def test_too_little_history_gives_marked_rows_with_nulls():
    orders = pd.DataFrame({
        "order_date": pd.to_datetime(["2025-01-05", "2025-02-10", "2025-03-15", "2025-03-31"]),
        "customer_id": [1.0, 1.0, 2.0, None],
        "net_revenue": [10.0, 20.0, 30.0, 5.0],
        "is_first_order": [True, False, True, False],
    })
    table = forecast.forecast_tables(orders, forecast.ForecastSettings(clv=clv_models.ClvSettings()))
    assert set(table["status"]) == {"insufficient_data"}
    assert table["forecast_net_revenue"].isna().all()
    assert str(table["forecast_net_revenue"].dtype) == "Float64"
    assert table["message"].str.contains("repeat customers").all()


def test_a_store_without_a_valid_order_gives_an_empty_table_the_marts_can_read():
    """Every order a test or cancelled (the contract allows it): no month to forecast from, so no rows, but
    the columns keep their types, so the marts' casts (months to date) still bind."""
    orders = pd.DataFrame({"order_date": pd.Series(dtype="datetime64[us]"), "customer_id": pd.Series(dtype=float),
                           "net_revenue": pd.Series(dtype=float), "is_first_order": pd.Series(dtype=bool)})
    table = forecast.forecast_tables(orders, forecast.ForecastSettings())
    assert table.empty and list(table.columns) == list(forecast.TABLE_COLUMNS)
    with duckdb.connect() as con:
        con.register("calc_revenue_forecast", table)
        types = dict(con.execute("select column_name, column_type from (describe calc_revenue_forecast)").fetchall())
        assert types["forecast_month"] == "DATE" and types["forecast_net_revenue"] == "DOUBLE"
        assert con.execute("select cast(forecast_month as date), cast(forecast_net_revenue as decimal(18, 2)) "
                           "from calc_revenue_forecast where kind = 'forecast'").fetchall() == []



def _with_order(orders: pd.DataFrame, day: str, revenue: float = 40.0) -> pd.DataFrame:
    extra = pd.DataFrame({"order_date": [pd.Timestamp(day)], "customer_id": [1.0], "net_revenue": [revenue],
                          "is_first_order": [False]})
    return pd.concat([orders, extra], ignore_index=True)


def test_an_origin_whose_customers_did_not_change_takes_the_last_builds_fit_and_gives_the_same_rows(
        cdnow_orders, cdnow_table, monkeypatch):
    """CDNOW ends on 1998-06-30. A refund in May 1998 of a June 1998 order changes only what the forecast from
    July reads: the backtest origins (April, May, June) keep their fits, and each row is what a build that
    fitted everything again gives."""
    settings = forecast.ForecastSettings()
    fits = forecast.known_fits(cdnow_table)
    assert len(fits) == 4 and set(cdnow_table.groupby("origin_month")["fit_fingerprint"].nunique()) == {1}
    refunded = cdnow_orders.copy()
    june = refunded.index[refunded["order_date"] >= "1998-06-01"][0]
    refunded.loc[june, "net_revenue"] -= 5.0
    fitted = []
    real_fit = clv_models.fit
    monkeypatch.setattr(clv_models, "fit", lambda *args: fitted.append(1) or real_fit(*args))
    kept = forecast.forecast_tables(refunded, settings, fits)
    assert len(fitted) == 1
    monkeypatch.setattr(clv_models, "fit", real_fit)
    pd.testing.assert_frame_equal(kept, forecast.forecast_tables(refunded, settings))
    by_origin = kept.groupby("origin_month")["fit_fingerprint"].first()
    before = cdnow_table.groupby("origin_month")["fit_fingerprint"].first()
    assert [str(m) for m in by_origin.index[by_origin != before]] == ["1998-07-01"]


def test_a_fit_read_back_from_its_text_is_the_same_fit(cdnow_table):
    for text in cdnow_table["fit_parameters"].unique():
        fit = forecast.fit_from_json(text)
        assert fit.status == clv_models.FITTED and forecast.fit_to_json(fit) == text
    failed = clv_models.Fit(clv_models.INSUFFICIENT, "too few repeat customers")
    assert forecast.fit_from_json(forecast.fit_to_json(failed)) == failed


def test_other_settings_or_another_summary_fit_again(cdnow_orders):
    summary = pd.DataFrame({"x": [0.0, 2.0], "t_x": [0.0, 30.0], "T": [60.0, 60.0], "zbar": [0.0, 12.5]})
    key = forecast.fit_fingerprint(summary, clv_models.ClvSettings())
    assert key == forecast.fit_fingerprint(summary.copy(), clv_models.ClvSettings())
    assert key != forecast.fit_fingerprint(summary.assign(zbar=[0.0, 12.51]), clv_models.ClvSettings())
    assert key != forecast.fit_fingerprint(summary, clv_models.ClvSettings(min_repeat_customers=10))


class _This:
    database, schema, identifier = "memory", "calculations", "calc_revenue_forecast"


class _Dbt:
    this = _This()


def test_the_last_builds_rows_are_read_only_when_its_table_has_the_columns(cdnow_table):
    from sales_insights.analytics.model_io import previous_rows

    columns = forecast.FIT_COLUMNS
    with duckdb.connect() as con:
        assert previous_rows(_Dbt(), con, columns) is None  # a first build
        con.execute("create schema calculations")
        con.register("last_build", cdnow_table.drop(columns=["fit_parameters"]))
        con.execute("create table calculations.calc_revenue_forecast as select * from last_build")
        assert previous_rows(_Dbt(), con, columns) is None  # a build from before the column
        con.execute("drop table calculations.calc_revenue_forecast")
        con.register("last_build", cdnow_table)
        con.execute("create table calculations.calc_revenue_forecast as select * from last_build")
        rows = previous_rows(_Dbt(), con, columns)
        assert list(rows.columns) == list(columns) and len(rows) == len(cdnow_table)
        assert forecast.known_fits(rows).keys() == forecast.known_fits(cdnow_table).keys()
