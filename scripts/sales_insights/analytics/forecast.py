"""Monthly net revenue forecast, built from the customers rather than drawn through past totals.

For a forecast that starts at the first day of month `origin` (using only the orders before it):
- existing customers: each customer's expected purchase days in each future month from BG/NBD (the
  difference of its conditional expectations at the month's two ends) times its expected spend from
  Gamma-Gamma, fitted on the history before the origin;
- new customers: the monthly count of first orders, extrapolated from a log-linear trend over the last
  `trend_months` complete months; each new customer brings the recent mean first-order value in its
  month, then repeat purchases at BG/NBD's unconditional rate for a new customer (acquired mid-month)
  times the population mean spend;
- guest checkouts, which no customer model covers: the recent share of net revenue from guests is kept.
The same procedure run from earlier origins on the last complete months is the backtest; its absolute
percentage errors give the MAPE and an empirical prediction interval (the `interval_quantile` of the
errors, applied around each forecast). The forecast uses complete months only: a month still running is
forecast, not fitted.

Each origin's fit (BG/NBD and Gamma-Gamma, most of the model's time) is a function of that origin's customer
summary alone, so the table keeps it beside the rows: `fit_fingerprint` (a digest of the summary, the settings
and the code that fits) and `fit_parameters`. A build passes the last build's fits in, and an origin whose
summary did not change (a backtest origin months back, which a new day's orders and refunds rarely reach) takes
its fit from there instead of fitting again; the rows themselves are always computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy

from sales_insights.analytics import clv
from sales_insights.analytics import clv_tables as clv_models

FORECAST = "forecast"
BACKTEST = "backtest"
# The table's columns and their types (money and rates as nullable floats, months as dates).
TABLE_COLUMNS = {
    "kind": "str", "origin_month": pd.ArrowDtype(pa.date32()), "forecast_month": pd.ArrowDtype(pa.date32()),
    "horizon_months": "int64", "status": "str", "message": "str",
    **{c: "Float64" for c in ("existing_customer_revenue", "new_customer_revenue", "guest_revenue",
                              "forecast_net_revenue", "actual_net_revenue", "absolute_percentage_error",
                              "lower_net_revenue", "upper_net_revenue")},
    "fit_fingerprint": "str", "fit_parameters": "str",
}
FIT_COLUMNS = ("fit_fingerprint", "fit_parameters")
# The code a fit's result depends on, part of its fingerprint.
_FIT_CODE = b"".join(Path(module.__file__).read_bytes() for module in (clv, clv_models))
_FIT_LIBRARIES = f"numpy {np.__version__} pandas {pd.__version__} scipy {scipy.__version__}".encode()


@dataclass(frozen=True)
class ForecastSettings:
    months: int = 6
    backtest_months: int = 3
    trend_months: int = 6
    interval_quantile: float = 0.8
    clv: clv_models.ClvSettings = clv_models.ClvSettings()

    @classmethod
    def from_config(cls, get) -> ForecastSettings:
        defaults = cls()
        return cls(
            months=int(get("forecast_months") or defaults.months),
            backtest_months=int(get("forecast_backtest_months") or defaults.backtest_months),
            trend_months=int(get("forecast_trend_months") or defaults.trend_months),
            interval_quantile=float(get("forecast_interval_quantile") or defaults.interval_quantile),
            clv=clv_models.ClvSettings.from_config(get),
        )


def _month_start(value) -> pd.Timestamp:
    return pd.Timestamp(value).to_period("M").to_timestamp()


def _months(start: pd.Timestamp, count: int) -> list[pd.Timestamp]:
    return [start + pd.DateOffset(months=k) for k in range(count)]


def monthly_actuals(orders: pd.DataFrame) -> pd.Series:
    """Net revenue of valid orders by month start."""
    months = pd.to_datetime(orders["order_date"]).dt.to_period("M").dt.to_timestamp()
    return orders.groupby(months)["net_revenue"].sum().astype(float)


def last_complete_month(orders: pd.DataFrame) -> pd.Timestamp:
    last_day = pd.Timestamp(pd.to_datetime(orders["order_date"]).max())
    start = _month_start(last_day)
    return start if last_day == start + pd.offsets.MonthEnd(0) else start - pd.DateOffset(months=1)


def _new_customer_trend(history: pd.DataFrame, origin: pd.Timestamp, trend_months: int, future: list) -> np.ndarray:
    firsts = history[history["is_first_order"]]
    counts = firsts.groupby(pd.to_datetime(firsts["order_date"]).dt.to_period("M").dt.to_timestamp()).size()
    window = _months(origin - pd.DateOffset(months=trend_months), trend_months)
    y = np.array([counts.get(m, 0) for m in window], dtype=float)
    if (y > 0).sum() < 3:
        return np.full(len(future), y.mean())
    x = np.arange(len(window), dtype=float)
    positive = y > 0
    slope, intercept = np.polyfit(x[positive], np.log(y[positive]), 1)
    steps = np.arange(len(window), len(window) + len(future), dtype=float)
    return np.exp(intercept + slope * steps)


def fit_fingerprint(summary: pd.DataFrame, settings: clv_models.ClvSettings) -> str:
    """A digest (SHA-256) of all a fit reads: the customer summary (in its order), the settings, and the code
    and library versions that fit."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(summary, index=False).to_numpy().tobytes())
    digest.update(repr((list(summary.columns), settings)).encode())
    digest.update(_FIT_CODE)
    digest.update(_FIT_LIBRARIES)
    return digest.hexdigest()


