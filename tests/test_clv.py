"""The CLV models against the published CDNOW results (Fader, Hardie & Lee 2005; Fader & Hardie 2013)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from sales_insights.analytics import clv
from sales_insights.analytics import clv_tables as clv_models

CDNOW = Path(__file__).parent / "data" / "cdnow"


@pytest.fixture(scope="module")
def published_inputs() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "value"], dtype={"date": str})
    raw["purchase_date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


def _within(actual: float, published: float, tolerance: float = 0.01) -> bool:
    return abs(actual - published) <= tolerance * abs(published)


def test_bgnbd_fit_reproduces_the_published_parameters(published_inputs):
    d = published_inputs
    fit = clv.fit_bgnbd(d["x"], d["t_x"], d["T"])
    assert fit.converged
    for actual, published in [(fit.r, 0.243), (fit.alpha, 4.414), (fit.a, 0.793), (fit.b, 2.426),
                              (fit.log_likelihood, -9582.4)]:
        assert _within(actual, published), (actual, published)


def test_gamma_gamma_fit_reproduces_the_published_parameters(published_inputs):
    d = published_inputs
    fit = clv.fit_gamma_gamma(d["x"], d["zbar"])
    assert fit.customers == 946
    for actual, published in [(fit.p, 6.25), (fit.q, 3.74), (fit.gamma, 15.44)]:
        assert _within(actual, published), (actual, published)


def test_summary_of_the_raw_transactions_matches_the_published_inputs(transactions, published_inputs):
    summary = clv.rfm_summary(transactions, pd.Timestamp("1998-06-30"), time_unit_days=7.0,
                              calibration_end=pd.Timestamp("1997-09-30"))
    published = published_inputs.set_index("ID").loc[summary.index]
    assert summary["x"].sum() == 2457
    assert summary["holdout_purchases"].sum() == 1882
    assert (summary["x"].to_numpy() == published["x"].to_numpy()).all()
    # the published t_x, T and zbar are rounded to two decimals
    assert np.abs(summary["t_x"].to_numpy() - published["t_x"].to_numpy()).max() < 0.006
    assert np.abs(summary["T"].to_numpy() - published["T"].to_numpy()).max() < 0.006
    assert np.abs(summary["zbar"].to_numpy() - published["zbar"].to_numpy()).max() < 0.006


def test_bgnbd_predictions_behave(published_inputs):
    d = published_inputs
    fit = clv.fit_bgnbd(d["x"], d["t_x"], d["T"])
    # no repeat purchase: alive with certainty under BG/NBD (drop-out happens only after a purchase)
    assert clv.bgnbd_p_alive(fit, 0, 0, 38.86) == pytest.approx(1.0)
    # the same frequency, a long silence since: less likely alive, fewer purchases expected
    recent = clv.bgnbd_p_alive(fit, 4, 38, 39)
    silent = clv.bgnbd_p_alive(fit, 4, 10, 39)
    assert 0 < silent < recent < 1
    assert clv.bgnbd_expected_purchases(fit, 39, 4, 10, 39) < clv.bgnbd_expected_purchases(fit, 39, 4, 38, 39)
    # expectations grow with the horizon
    horizons = clv.bgnbd_expected_purchases(fit, np.array([13, 26, 39, 52]), 2, 30, 39)
    assert (np.diff(horizons) > 0).all()
    # a new customer's expected purchases from eq. 9 equal the conditional expectation at x=0, T=0
    assert clv.bgnbd_expected_purchases_new_customer(fit, 39) == pytest.approx(
        clv.bgnbd_expected_purchases(fit, 39, 0, 0, 0))


def test_holdout_forecast_is_in_the_range_of_the_actual(transactions):
    summary = clv.rfm_summary(transactions, pd.Timestamp("1998-06-30"), time_unit_days=7.0,
                              calibration_end=pd.Timestamp("1997-09-30"))
    fit = clv.fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
    predicted = clv.bgnbd_expected_purchases(fit, 39, summary["x"], summary["t_x"], summary["T"]).sum()
    assert abs(predicted - 1882) / 1882 < 0.15


def test_gamma_gamma_expected_spend_shrinks_towards_the_population_mean(published_inputs):
    d = published_inputs
    fit = clv.fit_gamma_gamma(d["x"], d["zbar"])
    population = fit.p * fit.gamma / (fit.q - 1)
    one, many = clv.gamma_gamma_expected_spend(fit, np.array([1, 20]), np.array([100.0, 100.0]))
    assert population < many < one < 100 or population < one < many < 100
    assert abs(many - 100) < abs(one - 100)


def test_too_few_repeat_customers_is_a_clear_error():
    with pytest.raises(clv.InsufficientData, match="needs at least 300 repeat customers"):
        clv.fit_bgnbd([0, 1, 2], [0, 5, 9], [10, 10, 10], min_repeat_customers=300)


def _cdnow_order_days(transactions) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": transactions["customer_id"],
        "order_date": transactions["purchase_date"],
        "net_revenue": transactions["value"],
    })


def test_the_warehouse_pipeline_on_cdnow_in_days_gives_the_published_fit(transactions):
    """What the dbt models run, on CDNOW: the holdout of 273 days before 1998-06-30 is exactly the
    published 39 weeks, so the calibration fit is the published one with alpha in days (x 7) and the
    log-likelihood shifted by the change of time unit (-2457 ln 7: one density per repeat purchase)."""
    settings = clv_models.ClvSettings(min_repeat_customers=300, holdout_days=273)
    parameters = clv_models.fit_parameters(_cdnow_order_days(transactions), pd.Timestamp("1998-06-30"), settings)
    bgnbd = parameters.set_index(["fit_name", "model"]).loc[("calibration", "bg_nbd")]
    assert bgnbd["status"] == "fitted"
    assert str(bgnbd["calibration_end_date"]) == "1997-09-30"
    for actual, published in [(bgnbd["r"], 0.243), (bgnbd["alpha"], 4.414 * 7), (bgnbd["a"], 0.793),
                              (bgnbd["b"], 2.426), (bgnbd["log_likelihood"], -9582.4 - 2457 * np.log(7))]:
        assert _within(float(actual), published), (actual, published)

    holdout = clv_models.predict_holdout(_cdnow_order_days(transactions), pd.Timestamp("1998-06-30"),
                                         parameters, settings)
    assert holdout["actual_holdout_purchases"].sum() == 1882
    assert holdout["predicted_holdout_purchases"].notna().all()


def test_too_little_history_marks_every_table_and_leaves_nulls_not_nan():
    order_days = pd.DataFrame({
        "customer_id": [1, 1, 2, 3],
        "order_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-01-15", "2025-03-01"]),
        "net_revenue": [10.0, 20.0, 30.0, 40.0],
    })
    settings = clv_models.ClvSettings(min_repeat_customers=300)
    parameters = clv_models.fit_parameters(order_days, pd.Timestamp("2025-03-31"), settings)
    assert set(parameters["status"]) == {"insufficient_data"}
    assert parameters["message"].str.contains("needs at least 300 repeat customers").all()
    assert parameters["r"].isna().all()
    customers = clv_models.predict_customers(order_days, pd.Timestamp("2025-03-31"), parameters, settings)
    assert (customers["clv_status"] == "insufficient_data").all()
    for column in ("p_alive", "expected_purchases_90d", "predicted_clv_12m"):
        assert customers[column].isna().all()
        assert str(customers[column].dtype) == "Float64"  # pandas NA: stored as NULL, never NaN
    con = duckdb.connect()
    con.register("predictions", customers)
    assert con.execute("select count(*) from predictions where isnan(p_alive)").fetchone()[0] == 0
    assert con.execute("select count(*) from predictions where p_alive is null").fetchone()[0] == 3


def test_a_failed_fit_whose_numbers_are_not_finite_predicts_nulls_instead_of_crashing():
    """A fit that failed with an infinite likelihood or parameter is stored with nulls; reading it back for
    the predictions must not make floats of them (TypeError on pandas' NA)."""
    order_days = pd.DataFrame({
        "customer_id": [1, 1, 2],
        "order_date": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-01-15"]),
        "net_revenue": [10.0, 20.0, 30.0],
    })
    end = pd.Timestamp("2025-03-31")
    failed = clv_models.Fit(clv_models.FAILED, "the optimiser did not converge",
                            clv.BgNbdParams(np.inf, 1.0, 1.0, 1.0, -np.inf, 2, False),
                            clv.GammaGammaParams(1.0, 0.5, 1.0, np.nan, 1, False))
    full, calibration, calibration_end, _ = clv_models.summaries(order_days, end, clv_models.ClvSettings())
    parameters = clv_models.parameters_table({"full": (failed, full, end, end),
                                              "calibration": (failed, calibration, calibration_end, end)})
    assert parameters["r"].isna().any() and parameters["log_likelihood"].isna().all()
    settings = clv_models.ClvSettings()
    customers = clv_models.predict_customers(order_days, end, parameters, settings)
    assert (customers["clv_status"] == "fit_failed").all() and customers["p_alive"].isna().all()
    holdout = clv_models.predict_holdout(order_days, end, parameters, settings)
    assert holdout["predicted_holdout_purchases"].isna().all()


def test_no_customer_and_one_customer_give_marked_tables_not_errors():
    settings = clv_models.ClvSettings(min_repeat_customers=1)
    for order_days in (
        pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "order_date": pd.Series(dtype="datetime64[us]"),
                      "net_revenue": pd.Series(dtype=float)}),
        pd.DataFrame({"customer_id": [7], "order_date": pd.to_datetime(["2025-01-01"]), "net_revenue": [9.0]}),
    ):
        end = order_days["order_date"].max() if len(order_days) else None
        parameters = clv_models.fit_parameters(order_days, end, settings)
        assert set(parameters["status"]) == {"insufficient_data"}
        customers = clv_models.predict_customers(order_days, end, parameters, settings)
        assert len(customers) == len(order_days) and customers["p_alive"].isna().all()
        assert clv_models.predict_holdout(order_days, end, parameters, settings).empty
