"""Read the experiment shortlist from a built warehouse and lay it out for a terminal."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pandas as pd

from .errors import SalesInsightsError

TYPES = ("cross_sell", "upsell_substitute", "upsell_free_shipping", "upsell_second_order", "landing_page",
         "funnel_step")

_COLUMNS = ("rank", "experiment_id", "experiment_type", "target", "hypothesis", "is_significant", "adjusted_p_value",
            "expected_monthly_revenue_impact", "confidence", "effort_days", "days_to_significance", "priority_score")


def read_shortlist(warehouse: Path, top: int | None = None, types: tuple[str, ...] = ()) -> pd.DataFrame:
    """The shortlist in rank order, at most `top` rows of the given experiment types (all when empty)."""
    if not warehouse.exists():
        raise SalesInsightsError(f"no warehouse at {warehouse}: run `sales-insights run` (or `build`) first")
    unknown = sorted(set(types) - set(TYPES))
    if unknown:
        raise SalesInsightsError(f"unknown experiment type {', '.join(unknown)}; known: {', '.join(TYPES)}")
    where, params = "", []
    if types:
        where = f"where experiment_type in ({', '.join('?' for _ in types)})"
        params = list(types)
    limit = f"limit {int(top)}" if top else ""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'fct_experiment_shortlist'"
        ).fetchone()[0]
        if not found:
            raise SalesInsightsError(f"{warehouse} has no marts.fct_experiment_shortlist: rebuild it with "
                                     "`sales-insights build`")
        return con.execute(
            f"select {', '.join(_COLUMNS)} from marts.fct_experiment_shortlist {where} order by rank {limit}", params
        ).df()


def _money(value) -> str:
    return "-" if pd.isna(value) else f"{float(value):,.0f}"


def format_p(value) -> str:
    """An adjusted p-value (q) as the shortlist and the report print it: below 0.001 just "< 0.001"."""
    if value is None or pd.isna(value):
        return "-"
    return "< 0.001" if float(value) < 0.001 else f"= {float(value):.3f}"


def _evidence(row) -> str:
    if pd.isna(row.adjusted_p_value):
        return "descriptive"
    label = "q" + format_p(row.adjusted_p_value).replace(" ", "")
    return label if row.is_significant else f"{label} (n.s.)"


def _days(value) -> str:
    return "-" if pd.isna(value) else f"{int(value):,}"


def format_shortlist(frame: pd.DataFrame, width: int = 120, hypotheses: bool = True) -> str:
    """A fixed-width table (one line per experiment), then each hypothesis, wrapped to `width`."""
    if frame.empty:
        return "No experiment candidates."
    headers = ("rank", "type", "target", "revenue/mo", "confidence", "effort d", "test days", "evidence", "score")
    cells = [
        (str(r.rank), r.experiment_type, r.target, _money(r.expected_monthly_revenue_impact), f"{r.confidence:.2f}",
         "-" if pd.isna(r.effort_days) else f"{r.effort_days:g}", _days(r.days_to_significance), _evidence(r),
         f"{r.priority_score:,.1f}")
        for r in frame.itertuples(index=False)
    ]
    right = {0, 3, 4, 5, 6, 8}
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    # Long targets are cut so the table fits; the full text is in the hypotheses below it.
    fixed = sum(w for i, w in enumerate(widths) if i != 2) + 2 * (len(widths) - 1)
    widths[2] = max(12, min(widths[2], width - fixed))

    def line(values) -> str:
        parts = []
        for i, (value, w) in enumerate(zip(values, widths, strict=True)):
            value = value if len(value) <= w else value[: w - 1] + "~"
            parts.append(value.rjust(w) if i in right else value.ljust(w))
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    if hypotheses:
        out.append("")
        for r in frame.itertuples(index=False):
            prefix = f"{r.rank:>3}. "
            out.append(textwrap.fill(f"[{r.experiment_id}] {r.hypothesis}", width=max(width, 40),
                                     initial_indent=prefix, subsequent_indent=" " * len(prefix)))
    return "\n".join(out)
