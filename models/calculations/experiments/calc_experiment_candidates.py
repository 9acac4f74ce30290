"""Experiment candidates with their statistical evidence, impact and sizing (sales_insights.analytics.experiments)."""

from sales_insights.analytics.experiments import ExperimentSettings, candidates
from sales_insights.analytics.model_io import model_output, ordered_df


def model(dbt, session):
    dbt.config(materialized="table")
    return model_output(candidates(
        ordered_df(dbt.ref("calc_experiment_product_pairs")),
        ordered_df(dbt.ref("calc_experiment_substitutes")),
        ordered_df(dbt.ref("calc_experiment_order_values")),
        ordered_df(dbt.ref("fct_funnel_summary")),
        ExperimentSettings.from_config(dbt.config.get),
    ), session)
