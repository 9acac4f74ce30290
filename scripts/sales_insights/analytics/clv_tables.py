"""The CLV tables the dbt Python models publish: fitted parameters, per-customer predictions and the
calibration/holdout check. Pure functions of DataFrames; the dbt models only read and return them.

Time is in days. A fit that cannot be made (too few repeat customers, or an optimiser that does not
converge) gives a status and a message in every table, with nulls (never NaN) where numbers would be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sales_insights.analytics import clv
from sales_insights.analytics.model_io import duckdb_relation, ordered_df

FITTED = "fitted"
INSUFFICIENT = "insufficient_data"
FAILED = "fit_failed"


@dataclass(frozen=True)
class ClvSettings:
    min_repeat_customers: int = 300
    monthly_discount_rate: float = 0.01
    holdout_days: int = 90
    clv_months: int = 12

    @classmethod
    def from_config(cls, get) -> ClvSettings:
        """From a dbt Python model's dbt.config.get (values may arrive as text)."""
        defaults = cls()
        return cls(
            min_repeat_customers=int(get("clv_min_repeat_customers") or defaults.min_repeat_customers),
            monthly_discount_rate=float(get("clv_monthly_discount_rate") or defaults.monthly_discount_rate),
            holdout_days=int(get("clv_holdout_days") or defaults.holdout_days),
            clv_months=int(get("clv_months") or defaults.clv_months),
        )


@dataclass
class Fit:
    status: str
    message: str
    bgnbd: clv.BgNbdParams | None = None
    gamma_gamma: clv.GammaGammaParams | None = None


def purchases_from_order_days(order_days: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": order_days["customer_id"],
        "purchase_date": pd.to_datetime(order_days["order_date"]),
        "value": order_days["net_revenue"].astype(float),
    })


def fit(summary: pd.DataFrame, settings: ClvSettings) -> Fit:
    """Fit BG/NBD on (x, t_x, T) and Gamma-Gamma on the repeat customers' (x, zbar)."""
    try:
        bgnbd = clv.fit_bgnbd(summary["x"], summary["t_x"], summary["T"], settings.min_repeat_customers)
        gg = clv.fit_gamma_gamma(summary["x"], summary["zbar"], settings.min_repeat_customers)
    except clv.InsufficientData as exc:
        return Fit(INSUFFICIENT, str(exc))
    problems = []
    if not (bgnbd.converged and gg.converged):
        problems.append("the optimiser did not converge")
    if abs(bgnbd.a - 1) < 1e-6:
        problems.append("BG/NBD a = 1 makes the expected-purchases formula singular")
    if gg.q <= 1:
        problems.append(f"Gamma-Gamma q = {gg.q:.3f} <= 1 makes the mean spend infinite")
    if problems:
        return Fit(FAILED, "; ".join(problems), bgnbd, gg)
    return Fit(FITTED, f"fitted on {bgnbd.customers} customers, {int((summary['x'] > 0).sum())} repeat customers",
               bgnbd, gg)


def _nullable(values) -> pd.Series:
    """Floats with nulls instead of NaN, so DuckDB stores NULL."""
    series = pd.Series(np.asarray(values, dtype=float)).astype("Float64")
    return series.mask(series.isna() | ~np.isfinite(series.fillna(0).astype(float)))


def parameters_table(fits: dict[str, tuple[Fit, pd.DataFrame, pd.Timestamp, pd.Timestamp]]) -> pd.DataFrame:
    """One row per fit (full history, calibration period) and model (bg_nbd, gamma_gamma)."""
    rows = []
    for name, (result, summary, calibration_end, observation_end) in fits.items():
        common = {
            "fit_name": name,
            "status": result.status,
            "message": result.message,
            "calibration_end_date": calibration_end.date(),
            "observation_end_date": observation_end.date(),
            "customers": len(summary),
            "repeat_customers": int((summary["x"] > 0).sum()) if len(summary) else 0,
        }
        b, g = result.bgnbd, result.gamma_gamma
        rows.append({**common, "model": "bg_nbd",
                     "log_likelihood": b.log_likelihood if b else None,
                     "r": b.r if b else None, "alpha": b.alpha if b else None,
                     "a": b.a if b else None, "b": b.b if b else None,
                     "p": None, "q": None, "gamma": None})
        rows.append({**common, "model": "gamma_gamma",
                     "log_likelihood": g.log_likelihood if g else None,
                     "r": None, "alpha": None, "a": None, "b": None,
                     "p": g.p if g else None, "q": g.q if g else None, "gamma": g.gamma if g else None})
    table = pd.DataFrame(rows)
    for column in ("log_likelihood", "r", "alpha", "a", "b", "p", "q", "gamma"):
        table[column] = _nullable(table[column].astype(float))
    return table