def fit_to_json(fit: clv_models.Fit) -> str:
    """A fit as text that gives back the same floats (Python's shortest round-trip repr)."""
    return json.dumps(dataclasses.asdict(fit), sort_keys=True)


def fit_from_json(text: str) -> clv_models.Fit:
    values = json.loads(text)
    return clv_models.Fit(
        values["status"], values["message"],
        clv.BgNbdParams(**values["bgnbd"]) if values["bgnbd"] else None,
        clv.GammaGammaParams(**values["gamma_gamma"]) if values["gamma_gamma"] else None,
    )


def known_fits(rows: pd.DataFrame | None) -> dict[str, clv_models.Fit]:
    """The fits a table of an earlier build holds (its fit_fingerprint and fit_parameters columns), by
    fingerprint."""
    if rows is None or rows.empty:
        return {}
    pairs = rows[list(FIT_COLUMNS)].dropna().drop_duplicates("fit_fingerprint")
    return {key: fit_from_json(text)
            for key, text in zip(pairs["fit_fingerprint"], pairs["fit_parameters"], strict=True)}


def forecast_from(orders: pd.DataFrame, origin: pd.Timestamp, months: int, settings: ForecastSettings,
                  fits: dict[str, clv_models.Fit] | None = None) -> pd.DataFrame:
    """Monthly forecast of `months` months from `origin`, using only orders before it; the fit is taken from
    `fits` when one there has this origin's fingerprint."""
    history = orders[pd.to_datetime(orders["order_date"]) < origin]
    future = _months(origin, months)
    frame = pd.DataFrame({"forecast_month": future, "horizon_months": np.arange(1, months + 1)})
    customers = history[history["customer_id"].notna()]
    order_days = (customers.groupby(["customer_id", "order_date"], as_index=False)["net_revenue"].sum())
    observation_end = origin - pd.Timedelta(days=1)
    summary = clv.rfm_summary(clv_models.purchases_from_order_days(order_days), observation_end)
    key = fit_fingerprint(summary, settings.clv)
    fit = (fits or {}).get(key) or clv_models.fit(summary, settings.clv)
    frame["fit_fingerprint"] = key
    frame["fit_parameters"] = fit_to_json(fit)
    frame["status"] = fit.status
    frame["message"] = fit.message
    if fit.status != clv_models.FITTED:
        for column in ("existing_customer_revenue", "new_customer_revenue", "guest_revenue", "forecast_net_revenue"):
            frame[column] = np.nan
        return frame

    x, t_x, T, zbar = (summary[c].to_numpy() for c in ("x", "t_x", "T", "zbar"))
    spend = clv.gamma_gamma_expected_spend(fit.gamma_gamma, x, np.where(x > 0, zbar, 0.0))
    population_spend = fit.gamma_gamma.p * fit.gamma_gamma.gamma / (fit.gamma_gamma.q - 1)
    bounds = [(m - origin).days for m in future] + [(future[-1] + pd.DateOffset(months=1) - origin).days]
    cumulative = [clv.bgnbd_expected_purchases(fit.bgnbd, d, x, t_x, T) if d > 0 else np.zeros(len(x))
                  for d in bounds]
    existing = np.array([((cumulative[k + 1] - cumulative[k]) * spend).sum() for k in range(months)])

    trend_start = origin - pd.DateOffset(months=settings.trend_months)
    recent = history[pd.to_datetime(history["order_date"]) >= trend_start]
    first_orders = recent[recent["is_first_order"]]
    first_value = float(first_orders["net_revenue"].mean()) if len(first_orders) else 0.0
    new_counts = _new_customer_trend(history, origin, settings.trend_months, future)
    new = np.zeros(months)
    for j in range(months):
        new[j] += new_counts[j] * first_value
        acquired = (bounds[j] + bounds[j + 1]) / 2
        for k in range(j, months):
            start, end = max(bounds[k] - acquired, 0.0), bounds[k + 1] - acquired
            repeats = (clv.bgnbd_expected_purchases_new_customer(fit.bgnbd, end)
                       - clv.bgnbd_expected_purchases_new_customer(fit.bgnbd, start))
            new[k] += new_counts[j] * repeats * population_spend

    recent_total = float(recent["net_revenue"].sum())
    guest_share = float(recent.loc[recent["customer_id"].isna(), "net_revenue"].sum()) / recent_total \
        if recent_total > 0 else 0.0
    total = (existing + new) / (1 - guest_share)
    frame["existing_customer_revenue"] = existing
    frame["new_customer_revenue"] = new
    frame["guest_revenue"] = total - existing - new
    frame["forecast_net_revenue"] = total
    return frame


