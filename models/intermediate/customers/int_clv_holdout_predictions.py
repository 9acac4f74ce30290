"""Per customer repeat purchases predicted for the holdout by the calibration fit, against the actual."""

from sales_insights.clv_models import predict_holdout, read_model_inputs


def model(dbt, session):
    dbt.config(materialized="table")
    order_days, observation_end, settings = read_model_inputs(
        dbt.ref("int_customer_order_days"), dbt.ref("dim_customers"), dbt.config.get
    )
    return predict_holdout(order_days, observation_end, dbt.ref("int_clv_parameters").df(), settings)
