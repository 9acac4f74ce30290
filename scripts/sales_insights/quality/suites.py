"""The Great Expectations suites: one per raw table (the raw-data contract) and one per mart.

The suites are kept as Great Expectations JSON under gx/expectations/, one file per suite, for review. They
are written from the definitions in this module (`python -m sales_insights.quality.suites` rewrites them; a
test fails when the files and the definitions differ), so the raw suites follow raw_contract.py, the one place
the raw-data contract lives in code.

Raw suites check raw text, as loaded. Great Expectations' regex and LIKE expectations do not run on
DuckDB, and a raw column's type is a property of its text, so each row rule is a DuckDB SQL condition
kept in the expectation's `meta.rule_sql`. Validation selects the raw table with one extra column per
rule, `<column>__<rule>`, holding the raw value where the rule is broken, and expects that column to be
null (so a failure shows the offending values). Row rules allow a few bad rows, which staging keeps in
staging.stg_rejected_rows: their `mostly` is the parameter `mostly_<table>`, set at validation time from
the `[contracts]` tolerance in sales_insights.toml and the table's row count. Table rules (the columns,
at least one row) allow nothing. Mart suites allow nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sales_insights.quality.raw_contract import GA4_FUNNEL_REPORT, TABLES, TYPE_WORDS, Table
from sales_insights.sql import sql_identifier

SUITES_DIR = Path("gx") / "expectations"
SOURCE = "source"
MART = "mart"

# No "?" in rule SQL: GE renders the query behind a failure by putting a bound parameter in place of
# every "?" it finds, regex or not. "{0,1}" and "\\x3f" (RE2's escape for "?") say the same.
# The one spelling of each kind the staging models accept (macros/staging/parse_*.sql): no `?` in them,
# which the SQL driver would take for a parameter.
_INTEGER = "-{0,1}(0|[1-9][0-9]{0,18})"
_DECIMAL = "-{0,1}[0-9]{1,16}([.][0-9]{1,2}){0,1}"
_TIMESTAMP = ("[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6}){0,1}){0,1}"
              "(Z|[+-][0-9]{2}(:{0,1}[0-9]{2}){0,1})")
_URL = "http(s){0,1}://[^\\s/\\x3f#]+([/\\x3f#]\\S*){0,1}"


@dataclass(frozen=True)
class Suite:
    name: str
    layer: str  # SOURCE or MART
    table: str
    expectations: tuple[dict, ...]
    notes: str

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "meta": {"layer": self.layer, "table": self.table},
            "notes": self.notes,
            "expectations": list(self.expectations),
        }


def mostly_parameter(table: str) -> str:
    return f"mostly_{table}"


def _expectation(type_: str, description: str, meta: dict | None = None, **kwargs) -> dict:
    return {"type": type_, "kwargs": kwargs, "description": description, "meta": meta or {}}


# ---- raw tables -----------------------------------------------------------------------------------------

def _q(column: str) -> str:
    return sql_identifier(column)


_TYPE_RULES = {
    # contract type -> (rule name, condition on the raw text); what a good value is: contract.TYPE_WORDS
    "integer": ("not_integer", "{c} is not null and (not regexp_full_match({c}, '" + _INTEGER + "') "
                "or try_cast({c} as bigint) is null)"),
    "decimal": ("not_decimal", "{c} is not null and not regexp_full_match({c}, '" + _DECIMAL + "')"),
    "timestamp": (
        "not_timestamp",
        "{c} is not null and (not regexp_full_match({c}, '" + _TIMESTAMP + "') "
        "or try_cast({c} as timestamptz) is null)",
    ),
    "boolean": ("not_boolean", "{c} is not null and lower(trim({c})) not in ('true', 'false', '1', '0')"),
    "yyyymmdd": (
        "not_yyyymmdd",
        "{c} is not null and (not regexp_full_match({c}, '[0-9]{8}') or try_strptime({c}, '%Y%m%d') is null)",
    ),
}

# Ranges and formats of the contract, beyond the column types: (column, rule, condition, description).
_NEGATIVE = "try_cast({c} as decimal(18, 2)) < 0"
_EXTRA_RULES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "raw_ga4_events": (
        ("ga_session_number", "below_1", "try_cast({c} as bigint) < 1", "ga_session_number is 1 or more"),
        ("page_location", "not_url", "{c} is not null and not regexp_full_match({c}, '" + _URL + "')",
         "page_location is a full http(s) URL"),
        ("page_referrer", "not_url", "{c} is not null and not regexp_full_match({c}, '" + _URL + "')",
         "page_referrer is a full http(s) URL"),
        ("purchase_revenue", "negative", _NEGATIVE, "purchase_revenue is not negative"),
        ("currency", "not_iso_code", "{c} is not null and not regexp_full_match({c}, '[A-Z]{3}')",
         "currency is an ISO 4217 code (three capital letters)"),
    ),
    "raw_shopify_orders": (
        ("currency", "not_shop_currency", "upper({c}) <> upper('{shop_currency}')",
         "currency is the shop currency (dbt var shop_currency)"),
        *(
            (money, "negative", _NEGATIVE, f"{money} is not negative")
            for money in ("subtotal_price", "total_discounts", "total_tax", "total_shipping", "total_price")
        ),
        ("email_hash", "not_sha256", "{c} is not null and not regexp_full_match({c}, '[0-9a-f]{64}')",
         "email_hash is a sha256 hex digest"),
        ("landing_site", "not_path", "{c} is not null and not starts_with({c}, '/')",
         "landing_site is a path (and query) starting with /"),
    ),
    "raw_shopify_order_lines": (
        ("quantity", "not_positive", "try_cast({c} as bigint) <= 0", "quantity is greater than 0"),
        ("price", "negative", _NEGATIVE, "price is not negative"),
        ("total_discount", "negative", _NEGATIVE, "total_discount is not negative"),
    ),
    "raw_shopify_refunds": (
        ("amount", "not_positive", "try_cast({c} as decimal(18, 2)) <= 0", "amount is greater than 0"),
    ),
    "raw_shopify_customers": (
        ("email_hash", "not_sha256", "{c} is not null and not regexp_full_match({c}, '[0-9a-f]{64}')",
         "email_hash is a sha256 hex digest"),
    ),
    "raw_shopify_variants": (
        ("price", "negative", _NEGATIVE, "price is not negative"),
    ),
    "ga4_funnel_report": (
        ("sessions", "negative", "try_cast({c} as bigint) < 0", "sessions is not negative"),
        *(
            rule
            for step in ("add_to_cart_sessions", "begin_checkout_sessions", "purchase_sessions")
            for rule in (
                (step, "negative", "try_cast({c} as bigint) < 0", f"{step} is not negative"),
                (step, "above_sessions", 'try_cast({c} as bigint) > try_cast("sessions" as bigint)',
                 f"{step} is at most sessions"),
            )
        ),
    ),
}


def _row_rule(table: Table, column: str, rule: str, condition: str, description: str) -> dict:
    return _expectation(
        "expect_column_values_to_be_null",
        description,
        {"contract_column": column, "rule_sql": condition.replace("{c}", "{column}")},
        column=f"{column}__{rule}",
        mostly={"$PARAMETER": mostly_parameter(table.name)},
    )


def _raw_suite(table: Table) -> Suite:
    mostly = {"$PARAMETER": mostly_parameter(table.name)}
    expectations = [
        _expectation("expect_table_columns_to_match_set",
                     f"{table.file_name} has every column of the raw-data contract",
                     column_set=table.column_names, exact_match=False),
    ]
    if not table.may_be_empty:
        expectations.append(_expectation("expect_table_row_count_to_be_between",
                                         f"{table.file_name} has at least one row", min_value=1))
    for col in table.columns:
        if not col.nullable:
            expectations.append(_expectation("expect_column_values_to_not_be_null", f"{col.name} is required",
                                             column=col.name, mostly=mostly))
        if col.type in _TYPE_RULES:
            rule, condition = _TYPE_RULES[col.type]
            expectations.append(_row_rule(table, col.name, rule, condition, f"{col.name} is {TYPE_WORDS[col.type]}"))
        if col.accepted_values:
            expectations.append(_expectation(
                "expect_column_values_to_be_in_set", f"{col.name} is one of {', '.join(col.accepted_values)}",
                column=col.name, value_set=list(col.accepted_values), mostly=mostly))
    for column, rule, condition, description in _EXTRA_RULES.get(table.name, ()):
        expectations.append(_row_rule(table, column, rule, condition, description))
    if table.key:
        # An exact copy of a row is kept once by staging, so it loses nothing: the rule counts the rows whose
        # key another, different row has (staging rejects all of them).
        key = _q(table.key)
        clash = (f"{{c}} in (select copy.{key} from (select distinct * from {{schema}}.{_q(table.name)}) as copy "
                 f"group by copy.{key} having count(*) > 1)")
        expectations.append(_row_rule(table, table.key, "not_unique", clash,
                                      f"{table.key} is unique (the table's key; exact copies are kept once)"))
    for column, target in table.references.items():
        parent, parent_column = target.split(".")
        condition = (
            "try_cast({c} as bigint) is not null and not exists (select 1 from {schema}." + _q(parent)
            + " as parent where try_cast(parent." + _q(parent_column) + " as bigint) = try_cast({c} as bigint))"
        )
        expectations.append(_row_rule(table, column, f"not_in_{parent}", condition,
                                      f"{column} is the {parent_column} of a row of {parent}"))
    notes = (f"The raw-data contract of {table.file_name} (docs/RAW_CONTRACT.md). Row rules allow the "
             f"tolerated share of bad rows (parameter {mostly_parameter(table.name)}); those rows are kept in "
             "staging.stg_rejected_rows.")
    return Suite(table.name, SOURCE, table.name, tuple(expectations), notes)


def raw_rule_columns(suite: Suite) -> list[tuple[str, str, str]]:
    """(derived column, contract column, SQL condition with {column}, {schema}, {shop_currency}) of each row rule."""
    return [
        (e["kwargs"]["column"], e["meta"]["contract_column"], e["meta"]["rule_sql"])
        for e in suite.expectations if "rule_sql" in e["meta"]
    ]


def raw_checked_query(suite: Suite, schema: str, shop_currency: str) -> str:
    """The raw table with one column per row rule: the raw value where the rule is broken, else null."""
    derived = []
    for name, column, condition in raw_rule_columns(suite):
        sql = (condition.replace("{column}", "raw." + _q(column)).replace("{schema}", _q(schema))
               .replace("{shop_currency}", shop_currency.replace("'", "''")))
        derived.append(f"case when {sql} then cast(raw.{_q(column)} as varchar) end as {_q(name)}")
    columns = ",\n    ".join(["raw.*", *derived])
    return f"select\n    {columns}\nfrom {_q(schema)}.{_q(suite.table)} as raw"


# ---- marts ----------------------------------------------------------------------------------------------

def _unique(*columns: str) -> list[dict]:
    if len(columns) == 1:
        return [
            _expectation("expect_column_values_to_be_unique", f"{columns[0]} is unique (the key)",
                         column=columns[0]),
            _expectation("expect_column_values_to_not_be_null", f"{columns[0]} is never null", column=columns[0]),
        ]
    return [_expectation("expect_compound_columns_to_be_unique", f"({', '.join(columns)}) is unique (the grain)",
                         column_list=list(columns))]


def _not_null(*columns: str) -> list[dict]:
    return [_expectation("expect_column_values_to_not_be_null", f"{c} is never null", column=c) for c in columns]


def _non_negative(*columns: str) -> list[dict]:
    return [_expectation("expect_column_values_to_be_between", f"{c} is not negative", column=c, min_value=0)
            for c in columns]


def _rate(*columns: str) -> list[dict]:
    return [_expectation("expect_column_values_to_be_between", f"{c} is a rate in [0, 1]", column=c,
                         min_value=0, max_value=1) for c in columns]


def _at_least(larger: str, smaller: str, why: str) -> dict:
    return _expectation("expect_column_pair_values_a_to_be_greater_than_b", f"{larger} >= {smaller}: {why}",
                        column_A=larger, column_B=smaller, or_equal=True, ignore_row_if="either_value_is_missing")


def _chain(columns: tuple[str, ...], why: str) -> list[dict]:
    return [_at_least(a, b, why) for a, b in zip(columns, columns[1:], strict=False)]


def _one_of(column: str, values: tuple[str, ...]) -> dict:
    return _expectation("expect_column_values_to_be_in_set", f"{column} is one of {', '.join(values)}",
                        column=column, value_set=list(values))


def _has_rows() -> dict:
    return _expectation("expect_table_row_count_to_be_between", "the mart has at least one row", min_value=1)


_CLOSED = "the closed funnel never grows from one step to the next"
_OPEN = "a session that reached a step in the closed funnel also has its event (open funnel)"
_STEPS = ("session", "add_to_cart", "begin_checkout", "purchase")
_CLV_STATUSES = ("fitted", "insufficient_data")
_FORECAST_STATUSES = ("fitted", "insufficient_data")
_EXPERIMENT_TYPES = ("cross_sell", "upsell_substitute", "upsell_free_shipping", "upsell_second_order",
                     "landing_page", "funnel_step")
_MONEY_ORDER = ("order_total_price", "subtotal_price", "total_discounts", "total_tax", "total_shipping",
                "refunded_amount", "gross_revenue", "net_revenue")

_MART_EXPECTATIONS: dict[str, list[dict]] = {
    "fct_sessions": [
        _has_rows(), *_unique("session_key"),
        *_not_null("user_pseudo_id", "ga_session_id", "session_start_at", "session_date", "device_category",
                   "landing_page", "channel_group", "closed_funnel_steps"),
        _one_of("device_category", ("desktop", "mobile", "tablet")),
        *_non_negative("events", "page_views", "transactions", "ga4_purchase_revenue", "session_duration_seconds"),
        *_chain(("reached_add_to_cart", "reached_begin_checkout", "reached_purchase"), _CLOSED),
        _at_least("has_add_to_cart", "reached_add_to_cart", _OPEN),
        _at_least("has_begin_checkout", "reached_begin_checkout", _OPEN),
        _at_least("has_purchase", "reached_purchase", _OPEN),
    ],
    "fct_funnel_daily": [
        _has_rows(), *_unique("funnel_daily_key"), _one_of("funnel_basis", ("events", "ga4_report")),
        *_unique("session_date", "channel_group", "device_category", "landing_page"),
        *_non_negative("sessions", "add_to_cart_sessions", "begin_checkout_sessions", "purchase_sessions",
                       "add_to_cart_dropoff_sessions", "begin_checkout_dropoff_sessions",
                       "purchase_dropoff_sessions"),
        *_rate("add_to_cart_rate", "begin_checkout_rate", "purchase_rate", "session_conversion_rate"),
        *_chain(("sessions", "add_to_cart_sessions", "begin_checkout_sessions", "purchase_sessions"), _CLOSED),
        *(_at_least(f"{s}_sessions_open", f"{s}_sessions", "open counts include the closed ones")
          for s in ("add_to_cart", "begin_checkout", "purchase")),
    ],
    "fct_funnel_summary": [
        _has_rows(), *_unique("funnel_summary_key"), *_unique("breakdown", "breakdown_value", "step_number"),
        _one_of("funnel_basis", ("events", "ga4_report")),
        _one_of("breakdown", ("all", "channel_group", "device_category", "landing_page", "user_type")),
        _one_of("step", _STEPS),
        *_non_negative("step_sessions", "step_sessions_open", "abandoned_sessions"),
        *_rate("conversion_rate", "conversion_rate_ci_lower", "conversion_rate_ci_upper", "abandonment_rate"),
        _at_least("previous_step_sessions", "step_sessions", _CLOSED),
        _at_least("step_sessions_open", "step_sessions", "open counts include the closed ones"),
        _at_least("conversion_rate", "conversion_rate_ci_lower", "the interval holds the rate"),
        _at_least("conversion_rate_ci_upper", "conversion_rate", "the interval holds the rate"),
    ],
    "fct_orders": [
        _has_rows(), *_unique("order_id"), *_not_null("created_at", "order_date", "is_valid"),
        *_non_negative(*_MONEY_ORDER, "order_lines", "units", "refunds"),
        _at_least("gross_revenue", "net_revenue", "refunds only take revenue away"),
    ],
    "fct_orders_daily": [
        _has_rows(), *_unique("order_date"),
        *_non_negative("orders", "customers", "guest_orders", "new_customer_orders", "returning_customer_orders",
                       "units", "gross_revenue", "refunded_amount", "net_revenue", "average_order_value"),
        _at_least("gross_revenue", "net_revenue", "refunds only take revenue away"),
        _at_least("orders", "guest_orders", "guest orders are some of the orders"),
        _at_least("orders", "new_customer_orders", "first orders are some of the orders"),
    ],
    "fct_ga4_shopify_reconciliation": [
        _has_rows(), *_unique("report_date"),
        *_non_negative("shopify_orders", "shopify_web_orders", "shopify_net_revenue", "ga4_transactions",
                       "matched_orders", "shopify_only_orders", "ga4_only_invalid_orders",
                       "ga4_only_unknown_orders", "ga4_purchases_without_transaction"),
        *_rate("tracking_coverage_rate", "web_tracking_coverage_rate"),
        _at_least("shopify_orders", "matched_orders", "a matched order is a Shopify order"),
        _at_least("ga4_transactions", "matched_orders", "a matched order is a GA4 purchase"),
    ],
    "dim_customers": [
        _has_rows(), *_unique("customer_id"),
        *_non_negative("orders", "order_days", "gross_revenue", "refunded_amount", "net_revenue", "frequency",
                       "recency_days", "tenure_days"),
        _at_least("tenure_days", "recency_days", "a customer's last purchase is within their tenure"),
        _at_least("last_order_date", "first_order_date", "the last order is not before the first"),
    ],
    "fct_customer_cohorts": [
        _has_rows(), *_unique("cohort_key"), *_unique("cohort_month", "months_since_first_order"),
        *_non_negative("months_since_first_order", "cohort_size", "active_customers", "orders", "net_revenue",
                       "cumulative_net_revenue_per_customer"),
        *_rate("retention_rate"),
        _at_least("cohort_size", "active_customers", "a cohort's active customers are some of its customers"),
    ],
    "fct_customer_clv": [
        _has_rows(), *_unique("customer_id"), _one_of("clv_status", _CLV_STATUSES),
        *_rate("p_alive"),
        *_non_negative("expected_purchases_90d", "expected_purchases_365d", "expected_average_order_value",
                       "predicted_clv_12m", "net_revenue"),
        _at_least("expected_purchases_365d", "expected_purchases_90d", "a year holds its first 90 days"),
    ],
    "fct_cohort_clv": [
        _has_rows(), *_unique("cohort_month"), _one_of("clv_status", _CLV_STATUSES),
        *_non_negative("customers", "net_revenue_to_date", "expected_purchases_365d", "predicted_clv_12m",
                       "predicted_clv_12m_per_customer"),
    ],
    "fct_clv_model_parameters": [
        _has_rows(), *_unique("clv_model_key"), _one_of("status", _CLV_STATUSES),
        *_not_null("fit_name", "model"),
        *_non_negative("customers", "repeat_customers", "r", "alpha", "a", "b", "p", "q", "gamma"),
    ],
    "fct_clv_holdout": [
        *_unique("customer_id"), _one_of("clv_status", _CLV_STATUSES),
        *_non_negative("calibration_frequency", "predicted_holdout_purchases", "actual_holdout_purchases"),
    ],
    "fct_clv_holdout_summary": [
        *_unique("customer_group"), _one_of("clv_status", _CLV_STATUSES),
        *_non_negative("customers", "predicted_purchases", "actual_purchases", "mean_absolute_error_per_customer"),
    ],
    "fct_revenue_forecast_monthly": [
        _has_rows(), *_unique("forecast_month"), _one_of("status", _FORECAST_STATUSES),
        *_non_negative("forecast_net_revenue", "lower_net_revenue", "upper_net_revenue"),
        _at_least("forecast_net_revenue", "lower_net_revenue", "the interval holds the forecast"),
        _at_least("upper_net_revenue", "forecast_net_revenue", "the interval holds the forecast"),
    ],
    "fct_revenue_forecast_daily": [
        _has_rows(), *_unique("forecast_date"), _one_of("status", _FORECAST_STATUSES),
        *_non_negative("forecast_net_revenue", "lower_net_revenue", "upper_net_revenue"),
        _at_least("forecast_net_revenue", "lower_net_revenue", "the interval holds the forecast"),
        _at_least("upper_net_revenue", "forecast_net_revenue", "the interval holds the forecast"),
    ],
    "fct_revenue_forecast_backtest": [
        *_unique("backtest_key"), _one_of("status", _FORECAST_STATUSES),
        *_non_negative("horizon_months", "forecast_net_revenue", "actual_net_revenue", "absolute_percentage_error"),
    ],
    "fct_revenue_forecast_accuracy": [
        *_unique("horizon"), *_non_negative("forecasts", "mean_absolute_percentage_error"),
    ],
    "fct_experiment_shortlist": [
        *_unique("experiment_id"), *_unique("rank"), _one_of("experiment_type", _EXPERIMENT_TYPES),
        *_not_null("target", "target_key", "hypothesis", "evidence_metric", "expected_monthly_revenue_impact",
                   "confidence", "effort_days", "priority_score", "is_significant", "has_evidence"),
        _expectation("expect_column_values_to_be_between", "rank counts from 1", column="rank", min_value=1),
        _expectation("expect_column_values_to_be_between", "a tested candidate's family tested it at least",
                     column="tests_in_family", min_value=1),
        *_rate("confidence", "p_value", "adjusted_p_value", "time_factor"),
        *_non_negative("expected_monthly_revenue_impact", "priority_score", "effort_days", "observations"),
        _at_least("adjusted_p_value", "p_value", "Benjamini-Hochberg never lowers a p-value"),
        *_not_null("test_design"), _one_of("test_design", ("two_proportions", "difference_of_means")),
        *_non_negative("claimed_change", "sized_change", "detectable_change", "required_sample_per_arm",
                       "days_to_significance"),
        _at_least("claimed_change", "sized_change", "a test is sized for at most the change claimed"),
    ],
    "fct_headline_metrics": [
        _has_rows(), *_unique("headline_metric_key"), *_unique("metric", "period"),
        *_not_null("metric_label", "unit", "definition", "period_start_date", "period_end_date"),
        _one_of("unit", ("count", "ratio", "money")),
        _one_of("period", ("last_28_days", "previous_28_days", "all_time")),
        _at_least("period_end_date", "period_start_date", "a period ends on or after its start"),
        *_non_negative("metric_value", "numerator", "denominator"),
    ],
}


def _mart_suite(name: str, expectations: list[dict]) -> Suite:
    return Suite(name, MART, name, tuple(expectations),
                 f"The promise marts.{name} makes to analysts and to the CSV exports.")


def all_suites() -> list[Suite]:
    return [*(_raw_suite(t) for t in (*TABLES, GA4_FUNNEL_REPORT)),
            *(_mart_suite(n, e) for n, e in _MART_EXPECTATIONS.items())]


def suite_file(project_dir: Path, name: str) -> Path:
    return project_dir / SUITES_DIR / f"{name}.json"


def render(suite: Suite) -> str:
    return json.dumps(suite.to_json(), indent=2) + "\n"


def write_suites(project_dir: Path) -> list[Path]:
    """Write every suite as JSON under gx/expectations (and remove files of suites that no longer exist)."""
    directory = project_dir / SUITES_DIR
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for suite in all_suites():
        path = suite_file(project_dir, suite.name)
        path.write_text(render(suite), encoding="utf-8")
        written.append(path)
    for stale in set(directory.glob("*.json")) - set(written):
        stale.unlink()
    return written


def load_suite_file(path: Path) -> Suite:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Suite(data["name"], data["meta"]["layer"], data["meta"]["table"], tuple(data["expectations"]),
                 data.get("notes", ""))


if __name__ == "__main__":
    from sales_insights.config import default_project_dir

    for written_path in write_suites(default_project_dir()):
        print(written_path)
