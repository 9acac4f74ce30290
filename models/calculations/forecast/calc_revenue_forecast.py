"""Monthly net revenue: backtest from the last complete months and forecast ahead, with an empirical
interval (see sales_insights.analytics.forecast for the method)."""

from sales_insights.analytics.forecast import ForecastSettings, forecast_tables
from sales_insights.analytics.model_io import duckdb_relation, model_output, ordered_df


def model(dbt, session):
    dbt.config(materialized="table")
    orders = ordered_df(
        duckdb_relation(dbt.ref("fct_orders"))
        .filter("is_valid")
        .project("order_date, customer_id, net_revenue, is_first_order")
    )
    return model_output(forecast_tables(orders, ForecastSettings.from_config(dbt.config.get)), session)
