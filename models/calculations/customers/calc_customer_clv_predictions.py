"""Per customer predictions from the full-history fit of calc_clv_parameters (no refitting)."""

from sales_insights.analytics.clv_tables import predict_customers, read_model_inputs
from sales_insights.analytics.model_io import model_output, ordered_df


def model(dbt, session):
    dbt.config(materialized="table")
    order_days, observation_end, settings = read_model_inputs(
        dbt.ref("calc_customer_order_days"), dbt.config.get
    )
    parameters = ordered_df(dbt.ref("calc_clv_parameters"))
    return model_output(predict_customers(order_days, observation_end, parameters, settings), session)
