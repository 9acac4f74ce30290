"""The headline metrics are defined once (macros/metrics): no model writes one of their formulas by hand."""

import re

from conftest import PROJECT_DIR

# What each metric macro replaces: a model that writes one of these computes a headline metric on its own.
HAND_WRITTEN = {
    "metric_is_valid_order": re.compile(r"not\s+[\w.]*is_test\s+and\s+[\w.]*cancelled_at\s+is\s+null"),
    "metric_order_net_revenue": re.compile(r"total_price\s*-\s*[\w.]*refunded_amount"),
    "metric_conversion_rate": re.compile(r"safe_divide\(\s*'(\w+\.)?purchase_sessions',\s*'(\w+\.)?sessions'\s*\)"),
    "metric_average_order_value": re.compile(r"safe_divide\(\s*'(\w+\.)?net_revenue',\s*'(\w+\.)?orders'\s*\)"),
    "metric_retention_rate": re.compile(r"safe_divide\(\s*'[\w.]*active_customers',"),
    "metric_clv_per_customer": re.compile(r"sum\(\s*[\w.]*predicted_clv_12m\s*\)\s*/"),
}


def test_the_hand_written_patterns_recognise_the_formulas_they_stand_for():
    written = {
        "metric_is_valid_order": "not orders.is_test and orders.cancelled_at is null as is_valid",
        "metric_order_net_revenue": "case when is_valid then total_price - refunded_amount else 0 end",
        "metric_conversion_rate": "{{ safe_divide('daily.purchase_sessions', 'daily.sessions') }}",
        "metric_average_order_value": "{{ safe_divide('order_totals.net_revenue', 'order_totals.orders') }}",
        "metric_retention_rate": "{{ safe_divide('filled.active_customers', 'filled.cohort_size') }}",
        "metric_clv_per_customer": "sum(predicted_clv_12m) / count(*)",
    }
    for name, pattern in HAND_WRITTEN.items():
        assert pattern.search(written[name]), name


def test_models_use_the_metric_macros_instead_of_writing_the_formulas():
    macros = (PROJECT_DIR / "macros" / "metrics" / "headline_metrics.sql").read_text(encoding="utf-8")
    offenders = []
    for path in sorted((PROJECT_DIR / "models").rglob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        for name, pattern in HAND_WRITTEN.items():
            assert f"macro {name}(" in macros, name
            if pattern.search(sql):
                offenders.append(f"{path.relative_to(PROJECT_DIR)}: use {{{{ {name}(...) }}}}")
    assert not offenders, offenders
    # And the marts that show a headline metric do call its macro.
    for mart, name in [("orders/fct_orders.sql", "metric_order_net_revenue"),
                       ("orders/fct_orders_daily.sql", "metric_average_order_value"),
                       ("funnel/fct_funnel_daily.sql", "metric_conversion_rate"),
                       ("customers/fct_customer_cohorts.sql", "metric_retention_rate"),
                       ("customers/fct_cohort_clv.sql", "metric_clv_per_customer")]:
        assert name + "(" in (PROJECT_DIR / "models" / "marts" / mart).read_text(encoding="utf-8"), mart
