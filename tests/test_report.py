"""The HTML report: its numbers are the marts', it answers which landing page to fix first, and it draws in a
real headless browser (Debian's chromium) with no console errors and no network."""

from __future__ import annotations

import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.cli import main
from sales_insights.devtools.mock_catalog import LEAKY_LANDING_PAGE
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.report import (
    REPORT_MARTS,
    _test_length,
    format_change,
    format_p,
    format_value,
    write_report,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Screenshots of the rendered pages are kept here (CI keeps the folder as the test's artefact).
ARTIFACTS = Path(os.environ.get("SALES_INSIGHTS_TEST_ARTIFACTS", PROJECT_DIR / "test-artifacts"))
CHARTS = ("chart-landing-pages", "chart-funnel", "chart-funnel-device-category", "chart-funnel-channel-group",
          "chart-cohort-retention", "chart-cohort-revenue", "chart-clv-distribution", "chart-forecast",
          "chart-tracking-coverage")


def test_values_are_formatted_by_unit():
    assert format_value(1234567, "count") == "1,234,567"
    assert format_value(0.0187, "ratio") == "1.87%"
    assert format_value(0.419, "ratio") == "41.9%"
    assert format_value(93.456, "money") == "93.46"
    assert format_value(86260.01, "money") == "86,260"
    assert format_value(None, "money") == "-" and format_value(float("nan"), "ratio") == "-"
    assert format_change(0.0187, 0.0192, "ratio") == "-0.05 pp"
    assert format_change(923, 859, "count") == "+7.5%"
    assert format_change(5, 0, "count") == "" and format_change(None, 3, "money") == ""
    assert format_p(4e-12) == "< 0.001" and format_p(0.0201) == "= 0.020" and format_p(None) == "-"


def test_the_report_exposure_lists_the_marts_the_report_reads():
    exposures = yaml.safe_load((PROJECT_DIR / "models" / "exposures.yml").read_text())["exposures"]
    exposure = next(e for e in exposures if e["name"] == "sales_insights_report")
    refs = [re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in exposure["depends_on"]]
    assert refs == list(REPORT_MARTS)
    source = (PROJECT_DIR / "scripts" / "sales_insights" / "outputs" / "report.py").read_text()
    read = set(re.findall(r"marts\.(\w+)", source))
    assert read == set(REPORT_MARTS), read ^ set(REPORT_MARTS)


def test_a_missing_warehouse_or_mart_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["report", "--warehouse", str(tmp_path / "none.duckdb"),
                                       "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1 and "no warehouse at" in result.output
    partial = tmp_path / "partial.duckdb"
    with duckdb.connect(str(partial)) as con:
        con.execute("create schema marts; create table marts.fct_headline_metrics (metric varchar)")
    with pytest.raises(SalesInsightsError, match=r"no marts\.fct_funnel_summary.*rebuild"):
        write_report(partial, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


class _Tiles(HTMLParser):
    """The headline tiles: metric -> the value shown."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._metric = None
        self._in_value = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-metric" in attrs:
            self._metric = attrs["data-metric"]
        self._in_value = attrs.get("class") == "value" and self._metric is not None

    def handle_data(self, data):
        if self._in_value:
            self.values[self._metric] = data
            self._in_value = False


def render_in_browser(page_path: Path, screenshot: Path) -> dict:
    """Open the page in headless chromium: console errors, page errors, requests that left the file, and
    per chart whether Plotly drew it (its layout, its SVG and at least one trace)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium is not installed ({CHROMIUM}); `make test` installs it with apt-get")
        pytest.skip("chromium is not installed: `apt-get install chromium`, or run `make test`")
    from playwright.sync_api import sync_playwright

    found = {"console": [], "errors": [], "requests": []}
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: found["console"].append(f"{m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: found["errors"].append(str(e)))
            page.on("request", lambda r: found["requests"].append(r.url))
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            found["charts"] = page.evaluate("""() => Object.fromEntries(
                Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => [d.id, {
                    laid_out: !!d._fullLayout,
                    svgs: d.querySelectorAll('svg.main-svg').length,
                    traces: d.querySelectorAll('g.trace, g.hm, .heatmaplayer image').length,
                    width: d.getBoundingClientRect().width,
                }]))""")
            found["fix_first"] = page.inner_text("#fix-first")
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    found["requests"] = [u for u in found["requests"] if not u.startswith("file://")]
    return found


def _assert_drew(found: dict, charts: tuple[str, ...]) -> None:
    assert found["errors"] == [] and found["console"] == [], (found["errors"], found["console"])
    assert found["requests"] == [], "the page asked the network for " + ", ".join(found["requests"])
    assert set(found["charts"]) == set(charts)
    for chart, state in found["charts"].items():
        assert state["laid_out"] and state["svgs"] >= 1 and state["traces"] >= 1 and state["width"] > 300, (
            chart, state)


@pytest.mark.dbt
def test_the_report_of_the_default_store_answers_which_page_to_fix_and_draws_in_chromium(planted_store, tmp_path):
    warehouse, shortlist = planted_store
    out = tmp_path / "site" / "report.html"
    result = write_report(warehouse, out, tracking_floor=0.85)
    assert result.path == out and result.charts == CHARTS
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # written atomically, nothing left over
    page = out.read_text(encoding="utf-8")

    # Self-contained: the only scripts are inline, and the page's own HTML (outside the scripts) links to
    # nothing elsewhere. (The browser test below also sees no request leave the file.)
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"(src|href)=[\"']?(https?:)?//", markup)
    assert "Plotly" in page and len(page) > 3_000_000  # the library itself is in the page

    # The tiles show the headline mart's values, formatted.
    tiles = _Tiles()
    tiles.feed(page)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        headline = con.execute(
            "select metric, unit, period, metric_value from marts.fct_headline_metrics").fetchall()
        clv_status = con.execute("select distinct clv_status from marts.fct_customer_clv").fetchall()
    shown = {m: format_value(v, u) for m, u, p, v in headline if p == "last_28_days"}
    shown |= {m: format_value(v, u) for m, u, p, v in headline
              if p == "all_time" and m in ("month_1_retention_rate", "predicted_clv_12m")}
    assert tiles.values == shown and len(shown) == 7
    assert clv_status == [("fitted",)] and shown["predicted_clv_12m"] != "-"

    # Rejected raw rows per table, as staging holds them; the lost ones are the generator's planted rows.
    made = json.loads((warehouse.parent / "data" / "generator.json").read_text())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        held = dict(con.execute("select source_table, count(*) from staging.stg_rejected_rows group by 1").fetchall())
    table = re.search(r"<table id='rejects'.*?</table>", page, re.S).group(0)
    cells = {row[0]: row[1:] for row in (re.findall(r"<td[^>]*>([^<]*)</td>", tr)
                                         for tr in re.findall(r"<tr><td>.*?</tr>", table))}
    assert {t: int(c[1].replace(",", "")) for t, c in cells.items()} == held
    assert {t: int(c[4].replace(",", "")) for t, c in cells.items() if c[4] != "0"} == {
        t: n for t, n in made["planted_losses"].items() if n}
    assert all(int(cells[t][0].replace(",", "")) == made["row_counts"][t] for t in cells)

    # The landing page to fix first: the planted one, the first significant landing page of the shortlist.
    pages = shortlist[(shortlist["experiment_type"] == "landing_page") & shortlist["is_significant"]]
    expected = pages.sort_values("rank").iloc[0]
    assert expected["target"] == LEAKY_LANDING_PAGE

    found = render_in_browser(out, ARTIFACTS / "report_default_store.png")
    _assert_drew(found, CHARTS)
    assert found["fix_first"].startswith(f"Fix {LEAKY_LANDING_PAGE} first.")
    assert format_value(expected["baseline_rate"], "ratio") in found["fix_first"]
    assert (f"Converting like the median landing page would bring about "
            f"{format_value(expected['expected_monthly_revenue_impact'], 'money')} of revenue a month; it is the "
            f"first landing page on the experiment shortlist (#{expected['rank']} overall)") in found["fix_first"]
    # The test it leads with is sized for half the change claimed, and runs within the planned 42 days.
    assert expected["days_to_significance"] <= 42
    assert (f"An A/B test sized to detect 50.0% of that change (add to cart "
            f"{format_value(expected['test_baseline'], 'ratio')} -> "
            f"{format_value(expected['test_baseline'] + expected['sized_change'], 'ratio')}) needs about "
            f"{int(expected['days_to_significance']):,} days at today's traffic.") in found["fix_first"]
    assert "would detect" not in found["fix_first"]
    assert (ARTIFACTS / "report_default_store.png").stat().st_size > 50_000


@pytest.mark.dbt
def test_the_report_of_a_store_too_small_to_fit_says_so_and_still_draws(committed_seeds_build, tmp_path):
    """The committed seeds have too few repeat customers for CLV and the forecast, and a plain dbt build
    records no build_info: the page says what is missing instead of failing or drawing empty charts."""
    warehouse, _ = committed_seeds_build
    result = write_report(warehouse, tmp_path / "report.html")
    page = result.path.read_text(encoding="utf-8")
    assert "No CLV predictions in this build (insufficient_data)" in page
    assert "No forecast in this build: BG/NBD needs at least 300 repeat customers" in page
    assert result.build_id == "unknown"
    charts = tuple(c for c in CHARTS if c != "chart-clv-distribution")
    assert result.charts == charts
    found = render_in_browser(result.path, ARTIFACTS / "report_committed_seeds.png")
    _assert_drew(found, charts)
    assert found["fix_first"].startswith("Fix /collections/summer-sale first.")


@pytest.mark.dbt
def test_the_report_escapes_what_it_shows_and_survives_empty_marts(committed_seeds_build, tmp_path):
    """Text from the data is escaped (a target with markup, Plotly's template syntax and non-ASCII), a mart
    without rows leaves its part empty with a note, and a warehouse without data gives a page, not an error."""
    warehouse, _ = committed_seeds_build
    copy = tmp_path / "edited.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    hostile = "/été-</script><script>alert(1)</script>%{y}"
    with duckdb.connect(str(copy)) as con:
        con.execute("update marts.fct_experiment_shortlist set target = ?, hypothesis = ? where rank = ("
                    "select min(rank) from marts.fct_experiment_shortlist where experiment_type = 'landing_page' "
                    "and is_significant)", [hostile, "A long hypothesis. " * 200])
        con.execute("update marts.fct_funnel_summary set breakdown_value = ? where breakdown = 'channel_group' "
                    "and breakdown_value = 'Direct'", ["<b>Direct %{x}</b>"])
        con.execute("delete from marts.fct_customer_cohorts")
    result = write_report(copy, tmp_path / "edited.html")
    page = result.path.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page  # Plotly writes its data as JSON with < escaped
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;%{y}" in page
    assert "No customers yet." in page and "chart-cohort-retention" not in result.charts
    found = render_in_browser(result.path, ARTIFACTS / "report_edited.png")
    _assert_drew(found, tuple(c for c in CHARTS if c not in (
        "chart-clv-distribution", "chart-cohort-retention", "chart-cohort-revenue")))
    assert found["fix_first"].startswith(f"Fix {hostile} first.")

    with duckdb.connect(str(copy)) as con:
        for mart in REPORT_MARTS:
            con.execute(f"delete from marts.{mart}")
    page = write_report(copy, tmp_path / "empty.html").path.read_text(encoding="utf-8")
    assert "No headline metrics: the warehouse has no data." in page
    assert "No sessions in this build" in page and "No experiment candidate has evidence behind it." in page


def test_a_lead_test_longer_than_planned_says_what_the_planned_length_would_detect():
    top = pd.Series({"days_to_significance": 84.0, "sized_change": 0.02, "claimed_change": 0.04,
                     "test_baseline": 0.03, "time_factor": 0.5, "detectable_change": 0.031})
    text = _test_length(top)
    assert "sized to detect 50.0% of that change (add to cart 3.00% -> 5.00%) needs about 84 days" in text
    assert text.endswith("A test of 42 days (var experiment_max_test_days) would detect a rise to 6.10% or more.")
    assert _test_length(pd.Series({**top, "time_factor": 1.0})).endswith("days at today's traffic.")
    assert _test_length(pd.Series({**top, "detectable_change": None})).endswith("would detect no change.")
    assert _test_length(pd.Series({**top, "days_to_significance": None})) == ""