def customer_predictions(summary: pd.DataFrame, result: Fit, settings: ClvSettings) -> pd.DataFrame:
    """Per customer: p_alive, expected purchases over 90 and 365 days, expected order value, 12-month CLV."""
    out = pd.DataFrame({
        "customer_id": summary.index.to_numpy(),
        "clv_status": result.status,
        "frequency": summary["x"].to_numpy(),
        "recency_days": summary["t_x"].to_numpy(),
        "tenure_days": summary["T"].to_numpy(),
    })
    n = len(summary)
    if result.status == FITTED:
        x, t_x, T, zbar = (summary[c].to_numpy() for c in ("x", "t_x", "T", "zbar"))
        p_alive = clv.bgnbd_p_alive(result.bgnbd, x, t_x, T)
        in_90 = clv.bgnbd_expected_purchases(result.bgnbd, 90, x, t_x, T)
        in_365 = clv.bgnbd_expected_purchases(result.bgnbd, 365, x, t_x, T)
        spend = clv.gamma_gamma_expected_spend(result.gamma_gamma, x, np.where(x > 0, zbar, 0.0))
        value = clv.discounted_value(result.bgnbd, result.gamma_gamma, x, t_x, T, np.where(x > 0, zbar, 0.0),
                                     settings.clv_months, 1.0, settings.monthly_discount_rate)
    else:
        p_alive = in_90 = in_365 = spend = value = np.full(n, np.nan)
    out["p_alive"] = _nullable(p_alive)
    out["expected_purchases_90d"] = _nullable(in_90)
    out["expected_purchases_365d"] = _nullable(in_365)
    out["expected_average_order_value"] = _nullable(spend)
    out["predicted_clv_12m"] = _nullable(value)
    return out


def holdout_table(summary: pd.DataFrame, result: Fit, holdout_days: int) -> pd.DataFrame:
    """Per customer acquired before the split: repeat purchases predicted for the holdout vs actual."""
    if result.status == FITTED:
        predicted = clv.bgnbd_expected_purchases(result.bgnbd, holdout_days, summary["x"], summary["t_x"],
                                                 summary["T"])
    else:
        predicted = np.full(len(summary), np.nan)
    return pd.DataFrame({
        "customer_id": summary.index.to_numpy(),
        "clv_status": result.status,
        "calibration_frequency": summary["x"].to_numpy(),
        "calibration_recency_days": summary["t_x"].to_numpy(),
        "calibration_tenure_days": summary["T"].to_numpy(),
        "holdout_days": holdout_days,
        "predicted_holdout_purchases": _nullable(predicted),
        "actual_holdout_purchases": summary["holdout_purchases"].to_numpy(),
    })


def summaries(order_days: pd.DataFrame, observation_end, settings: ClvSettings):
    """(full-history summary, calibration summary with holdout counts, calibration end, observation end)."""
    observation_end = pd.Timestamp(observation_end)
    purchases = purchases_from_order_days(order_days)
    calibration_end = observation_end - pd.Timedelta(days=settings.holdout_days)
    return (
        clv.rfm_summary(purchases, observation_end),
        clv.rfm_summary(purchases, observation_end, calibration_end=calibration_end),
        calibration_end,
        observation_end,
    )


def fit_parameters(order_days: pd.DataFrame, observation_end, settings: ClvSettings) -> pd.DataFrame:
    """The parameters table: both models fitted on the full history and on the calibration period."""
    full, calibration, calibration_end, observation_end = summaries(order_days, observation_end, settings)
    return parameters_table({
        "full": (fit(full, settings), full, observation_end, observation_end),
        "calibration": (fit(calibration, settings), calibration, calibration_end, observation_end),
    })


def fit_from_parameters(parameters: pd.DataFrame, fit_name: str) -> Fit:
    """The Fit a row pair of the parameters table describes (no refitting). Only a fitted model's numbers are
    read back: those of a failed fit are not used for predictions, and may be null (a non-finite likelihood
    or parameter is stored as NULL), which no float can be made of."""
    rows = parameters[parameters["fit_name"] == fit_name].set_index("model")
    status, message = rows.loc["bg_nbd", "status"], rows.loc["bg_nbd", "message"]
    if status != FITTED:
        return Fit(status, message)
    b, g = rows.loc["bg_nbd"], rows.loc["gamma_gamma"]
    customers = int(b["customers"])
    return Fit(
        status, message,
        clv.BgNbdParams(float(b["r"]), float(b["alpha"]), float(b["a"]), float(b["b"]),
                        float(b["log_likelihood"]), customers, status == FITTED),
        clv.GammaGammaParams(float(g["p"]), float(g["q"]), float(g["gamma"]), float(g["log_likelihood"]),
                             int(g["repeat_customers"]), status == FITTED),
    )


def predict_customers(order_days, observation_end, parameters, settings: ClvSettings) -> pd.DataFrame:
    full, _, _, _ = summaries(order_days, observation_end, settings)
    return customer_predictions(full, fit_from_parameters(parameters, "full"), settings)


def predict_holdout(order_days, observation_end, parameters, settings: ClvSettings) -> pd.DataFrame:
    _, calibration, _, _ = summaries(order_days, observation_end, settings)
    return holdout_table(calibration, fit_from_parameters(parameters, "calibration"), settings.holdout_days)


def read_model_inputs(order_days, config_get) -> tuple[pd.DataFrame, object, ClvSettings]:
    """What every CLV dbt Python model reads, from its relation calc_customer_order_days (the models call
    dbt.ref themselves: dbt finds refs in the model file): the order days, the observation end (the date of
    the store's last valid order, on every row) and the settings from its config."""
    observation_end = duckdb_relation(order_days).aggregate("max(observation_end_date)").fetchall()[0][0]
    return ordered_df(order_days), observation_end, ClvSettings.from_config(config_get)
