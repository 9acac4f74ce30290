"""One HTML page of the published marts for a growth team: the headline metrics, which landing page to fix
first and why, the funnel, cohorts, CLV, the forecast, tracking coverage and the experiment shortlist.

The charts are Plotly figures; Plotly's JavaScript is written into the page, so it opens with no network.
Every number on the page is read from a mart (the headline metrics from marts.fct_headline_metrics, which
the metric macros define): the report formats numbers and never computes a metric of its own."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.offline import get_plotlyjs

from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.atomic_files import write_text_atomically
from sales_insights.outputs.shortlist import format_p
from sales_insights.pipeline.build import read_build_info
from sales_insights.quality.validate import raw_schema_of, rejects_by_table

# The marts the page reads (models/exposures.yml declares them for the report; a test keeps both equal).
REPORT_MARTS = (
    "fct_headline_metrics",
    "fct_funnel_summary",
    "fct_orders_daily",
    "fct_customer_cohorts",
    "fct_customer_clv",
    "fct_revenue_forecast_monthly",
    "fct_revenue_forecast_backtest",
    "fct_revenue_forecast_accuracy",
    "fct_ga4_shopify_reconciliation",
    "fct_experiment_shortlist",
)

SHORTLIST_ROWS = 10
LANDING_PAGES_SHOWN = 15
COHORT_MONTHS_SHOWN = 12
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_BLUE, _GREY, _RED, _GREEN = "#2f6db5", "#9aa5b1", "#c8553d", "#2a9d8f"


@dataclass(frozen=True)
class ReportResult:
    path: Path
    build_id: str
    charts: tuple[str, ...]
    bytes_written: int


@dataclass(frozen=True)
class _Section:
    anchor: str
    title: str
    body: str


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _flag(value) -> bool:
    return False if _missing(value) else bool(value)


def format_value(value, unit: str) -> str:
    """A metric value for people: counts with thousands separators, ratios as percentages, money with cents
    below 1,000 and whole above it. '-' for a missing value."""
    if _missing(value):
        return "-"
    value = float(value)
    if unit == "ratio":
        return f"{value:.1%}" if value >= 0.1 else f"{value:.2%}"
    if unit == "money":
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,.0f}"


def format_change(current, previous, unit: str) -> str:
    """The change from the previous period: percentage points for a ratio, a relative change otherwise."""
    if _missing(current) or _missing(previous):
        return ""
    current, previous = float(current), float(previous)
    if unit == "ratio":
        return f"{(current - previous) * 100:+.2f} pp"
    if previous == 0:
        return ""
    return f"{current / previous - 1:+.1%}"


def _figure(fig: go.Figure, chart_id: str, height: int) -> str:
    fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 30, "b": 50}, font={"family": _FONT, "size": 12},
                      plot_bgcolor="white", paper_bgcolor="white", hovermode="closest",
                      legend={"orientation": "h", "y": -0.18})
    fig.update_xaxes(gridcolor="#eceff1", zeroline=False)
    fig.update_yaxes(gridcolor="#eceff1", zeroline=False)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id,
                       config={"displaylogo": False, "responsive": True})


def _note(text: str, element_id: str | None = None) -> str:
    attribute = f" id='{element_id}'" if element_id else ""
    return f'<p class="note"{attribute}>{text}</p>'


class _Page:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.charts: list[str] = []

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def chart(self, fig: go.Figure, chart_id: str, height: int = 380) -> str:
        self.charts.append(chart_id)
        return f'<div class="chart">{_figure(fig, chart_id, height)}</div>'


# ---- sections -------------------------------------------------------------------------------------------

def _headline(page: _Page) -> tuple[_Section, pd.DataFrame]:
    metrics = page.df("select * from marts.fct_headline_metrics order by metric_order, period")
    tiles = []
    for metric, rows in metrics.groupby("metric", sort=False):
        by_period = rows.set_index("period")
        first = rows.iloc[0]
        unit = first["unit"]
        if "last_28_days" in by_period.index:
            last, previous = by_period.loc["last_28_days"], by_period.loc["previous_28_days"]
            change = format_change(last["metric_value"], previous["metric_value"], unit)
            partial = " (partial)" if _flag(last["is_partial_period"]) or _flag(previous["is_partial_period"]) else ""
            sub = (f"last 28 days; {_esc(change) or 'no change to show'} vs the 28 days before{partial}"
                   f"<br>all time: {format_value(by_period.loc['all_time', 'metric_value'], unit)}")
            shown = last["metric_value"]
        else:
            shown = by_period.loc["all_time", "metric_value"]
            sub = "all time"
        tiles.append(
            f'<div class="tile" data-metric="{_esc(metric)}" title="{_esc(first["definition"])}">'
            f'<div class="label">{_esc(first["metric_label"])}</div>'
            f'<div class="value">{format_value(shown, unit)}</div><div class="sub">{sub}</div></div>'
        )
    if not tiles:
        return _Section("headline", "Headline metrics", _note("No headline metrics: the warehouse has no data.")), (
            metrics)
    body = f'<div class="tiles">{"".join(tiles)}</div>' + _note(
        "Hover a tile for its definition (the same wording as marts.fct_headline_metrics and the list at the end). "
        "Money is in the shop currency.")
    return _Section("headline", "Headline metrics", body), metrics


def _fix_first(pages: pd.DataFrame, significant: pd.DataFrame) -> str:
    """The answer to "which landing page do we fix first?": the first significant one on the shortlist."""
    if pages.empty:
        return ('<div class="answer" id="fix-first"><strong>No sessions in this build:</strong> nothing to '
                "compare.</div>")
    if significant.empty:
        return ('<div class="answer" id="fix-first"><strong>No landing page stands out.</strong> None converts to '
                "add-to-cart significantly worse than the rest of the site.</div>")
    # The first on the shortlist: its score weighs the revenue at stake, the evidence and the effort.
    top = significant.sort_values("rank").iloc[0]
    days = _test_length(top)
    impact = top["expected_monthly_revenue_impact"]
    stake = ("The shortlist sees little revenue at stake" if _missing(impact) or float(impact) < 1 else
             f"Converting like the median landing page would bring about {format_value(impact, 'money')} of "
             "revenue a month")
    return (
        f'<div class="answer" id="fix-first"><strong>Fix <code>{_esc(top["target"])}</code> first.</strong> '
        f"{format_value(top['baseline_rate'], 'ratio')} of its sessions add to cart, against "
        f"{format_value(top['comparison_rate'], 'ratio')} on the rest of the site "
        f"({int(top['observations']):,} sessions; Benjamini-Hochberg adjusted p "
        f"{_esc(format_p(top['adjusted_p_value']))}). {stake}; it is the first landing page on the experiment "
        f"shortlist (#{int(top['rank'])} overall).{days}"
        f'<div class="hypothesis">{_esc(top["hypothesis"])}</div></div>'
    )


def _test_length(top: pd.Series) -> str:
    """How long an A/B test of the lead page's fix runs, for the change the shortlist sized it for, and
    what a test of the planned length would detect when that takes longer ("" when it cannot be sized)."""
    if _missing(top["days_to_significance"]) or _missing(top["sized_change"]):
        return ""
    rate = float(top["test_baseline"])
    share = float(top["sized_change"]) / float(top["claimed_change"])
    text = (f" An A/B test sized to detect {format_value(share, 'ratio')} of that change (add to cart "
            f"{format_value(rate, 'ratio')} -> {format_value(rate + float(top['sized_change']), 'ratio')}) needs "
            f"about {int(top['days_to_significance']):,} days at today's traffic.")
    factor = float(top["time_factor"])
    if factor < 1:
        planned = round(factor * float(top["days_to_significance"]))
        detectable = ("no change" if _missing(top["detectable_change"]) else
                      f"a rise to {format_value(rate + float(top['detectable_change']), 'ratio')} or more")
        text += f" A test of {planned} days (var experiment_max_test_days) would detect {detectable}."
    return text


def _landing_pages(page: _Page) -> _Section:
    candidates = page.df(
        "select * from marts.fct_experiment_shortlist where experiment_type = 'landing_page' order by rank")
    pages = page.df(
        "select breakdown_value as landing_page, step_sessions, previous_step_sessions as sessions, conversion_rate, "
        "conversion_rate_ci_lower, conversion_rate_ci_upper from marts.fct_funnel_summary "
        "where breakdown = 'landing_page' and step = 'add_to_cart' order by previous_step_sessions desc, "
        f"breakdown_value limit {LANDING_PAGES_SHOWN}")
    site = page.df("select conversion_rate from marts.fct_funnel_summary "
                   "where breakdown = 'all' and step = 'add_to_cart'")
    significant = candidates[candidates["is_significant"].fillna(False).astype(bool)]
    body = _fix_first(pages, significant)
    if not pages.empty:
        stake = dict(zip(candidates["target"], candidates["expected_monthly_revenue_impact"], strict=True))
        pages = pages.iloc[::-1]
        colours = [_RED if t in set(significant["target"]) else _BLUE for t in pages["landing_page"]]
        fig = go.Figure(go.Bar(
            x=pages["conversion_rate"], y=pages["landing_page"], orientation="h", marker_color=colours,
            error_x={"type": "data", "symmetric": False, "color": "#555",
                     "array": pages["conversion_rate_ci_upper"] - pages["conversion_rate"],
                     "arrayminus": pages["conversion_rate"] - pages["conversion_rate_ci_lower"]},
            customdata=list(zip(pages["sessions"], [
                "not on the shortlist" if _missing(stake.get(t)) else format_value(stake[t], "money")
                for t in pages["landing_page"]], strict=True)),
            hovertemplate="%{y}<br>add-to-cart rate %{x:.1%}<br>%{customdata[0]:,} sessions"
                          "<br>revenue at stake a month: %{customdata[1]}<extra></extra>",
            name="add-to-cart rate (95% interval)",
        ))
        if not site.empty:
            fig.add_vline(x=float(site.iloc[0, 0]), line_dash="dash", line_color=_GREY,
                          annotation_text="all sessions", annotation_position="top")
        fig.update_xaxes(tickformat=".0%", title="sessions that added to cart")
        body += page.chart(fig, "chart-landing-pages", height=max(300, 28 * len(pages) + 90))
        body += _note(f"The {len(pages)} landing pages with the most sessions; red: significantly below the rest of "
                      "the site (marts.fct_experiment_shortlist). Bars show the 95% Wilson interval; the dashed line "
                      "is the rate of all sessions.")
    return _Section("landing-pages", "Which landing page to fix first", body)


def _funnel(page: _Page) -> _Section:
    every_step = page.df("select * from marts.fct_funnel_summary where breakdown = 'all' order by step_number")
    if every_step.empty:
        return _Section("funnel", "Funnel", _note("No sessions."))
    # A step the store never sends has no sessions to show; the next step is compared with the one before.
    untracked = [str(step) for step in every_step.loc[~every_step["is_step_tracked"].astype(bool), "step"]]
    steps = every_step[every_step["is_step_tracked"].astype(bool)]
    labels = [row.step if _missing(row.conversion_rate) else
              f"{row.step} ({format_value(row.conversion_rate, 'ratio')})" for row in steps.itertuples(index=False)]
    fig = go.Figure(go.Funnel(y=labels, x=steps["step_sessions"], texttemplate="%{x:,}", textposition="outside",
                              cliponaxis=False, marker={"color": _BLUE}, connector={"line": {"color": _GREY}},
                              hovertemplate="%{y}: %{x:,} sessions<extra></extra>"))
    fig.update_layout(margin={"l": 170})
    body = page.chart(fig, "chart-funnel", height=320)
    def interval(r) -> str:
        if _missing(r.conversion_rate_ci_lower):
            return ""
        lower, upper = (format_value(v, "ratio") for v in (r.conversion_rate_ci_lower, r.conversion_rate_ci_upper))
        return f"{lower} - {upper}"

    rows = "".join(
        f"<tr><td>{_esc(r.step)}</td><td class='num'>{int(r.step_sessions):,}</td>"
        f"<td class='num'>{format_value(r.conversion_rate, 'ratio')}</td><td class='num'>{interval(r)}</td>"
        f"<td class='num'>{'-' if _missing(r.abandoned_sessions) else f'{int(r.abandoned_sessions):,}'}</td>"
        f"<td class='num'>{format_value(r.abandonment_rate, 'ratio')}</td></tr>"
        for r in steps.itertuples(index=False))
    body += ("<table class='small' id='funnel-steps'><tr><th>step</th><th>sessions</th><th>conversion from the "
             "previous step</th><th>95% interval</th><th>dropped</th><th>drop-off</th></tr>" + rows + "</table>")
    body += _note("Closed funnel: a session counts at a step when it reached it after the previous one "
                  "(marts.fct_funnel_summary).")
    if untracked:
        body += _note(f"Not sent by this store: {', '.join(untracked)}. No GA4 event of the data has "
                      f"{'this step' if len(untracked) == 1 else 'these steps'}, so the funnel skips "
                      f"{'it' if len(untracked) == 1 else 'them'} and compares the next step with the one before; "
                      "tag the event to measure it.", "funnel-untracked")
    for breakdown, title in (("device_category", "device"), ("channel_group", "channel")):
        rows = page.df("select * from marts.fct_funnel_summary where breakdown = ? and step_number > 1 "
                       "and is_step_tracked order by breakdown_value, step_number", [breakdown])
        if rows.empty:
            continue
        fig = go.Figure()
        for value, group in rows.groupby("breakdown_value", sort=True):
            fig.add_trace(go.Bar(
                x=group["step"], y=group["conversion_rate"], name=str(value),
                error_y={"type": "data", "symmetric": False,
                         "array": group["conversion_rate_ci_upper"] - group["conversion_rate"],
                         "arrayminus": group["conversion_rate"] - group["conversion_rate_ci_lower"]},
                customdata=group["previous_step_sessions"],
                hovertemplate="%{fullData.name}: %{x} %{y:.1%} of %{customdata:,} sessions<extra></extra>",
            ))
        fig.update_layout(barmode="group")
        fig.update_yaxes(tickformat=".0%", title="conversion from the previous step")
        body += f"<h3>By {title}</h3>" + page.chart(fig, f"chart-funnel-{breakdown.replace('_', '-')}", height=340)
    return _Section("funnel", "Funnel: session to purchase", body)


def _cohorts(page: _Page) -> _Section:
    cohorts = page.df(
        "select cohort_month, months_since_first_order, retention_rate, cumulative_net_revenue_per_customer, "
        f"cohort_size, is_complete_month from marts.fct_customer_cohorts where months_since_first_order <= "
        f"{COHORT_MONTHS_SHOWN} order by cohort_month, months_since_first_order")
    if cohorts.empty:
        return _Section("cohorts", "Cohorts", _note("No customers yet."))
    cohorts["cohort"] = pd.to_datetime(cohorts["cohort_month"]).dt.strftime("%Y-%m")
    later = cohorts[cohorts["months_since_first_order"] >= 1]
    body = ""
    if not later.empty:
        grid = later.pivot(index="cohort", columns="months_since_first_order", values="retention_rate")
        complete = later.pivot(index="cohort", columns="months_since_first_order", values="is_complete_month")
        sizes = cohorts.groupby("cohort")["cohort_size"].first()
        text = grid.copy().astype(object)
        for row in grid.index:
            for column in grid.columns:
                value = grid.loc[row, column]
                text.loc[row, column] = "" if pd.isna(value) else (
                    f"{value:.0%}" + ("" if _flag(complete.loc[row, column]) else "*"))
        fig = go.Figure(go.Heatmap(
            z=grid.values, x=[f"month {m}" for m in grid.columns], y=[f"{c} ({sizes[c]:,})" for c in grid.index],
            text=text.values, texttemplate="%{text}", colorscale="Blues", zmin=0,
            colorbar={"title": "retention", "tickformat": ".0%"},
            hovertemplate="cohort %{y}, %{x}: %{z:.1%} ordered<extra></extra>",
        ))
        fig.update_yaxes(autorange="reversed")
        body += page.chart(fig, "chart-cohort-retention", height=max(320, 26 * len(grid) + 120))
        body += _note("Share of each first-order month's customers (cohort size in brackets) who ordered again in "
                      "the months after; * the month is still running (marts.fct_customer_cohorts).")
    fig = go.Figure()
    finished = cohorts[cohorts["is_complete_month"].map(_flag)]
    names = sorted(finished["cohort"].unique())
    colours = sample_colorscale("Viridis", [i / max(1, len(names) - 1) for i in range(len(names))])
    for colour, (cohort, group) in zip(colours, finished.groupby("cohort", sort=True), strict=True):
        fig.add_trace(go.Scatter(x=group["months_since_first_order"], y=group["cumulative_net_revenue_per_customer"],
                                 mode="lines", name=cohort, line={"color": colour},
                                 hovertemplate=f"{cohort}: " + "month %{x}, %{y:,.2f} per customer<extra></extra>"))
    fig.update_xaxes(title="months since the first order", dtick=1)
    fig.update_yaxes(title="cumulative net revenue per customer")
    body += "<h3>Cumulative net revenue per customer</h3>" + page.chart(fig, "chart-cohort-revenue", height=380)
    body += _note("Complete months only (the running month is left out); older cohorts are darker.")
    return _Section("cohorts", "Cohorts: retention and revenue", body)


def _clv(page: _Page, headline: pd.DataFrame) -> _Section:
    clv = page.df("select clv_status, predicted_clv_12m from marts.fct_customer_clv")
    fitted = clv["predicted_clv_12m"].dropna()
    if fitted.empty:
        status = ", ".join(sorted(clv["clv_status"].dropna().unique())) or "no customers"
        return _Section("clv", "Customer lifetime value",
                        _note(f"No CLV predictions in this build ({_esc(status)}): the BG/NBD model needs more repeat "
                              "customers (dbt var clv_min_repeat_customers)."))
    mean = headline[(headline["metric"] == "predicted_clv_12m") & (headline["period"] == "all_time")]
    fig = go.Figure(go.Histogram(x=fitted.astype(float), nbinsx=60, marker_color=_BLUE,
                                 hovertemplate="%{x}: %{y:,} customers<extra></extra>", name="customers"))
    if not mean.empty and not _missing(mean.iloc[0]["metric_value"]):
        fig.add_vline(x=float(mean.iloc[0]["metric_value"]), line_dash="dash", line_color=_RED,
                      annotation_text=f"mean {format_value(mean.iloc[0]['metric_value'], 'money')}")
    # The tail is long (a few loyal customers): the axis stops at the 99th percentile, and the note says so.
    cut = float(fitted.astype(float).quantile(0.99))
    beyond = int((fitted.astype(float) > cut).sum())
    fig.update_xaxes(title="predicted net revenue in the next 12 months", range=[0, cut * 1.05])
    fig.update_yaxes(title="customers")
    body = page.chart(fig, "chart-clv-distribution", height=340)
    body += _note(f"{len(fitted):,} customers with a prediction (marts.fct_customer_clv); the {beyond:,} above "
                  f"{format_value(cut, 'money')} (the top 1%) are off the right edge.")
    return _Section("clv", "Customer lifetime value", body)


def _forecast(page: _Page) -> _Section:
    forecast = page.df("select * from marts.fct_revenue_forecast_monthly order by forecast_month")
    # The net revenue of each month. A month the data do not cover whole (the first, or the last, still
    # running) is drawn apart, as a partial month.
    actual = page.df(
        "select cast(date_trunc('month', order_date) as date) as month, sum(net_revenue) as net_revenue, "
        "min(order_date) = cast(date_trunc('month', min(order_date)) as date) "
        "and max(order_date) = cast(last_day(max(order_date)) as date) as is_complete "
        "from marts.fct_orders_daily group by 1 order by 1")
    running = actual[~actual["is_complete"].astype(bool)]
    actual = actual[actual["is_complete"].astype(bool)]
    backtest = page.df("select * from marts.fct_revenue_forecast_backtest order by forecast_month, horizon_months")
    accuracy = page.df("select * from marts.fct_revenue_forecast_accuracy order by horizon_order")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=actual["month"], y=actual["net_revenue"], mode="lines+markers", name="actual",
                             line={"color": "#333"}, hovertemplate="%{x|%Y-%m}: %{y:,.0f}<extra>actual</extra>"))
    if not running.empty:
        fig.add_trace(go.Scatter(x=running["month"], y=running["net_revenue"], mode="markers", name="partial month",
                                 marker={"color": "#333", "symbol": "circle-open", "size": 9},
                                 hovertemplate="%{x|%Y-%m}: %{y:,.0f} (part of the month)<extra>partial month"
                                               "</extra>"))
    fitted = forecast.dropna(subset=["forecast_net_revenue"])
    if not fitted.empty:
        fig.add_trace(go.Scatter(x=list(fitted["forecast_month"]) + list(fitted["forecast_month"][::-1]),
                                 y=list(fitted["upper_net_revenue"]) + list(fitted["lower_net_revenue"][::-1]),
                                 fill="toself", fillcolor="rgba(47,109,181,0.15)", line={"width": 0}, mode="lines",
                                 hoverinfo="skip", name="interval"))
        fig.add_trace(go.Scatter(x=fitted["forecast_month"], y=fitted["forecast_net_revenue"], mode="lines+markers",
                                 name="forecast", line={"color": _BLUE, "dash": "dash"},
                                 hovertemplate="%{x|%Y-%m}: %{y:,.0f}<extra>forecast</extra>"))
    tested = backtest.dropna(subset=["forecast_net_revenue"])
    if not tested.empty:
        fig.add_trace(go.Scatter(x=tested["forecast_month"], y=tested["forecast_net_revenue"], mode="markers",
                                 name="backtest forecasts", marker={"color": _RED, "symbol": "x", "size": 8},
                                 customdata=tested["horizon_months"],
                                 hovertemplate="%{x|%Y-%m}: %{y:,.0f} forecast %{customdata} month(s) ahead"
                                               "<extra>backtest</extra>"))
    fig.update_yaxes(title="net revenue a month")
    body = page.chart(fig, "chart-forecast", height=380)
    if fitted.empty:
        message = forecast["message"].dropna().iloc[0] if not forecast["message"].dropna().empty else ""
        body += _note(f"No forecast in this build: {_esc(message)}")
    rows = "".join(
        f"<tr><td>{_esc(r.horizon)}</td><td class='num'>{int(r.forecasts):,}</td>"
        f"<td class='num'>{format_value(r.mean_absolute_percentage_error, 'ratio')}</td></tr>"
        for r in accuracy.itertuples(index=False))
    if rows:
        body += ("<h3>Backtest error</h3><table class='small'><tr><th>months ahead</th><th>forecasts</th>"
                 f"<th>mean absolute % error</th></tr>{rows}</table>")
        body += _note("Each of the last complete months forecast from the months before it "
                      "(marts.fct_revenue_forecast_accuracy); the interval's width comes from these errors.")
    return _Section("forecast", "Revenue forecast", body)


def _coverage(page: _Page, floor: float | None) -> _Section:
    daily = page.df("select report_date, web_tracking_coverage_rate, tracking_coverage_rate, shopify_web_orders "
                    "from marts.fct_ga4_shopify_reconciliation order by report_date")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=daily["report_date"], y=daily["web_tracking_coverage_rate"], mode="lines",
                             name="web orders seen by GA4", line={"color": _GREEN},
                             customdata=daily["shopify_web_orders"],
                             hovertemplate="%{x|%Y-%m-%d}: %{y:.0%} of %{customdata} web orders<extra></extra>"))
    fig.add_trace(go.Scatter(x=daily["report_date"], y=daily["tracking_coverage_rate"], mode="lines",
                             name="all orders seen by GA4", line={"color": _GREY},
                             hovertemplate="%{x|%Y-%m-%d}: %{y:.0%}<extra>all orders</extra>"))
    if floor is not None:
        fig.add_hline(y=floor, line_dash="dot", line_color=_RED, annotation_text=f"SLO floor {floor:.0%}")
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], title="Shopify orders with a GA4 purchase")
    body = page.chart(fig, "chart-tracking-coverage", height=340)
    body += _note("Below the floor the funnel undercounts purchases: GA4 missed orders that Shopify has "
                  "(marts.fct_ga4_shopify_reconciliation; the floor is [slo] tracking_coverage_floor).")
    return _Section("tracking", "GA4-Shopify tracking coverage", body)


def _evidence(row) -> str:
    parts = [_esc(row.evidence_metric)]
    if not _missing(row.baseline_rate) and not _missing(row.comparison_rate):
        parts.append(f"{format_value(row.baseline_rate, 'ratio')} vs {format_value(row.comparison_rate, 'ratio')}")
    elif not _missing(row.baseline_rate):
        parts.append(format_value(row.baseline_rate, "ratio"))
    if _missing(row.adjusted_p_value):
        parts.append("descriptive")
    else:
        verdict = "significant" if row.is_significant else "not significant"
        parts.append(f"adjusted p {_esc(format_p(row.adjusted_p_value))} ({verdict})")
    return "; ".join(parts)


def _shortlist(page: _Page) -> _Section:
    top = page.df("select * from marts.fct_experiment_shortlist where has_evidence "
                  f"order by rank limit {SHORTLIST_ROWS}")
    if top.empty:
        return _Section("shortlist", "Experiment shortlist", _note("No experiment candidate has evidence behind it."))
    rows = "".join(
        f"<tr><td class='num'>{int(r.rank)}</td><td>{_esc(r.experiment_type)}</td><td>{_esc(r.target)}</td>"
        f"<td>{_evidence(r)}</td><td class='num'>{format_value(r.expected_monthly_revenue_impact, 'money')}</td>"
        f"<td class='num'>{'-' if _missing(r.effort_days) else f'{r.effort_days:g}'}</td>"
        f"<td class='num'>{'-' if _missing(r.days_to_significance) else f'{int(r.days_to_significance):,}'}</td>"
        f"<td class='num'>{r.priority_score:,.2f}</td></tr>"
        f"<tr class='hyp'><td></td><td colspan='7'>{_esc(r.hypothesis)}</td></tr>"
        for r in top.itertuples(index=False))
    body = ("<table id='shortlist'><tr><th>#</th><th>type</th><th>target</th><th>evidence</th>"
            "<th>revenue a month</th><th>effort (days)</th><th>test days</th><th>score</th></tr>"
            f"{rows}</table>")
    body += _note("Score = expected monthly margin x confidence x time factor / effort (marts.fct_experiment_shortlist;"
                  " `sales-insights shortlist` prints the same list). Candidates whose test found nothing are left "
                  "out: `sales-insights shortlist --all` lists them.")
    return _Section("shortlist", "Experiment shortlist", body)


REJECT_REASONS_SHOWN = 10


def _rejects(page: _Page, data_source: str) -> _Section:
    """Per raw table, the rows staging kept aside and what they cost; then the commonest reasons."""
    raw_schema = None if data_source == "unknown" else raw_schema_of(data_source)
    try:
        tables = rejects_by_table(page.con, raw_schema)
    except duckdb.CatalogException:  # a warehouse dbt built only in part
        return _Section("rejects", "Rejected raw rows", _note("This warehouse has no staging.stg_rejected_rows."))
    if not tables:
        return _Section("rejects", "Rejected raw rows", _note("Staging rejected no raw row of this build."))
    rows = "".join(
        f"<tr><td>{_esc(t.table)}</td><td class='num'>{'-' if t.rows is None else f'{t.rows:,}'}</td>"
        f"<td class='num'>{t.rejected:,}</td><td class='num'>{t.copies:,}</td><td class='num'>{t.with_parent:,}</td>"
        f"<td class='num'>{t.lost:,}</td></tr>" for t in tables)
    body = ("<table id='rejects' class='small'><tr><th>raw table</th><th>rows</th><th>rejected</th>"
            "<th>exact copies kept once</th><th>with a rejected row they point at</th><th>lost</th></tr>"
            f"{rows}</table>")
    reasons = page.df(
        "select source_table, column_name, reason, count(*) as n, "
        "arg_min(source_location, coalesce(source_line, 0)) as first_at "
        "from staging.stg_rejected_rows group by all order by n desc, source_table, column_name, reason "
        f"limit {REJECT_REASONS_SHOWN}")
    body += ("<h3>Commonest reasons</h3><table id='reject-reasons'><tr><th>raw table</th><th>column</th>"
             "<th>reason</th><th>rows</th><th>first at</th></tr>"
             + "".join(f"<tr><td>{_esc(r.source_table)}</td><td>{_esc(r.column_name)}</td><td>{_esc(r.reason)}</td>"
                       f"<td class='num'>{int(r.n):,}</td><td>{_esc(r.first_at)}</td></tr>"
                       for r in reasons.itertuples(index=False))
             + "</table>")
    body += _note("Lost rows are missing from every mart; the build fails when a table loses more than its "
                  "share ([contracts] max_bad_row_share). Every row is in staging.stg_rejected_rows with its "
                  "file, line and reason; exact copies and rows that went with a rejected order lose nothing "
                  "of their own.")
    return _Section("rejects", "Rejected raw rows", body)


def _definitions(headline: pd.DataFrame) -> _Section:
    first = headline.drop_duplicates("metric")
    items = "".join(f"<dt>{_esc(r.metric_label)}</dt><dd>{_esc(r.definition)}</dd>"
                    for r in first.itertuples(index=False))
    return _Section("definitions", "Definitions", f"<dl>{items}</dl>")


# ---- the page -------------------------------------------------------------------------------------------

_CSS = """
body { font-family: %(font)s; margin: 0; color: #1f2933; background: #f5f7fa; }
header { background: #1f2933; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header .meta { color: #cbd2d9; font-size: 13px; }
nav { padding: 8px 32px; background: white; border-bottom: 1px solid #e4e7eb; font-size: 13px; }
nav a { margin-right: 14px; color: %(blue)s; text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: white; border: 1px solid #e4e7eb; border-radius: 6px; margin: 18px 0; padding: 14px 20px; }
h2 { font-size: 18px; margin: 4px 0 12px; } h3 { font-size: 15px; margin: 18px 0 4px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.tile { border: 1px solid #e4e7eb; border-radius: 6px; padding: 10px 12px; cursor: help; }
.tile .label { font-size: 13px; color: #52606d; } .tile .value { font-size: 24px; font-weight: 600; }
.tile .sub { font-size: 12px; color: #7b8794; }
.answer { border-left: 4px solid %(red)s; background: #fdf3f1; padding: 10px 14px; margin-bottom: 10px; }
.hypothesis { margin-top: 6px; color: #52606d; font-size: 13px; max-height: 6.5em; overflow: auto; }
.note { color: #7b8794; font-size: 12px; margin: 4px 0 8px; }
table { border-collapse: collapse; width: 100%%; font-size: 13px; }
table.small { width: auto; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
tr.hyp td { color: #52606d; font-size: 12px; border-bottom: 2px solid #e4e7eb; }
dt { font-weight: 600; margin-top: 8px; } dd { margin: 2px 0 0 0; color: #52606d; }
code { background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }
"""


_UNKNOWN_BUILD = {"build_id": "unknown", "built_at": None, "data_source": "unknown"}


def render_report(con: duckdb.DuckDBPyConnection, build: dict | None,
                  tracking_floor: float | None = None) -> tuple[str, list[str]]:
    """The page's HTML and the ids of its charts; `build` is the warehouse's meta.build_info (None for a
    plain dbt build, which records none)."""
    present = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    missing = [m for m in REPORT_MARTS if m not in present]
    if missing:
        raise SalesInsightsError(f"the warehouse has no marts.{', marts.'.join(missing)}: rebuild it with "
                                 "`sales-insights build`")
    page = _Page(con)
    build = build or _UNKNOWN_BUILD
    headline_section, headline = _headline(page)
    sections = [headline_section, _landing_pages(page), _funnel(page), _cohorts(page), _clv(page, headline),
                _forecast(page), _coverage(page, tracking_floor), _shortlist(page),
                _rejects(page, str(build["data_source"])), _definitions(headline)]
    span = headline[headline["period"] == "all_time"]
    period = ""
    if not span.empty:
        start, end = span.iloc[0]["period_start_date"], span.iloc[0]["period_end_date"]
        period = f"data {_esc(pd.Timestamp(start).date())} to {_esc(pd.Timestamp(end).date())} · "
    built = "" if build["built_at"] is None else f"built {pd.Timestamp(build['built_at']):%Y-%m-%d %H:%M %Z} · "
    nav = "".join(f'<a href="#{s.anchor}">{_esc(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{s.anchor}"><h2>{_esc(s.title)}</h2>{s.body}</section>' for s in sections)
    document = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Sales insights · build {_esc(build['build_id'])}</title>"
        f"<style>{_CSS % {'font': _FONT, 'blue': _BLUE, 'red': _RED}}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
        f"<header><h1>Sales insights</h1><div class='meta'>{period}{built}build {_esc(build['build_id'])} · "
        f"source {_esc(build['data_source'])} · generated {date.today():%Y-%m-%d}</div></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
    )
    return document, page.charts


def write_report(warehouse: Path, out: Path, tracking_floor: float | None = None,
                 on_progress: Callable[[str], None] | None = None) -> ReportResult:
    """Write the report of the published warehouse to `out`, atomically (a reader sees the old page or the
    new one, never half of one)."""
    if not warehouse.exists():
        raise SalesInsightsError(f"no warehouse at {warehouse}: run `sales-insights run` (or `build`) first")
    build = read_build_info(warehouse)  # also the clear error when the file cannot be opened
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        if on_progress:
            on_progress(f"report: reading the marts of {warehouse}")
        document, charts = render_report(con, build, tracking_floor)
    finally:
        con.close()
    out = out.resolve()
    try:
        write_text_atomically(out, document)
    except OSError as exc:
        raise SalesInsightsError(f"cannot write the report to {out}: {exc}") from exc
    return ReportResult(out, str((build or _UNKNOWN_BUILD)["build_id"]), tuple(charts), out.stat().st_size)
