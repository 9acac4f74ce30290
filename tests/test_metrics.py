"""The headline metrics are defined once (macros/metrics): no model or macro writes one of their formulas by
hand."""

import re

from conftest import PROJECT_DIR

_Q = r"(?:\w+\.)?"  # an optional table qualifier
# What each metric macro replaces, in the forms it has been written in: a model that writes one of these
# computes a headline metric on its own.
HAND_WRITTEN = {
    "metric_is_valid_order": [
        re.compile(rf"not\s+{_Q}is_test\s+and\s+{_Q}cancelled_at\s+is\s+null"),
        re.compile(rf"{_Q}cancelled_at\s+is\s+null\s+and\s+not\s+{_Q}is_test"),
    ],
    "metric_order_net_revenue": [re.compile(rf"total_price\s*-\s*{_Q}refunded_amount")],
    "metric_conversion_rate": [
        re.compile(rf"safe_divide\(\s*'{_Q}purchase_sessions',\s*'{_Q}sessions'\s*\)"),
        re.compile(rf"{_Q}purchase_sessions\s*/\s*(nullif\()?\s*{_Q}sessions\b"),
    ],
    "metric_average_order_value": [
        re.compile(rf"safe_divide\(\s*'(sum\()?{_Q}net_revenue\)?',\s*'({_Q}orders|count\(\*\))'\s*\)"),
        re.compile(rf"sum\(\s*{_Q}net_revenue\s*\)\s*/\s*(nullif\()?\s*(count\(|{_Q}orders\b)"),
        re.compile(rf"{_Q}net_revenue\s*/\s*(nullif\()?\s*{_Q}orders\b"),
    ],
    "metric_retention_rate": [
        re.compile(rf"safe_divide\(\s*'{_Q}active_customers',"),
        re.compile(rf"{_Q}active_customers\s*/\s*(nullif\()?\s*{_Q}cohort_(size|customers)\b"),
    ],
    "metric_clv_per_customer": [
        re.compile(rf"sum\(\s*{_Q}predicted_clv_12m\s*\)\s*/"),
        re.compile(rf"safe_divide\(\s*'sum\({_Q}predicted_clv_12m\)'"),
        re.compile(rf"avg\(\s*{_Q}predicted_clv_12m\s*\)"),
    ],
}

# Formulas as models wrote them before the metric macros (and variants of them).
WRITTEN_BY_HAND = {
    "metric_is_valid_order": ["not orders.is_test and orders.cancelled_at is null as is_valid",
                              "cancelled_at is null and not is_test"],
    "metric_order_net_revenue": ["case when is_valid then total_price - refunded_amount else 0 end"],
    "metric_conversion_rate": ["{{ safe_divide('daily.purchase_sessions', 'daily.sessions') }}",
                               "purchase_sessions / nullif(sessions, 0)"],
    "metric_average_order_value": ["{{ safe_divide('order_totals.net_revenue', 'order_totals.orders') }}",
                                   "cast(sum(net_revenue) / count(*) as double)",
                                   "{{ safe_divide('sum(net_revenue)', 'count(*)') }}",
                                   "daily.net_revenue / nullif(daily.orders, 0)"],
    "metric_retention_rate": ["{{ safe_divide('filled.active_customers', 'filled.cohort_size') }}",
                              "active_customers / cohort_size"],
    "metric_clv_per_customer": ["{{ safe_divide('sum(predicted_clv_12m)', 'count(*)') }}",
                                "sum(predicted_clv_12m) / count(*)", "avg(predicted_clv_12m)"],
}

# Step rates and other ratios that are not headline metrics and must not be caught.
NOT_HEADLINE = ["{{ safe_divide('purchase_sessions', 'begin_checkout_sessions') }}",
                "{{ safe_divide('add_to_cart_sessions', 'sessions') }}",
                "(order_totals.net_revenue - day_totals.first_day_net_revenue) / (day_totals.order_days - 1)"]


def _matches(sql: str) -> list[str]:
    return [name for name, patterns in HAND_WRITTEN.items() if any(p.search(sql) for p in patterns)]


def test_the_hand_written_patterns_recognise_the_formulas_they_stand_for():
    for name, formulas in WRITTEN_BY_HAND.items():
        for formula in formulas:
            assert _matches(formula) == [name], (name, formula)
    for formula in NOT_HEADLINE:
        assert _matches(formula) == [], formula


def test_models_and_macros_use_the_metric_macros_instead_of_writing_the_formulas():
    macros = (PROJECT_DIR / "macros" / "metrics" / "headline_metrics.sql").read_text(encoding="utf-8")
    for name in HAND_WRITTEN:
        assert f"macro {name}(" in macros, name
    offenders = []
    files = [*(PROJECT_DIR / "models").rglob("*.sql"), *(PROJECT_DIR / "macros").rglob("*.sql")]
    for path in sorted(files):
        if path.parent.name == "metrics" and path.parent.parent.name == "macros":
            continue  # the definitions themselves
        for name in _matches(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PROJECT_DIR)}: use {{{{ {name}(...) }}}}")
    assert not offenders, offenders
    # And the marts that show a headline metric do call its macro.
    for mart, name in [("orders/fct_orders.sql", "metric_order_net_revenue"),
                       ("orders/fct_orders_daily.sql", "metric_average_order_value"),
                       ("funnel/fct_funnel_daily.sql", "metric_conversion_rate"),
                       ("customers/fct_customer_cohorts.sql", "metric_retention_rate"),
                       ("customers/fct_cohort_clv.sql", "metric_clv_per_customer")]:
        assert name + "(" in (PROJECT_DIR / "models" / "marts" / mart).read_text(encoding="utf-8"), mart
