"""Experiment candidates with their statistical evidence, impact and sizing (sales_insights.experiments)."""

from sales_insights.experiments import ExperimentSettings, candidates


def model(dbt, session):
    dbt.config(materialized="table")
    return candidates(
        dbt.ref("int_experiment_product_pairs").df(),
        dbt.ref("int_experiment_substitutes").df(),
        dbt.ref("int_experiment_order_values").df(),
        dbt.ref("fct_funnel_summary").df(),
        ExperimentSettings.from_config(dbt.config.get),
    )
