"""The headline metrics are defined once (macros/metrics): no model or macro writes one of their formulas by
hand, and their catalog words each metric for the GA4 grain a build reads."""

import json
import re
import subprocess

import pytest

from conftest import PROJECT_DIR
from sales_insights.config import load_settings
from sales_insights.pipeline.build import dbt_command

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


# Wording that belongs to one GA4 grain only: events are sessionized here, in the reporting time zone, and
# give the closed funnel exactly; reports give GA4's own sessions on its property's dates, and a bound.
EVENT_WORDING = ("user_pseudo_id", "ga_session_id", "first event", "reached purchase", "reached begin_checkout")
REPORT_WORDING = ("GA4 report", "Data API", "GA4's own", "property's time zone", "upper bound", "ga4_report")
GA4_METRICS = {"sessions", "conversion_rate"}


def _compile(tmp_path, inline: str, *args: str) -> subprocess.CompletedProcess:
    command, env = dbt_command(load_settings(), ["compile", "--quiet", "--output", "json", *args, "--inline", inline],
                               tmp_path / "w.duckdb")
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=PROJECT_DIR)


def _compiled(proc: subprocess.CompletedProcess):
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(json.loads(proc.stdout)["compiled"])


def _mentions(text: str, wording: tuple[str, ...]) -> list[str]:
    return [w for w in wording if w in text]


@pytest.mark.dbt
def test_each_grain_gets_only_its_own_definitions(tmp_path):
    both = _compiled(_compile(tmp_path, "{{ tojson({'var': metric_catalog(), 'events': metric_catalog('events'), "
                                        "'report': metric_catalog('report')}) }}"))
    events, report = both["events"], both["report"]
    # dbt_project.yml's ga4_grain (events) picks the event grain; --vars, as a report-grain build passes it,
    # the report grain
    assert both["var"] == events
    assert _compiled(_compile(tmp_path, "{{ tojson(metric_catalog()) }}", "--vars", "{ga4_grain: report}")) == report

    assert [(m["name"], m["label"], m["unit"]) for m in events] == [(m["name"], m["label"], m["unit"]) for m in report]
    assert {m["name"] for m in events} >= GA4_METRICS
    for at_events, at_report in zip(events, report, strict=True):
        name, event_text, report_text = at_events["name"], at_events["definition"], at_report["definition"]
        assert isinstance(event_text, str) and isinstance(report_text, str) and event_text and report_text, name
        if name in GA4_METRICS:
            assert _mentions(event_text, EVENT_WORDING) and not _mentions(event_text, REPORT_WORDING), event_text
            assert _mentions(report_text, REPORT_WORDING) and not _mentions(report_text, EVENT_WORDING), report_text
            assert event_text not in report_text and report_text not in event_text, name
        else:
            # a Shopify metric means the same at both grains, and says nothing of either
            assert event_text == report_text, name
            assert not _mentions(event_text, EVENT_WORDING + REPORT_WORDING), event_text

    # a misspelt grain is refused rather than read as one of the two
    misspelt = _compile(tmp_path, "{{ tojson(metric_catalog()) }}", "--vars", "{ga4_grain: event}")
    assert misspelt.returncode != 0 and "ga4_grain is 'event': it must be events or report" in misspelt.stdout
