"""Monthly net revenue: backtest from the last complete months and forecast ahead, with an empirical
interval (see sales_insights.analytics.forecast for the method). An origin whose customer summary the last
build already fitted takes that build's fit (its fit_fingerprint and fit_parameters)."""

from sales_insights.analytics.forecast import FIT_COLUMNS, ForecastSettings, forecast_tables, known_fits
from sales_insights.analytics.model_io import duckdb_relation, model_output, ordered_df, previous_rows


def model(dbt, session):
    dbt.config(materialized="table")
    orders = ordered_df(
        duckdb_relation(dbt.ref("fct_orders"))
        .filter("is_valid")
        .project("order_date, customer_id, net_revenue, is_first_order")
    )
    fits = known_fits(previous_rows(dbt, session, FIT_COLUMNS))
    return model_output(forecast_tables(orders, ForecastSettings.from_config(dbt.config.get), fits), session)
