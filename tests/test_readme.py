"""The documentation's figures of the default mock store are what a build of it gives.

The README and the pages of docs/ (docs/marts.md, docs/contracts.md, docs/operations.md) quote the store
`make run` builds (100,000 visitors, 365 days, seed 42) to show what the marts say. Each figure below is
recomputed from the build of that store the suite already makes (`planted_store`) and must appear, as
written (whitespace and line breaks aside), in one of those files: a change that moves a number fails here,
naming the sentence to update and the value the build gives.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from conftest import PROJECT_DIR
from sales_insights.config import load_project_config

pytestmark = pytest.mark.dbt

README = PROJECT_DIR / "README.md"
# The documents the figures may be quoted in: the README and every page of docs/.
DOCUMENTS = [README, *sorted((PROJECT_DIR / "docs").glob("*.md"))]

# (what the documentation says, with a format field per figure; the query giving the figures, in order)
FIGURES: list[tuple[str, str]] = [
    ("(`make run`: {:,} sessions, {:,} valid orders)",
     "select (select count(*) from marts.fct_sessions), (select count(*) from marts.fct_orders where is_valid)"),
    *[(f"| {device} | {{:.1%}} | {{:.1%}} | {'**' if device == 'mobile' else ''}{{:.1%}}"
       f"{'**' if device == 'mobile' else ''} (95% CI {{:.1f}}-{{:.1%}}) |", f"""
        select
            max(conversion_rate) filter (where step = 'add_to_cart'),
            max(conversion_rate) filter (where step = 'begin_checkout'),
            max(conversion_rate) filter (where step = 'purchase'),
            100 * max(conversion_rate_ci_lower) filter (where step = 'purchase'),
            max(conversion_rate_ci_upper) filter (where step = 'purchase')
        from marts.fct_funnel_summary
        where breakdown = 'device_category' and breakdown_value = '{device}'""")
      for device in ("desktop", "mobile", "tablet")],
    ("`/collections/summer-sale` is the second busiest landing page ({:,} sessions) with the worst add-to-cart "
     "rate ({:.1%}).", """
        select
            max(step_sessions) filter (where step = 'session'),
            max(conversion_rate) filter (where step = 'add_to_cart')
        from marts.fct_funnel_summary
        where breakdown = 'landing_page' and breakdown_value = '/collections/summer-sale'"""),
    ("GA4 saw {:,} of the {:,} valid orders ({:.1%} tracking coverage); {:,} are Shopify-only and {:,} GA4 "
     "purchases belong to test or cancelled orders.", """
        select sum(matched_orders), sum(shopify_orders), sum(matched_orders) / sum(shopify_orders),
            sum(shopify_only_orders), sum(ga4_only_invalid_orders)
        from marts.fct_ga4_shopify_reconciliation"""),
    ("all {:,} expectations of the {} suites", "select count(*), count(distinct suite) from meta.contract_results"),
    ("contracts: {0}/{0} expectations passed", "select count(*) from meta.contract_results"),
    ("On the default mock store ({:,} customers, {:,} repeat): BG/NBD r = {:.3f}, alpha = {:.2f} days, a = {:.3f}, "
     "b = {:.3f}; Gamma-Gamma p = {:.2f}, q = {:.2f}, gamma = {:.2f}.", """
        select bg.customers, bg.repeat_customers, bg.r, bg.alpha, bg.a, bg.b, gg.p, gg.q, gg.gamma
        from marts.fct_clv_model_parameters as bg
        inner join marts.fct_clv_model_parameters as gg on gg.fit_name = bg.fit_name and gg.model = 'gamma_gamma'
        where bg.fit_name = 'full' and bg.model = 'bg_nbd'"""),
    # Sums of fitted values are quoted to the hundred: the fits are reproducible to about 1e-6 (relative), a
    # tenth of a unit at these sizes, which would flip a figure quoted to the unit now and then.
    ("Mean p_alive {:.3f}, mean predicted 12-month CLV {:.2f} (about {:,.0f} over all customers).",
     "select avg(p_alive), avg(predicted_clv_12m), round(sum(predicted_clv_12m), -2) from marts.fct_customer_clv"),
    ("{:,} customers): predicted {:.1f} repeat purchase days against {} actual ({:+.1%}), mean absolute error "
     "{:.2f} per customer; by calibration frequency 0: {:.1f} vs {}, 1: {:.1f} vs {}, 2: {:.1f} vs {}.", """
        select
            max(customers) filter (where group_order = -1),
            max(predicted_purchases) filter (where group_order = -1),
            max(actual_purchases) filter (where group_order = -1),
            max(relative_error) filter (where group_order = -1),
            max(mean_absolute_error_per_customer) filter (where group_order = -1),
            max(predicted_purchases) filter (where group_order = 0),
            max(actual_purchases) filter (where group_order = 0),
            max(predicted_purchases) filter (where group_order = 1),
            max(actual_purchases) filter (where group_order = 1),
            max(predicted_purchases) filter (where group_order = 2),
            max(actual_purchases) filter (where group_order = 2)
        from marts.fct_clv_holdout_summary"""),
    ("the backtest MAPE is {:.1%} over {} forecasts ({:.1%} one month ahead, {:.1%} two, {:.1%} three)", """
        select
            max(mean_absolute_percentage_error) filter (where horizon = 'all'),
            max(forecasts) filter (where horizon = 'all'),
            max(mean_absolute_percentage_error) filter (where horizon = '1'),
            max(mean_absolute_percentage_error) filter (where horizon = '2'),
            max(mean_absolute_percentage_error) filter (where horizon = '3')
        from marts.fct_revenue_forecast_accuracy"""),
    ("the {:%B %Y} forecast is about {:,.0f} ({:,.0f} to {:,.0f})", """
        select forecast_month, round(forecast_net_revenue, -2), round(lower_net_revenue, -2),
            round(upper_net_revenue, -2)
        from marts.fct_revenue_forecast_monthly
        where horizon_months = 1"""),
    ("The mobile purchase step ranks {} ({:.1%} of mobile checkouts complete against {:.1%} elsewhere, about "
     "{:,.0f} a month at stake; a test sized for half the way, {:.1%} -> {:.1%}, takes {} days)", """
        select rank, baseline_rate, comparison_rate, round(expected_monthly_revenue_impact, -2), test_baseline,
            test_baseline + sized_change, days_to_significance
        from marts.fct_experiment_shortlist where target = 'device_category = mobile: purchase'"""),
    ("`/collections/summer-sale` {} ({:.1%} add to cart against {:.1%}; {:.1%} -> {:.1%} takes {} days)", """
        select rank, baseline_rate, comparison_rate, test_baseline, test_baseline + sized_change,
            days_to_significance
        from marts.fct_experiment_shortlist
        where experiment_type = 'landing_page' and target = '/collections/summer-sale'"""),
    ("(Merino Running Socks -> Trail Running Shoes, lift {:.1f}x) ranks {}: {:.0%} of the orders with the socks "
     "already hold the shoes, so the rise its estimate claims is small (about {:,.0f} a month), and with "
     "{:.1f} such orders a day its test would take {:,} days, which its time factor ({:.4f}) says.", """
        select effect, rank, baseline_rate, round(expected_monthly_revenue_impact, -1), daily_traffic,
            days_to_significance, time_factor
        from marts.fct_experiment_shortlist
        where target = 'Merino Running Socks -> Trail Running Shoes'"""),
]


def _flat(text: str) -> str:
    return " ".join(text.split())


def documents() -> dict[str, str]:
    """Each document's text, flattened (runs of whitespace as one space), by its path in the project."""
    return {str(path.relative_to(PROJECT_DIR)): _flat(path.read_text(encoding="utf-8")) for path in DOCUMENTS}


def readme_figures(warehouse) -> list[str]:
    """The documentation's sentences with the figures of `warehouse` filled in."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [_flat(template.format(*con.execute(query).fetchone())) for template, query in FIGURES]


def test_the_readme_quotes_the_default_store_as_a_build_gives_it(planted_store):
    warehouse, _ = planted_store
    texts = documents().values()
    stale = [sentence for sentence in readme_figures(warehouse) if not any(sentence in text for text in texts)]
    assert not stale, ("the README or a page of docs/ should say (update these sentences):\n"
                       + "\n".join(stale))


def test_the_readme_counts_the_marts_an_export_writes():
    """The exported marts are a list in sales_insights.toml; the example status line (docs/operations.md)
    counts them, and so does every other `(N marts)` of the README and docs/."""
    marts = len(load_project_config(PROJECT_DIR).export_marts)
    counted = [n for text in documents().values() for n in re.findall(r"\((\d+) marts\)", text)]
    assert counted and set(counted) == {str(marts)}
