"""Monthly net revenue: backtest from the last complete months and forecast ahead, with an empirical
interval (see sales_insights.forecast for the method)."""

from sales_insights.forecast import ForecastSettings, forecast_tables


def model(dbt, session):
    dbt.config(materialized="table")
    orders = (
        dbt.ref("fct_orders")
        .filter("is_valid")
        .project("order_date, customer_id, net_revenue, is_first_order")
        .df()
    )
    return forecast_tables(orders, ForecastSettings.from_config(dbt.config.get))
