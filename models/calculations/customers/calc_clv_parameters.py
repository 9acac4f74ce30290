"""BG/NBD and Gamma-Gamma fitted by maximum likelihood on the customers' valid order days, on the full
history and on the calibration period before the holdout (see sales_insights.analytics.clv_tables)."""

from sales_insights.analytics.clv_tables import fit_parameters, read_model_inputs
from sales_insights.analytics.model_io import model_output


def model(dbt, session):
    dbt.config(materialized="table")
    order_days, observation_end, settings = read_model_inputs(
        dbt.ref("calc_customer_order_days"), dbt.config.get
    )
    return model_output(fit_parameters(order_days, observation_end, settings), session)