def backtest(orders: pd.DataFrame, settings: ForecastSettings,
             fits: dict[str, clv_models.Fit] | None = None) -> pd.DataFrame:
    """Forecasts from each of the last `backtest_months` complete months to the last complete month,
    against the actual net revenue."""
    last = last_complete_month(orders)
    actual = monthly_actuals(orders)
    frames = []
    for back in range(settings.backtest_months - 1, -1, -1):
        origin = last - pd.DateOffset(months=back)
        frame = forecast_from(orders, origin, back + 1, settings, fits)
        frame.insert(0, "origin_month", origin)
        frames.append(frame)
    result = pd.concat(frames, ignore_index=True)
    result["actual_net_revenue"] = result["forecast_month"].map(actual).astype(float)
    result["absolute_percentage_error"] = (
        (result["forecast_net_revenue"] - result["actual_net_revenue"]).abs() / result["actual_net_revenue"]
    )
    return result


def forecast_tables(orders: pd.DataFrame, settings: ForecastSettings,
                    fits: dict[str, clv_models.Fit] | None = None) -> pd.DataFrame:
    """Backtest rows and forecast rows in one table (column kind), with the interval on the forecast; `fits`,
    those of an earlier build by fingerprint (known_fits), spare refitting an origin whose data is the same. A store
    without a valid order (every order a test or cancelled, which the raw-data contract allows) has no month
    to forecast from: the table has no rows, its columns typed as always."""
    if orders.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in TABLE_COLUMNS.items()})
    orders = orders.copy()
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["net_revenue"] = orders["net_revenue"].astype(float)
    tested = backtest(orders, settings, fits)
    tested.insert(0, "kind", BACKTEST)
    origin = last_complete_month(orders) + pd.DateOffset(months=1)
    ahead = forecast_from(orders, origin, settings.months, settings, fits)
    ahead.insert(0, "origin_month", origin)
    ahead.insert(0, "kind", FORECAST)
    errors = tested["absolute_percentage_error"].dropna()
    spread = float(np.quantile(errors, settings.interval_quantile)) if len(errors) else np.nan
    ahead["lower_net_revenue"] = ahead["forecast_net_revenue"] * max(0.0, 1 - spread)
    ahead["upper_net_revenue"] = ahead["forecast_net_revenue"] * (1 + spread)
    tested["lower_net_revenue"] = np.nan
    tested["upper_net_revenue"] = np.nan
    ahead["actual_net_revenue"] = np.nan
    ahead["absolute_percentage_error"] = np.nan
    table = pd.concat([tested, ahead], ignore_index=True)
    for column in (c for c, kind in TABLE_COLUMNS.items() if kind == "Float64"):
        table[column] = clv_models._nullable(table[column].astype(float))
    table["origin_month"] = pd.to_datetime(table["origin_month"]).dt.date
    table["forecast_month"] = pd.to_datetime(table["forecast_month"]).dt.date
    return table[list(TABLE_COLUMNS)]
