"""Read the experiment shortlist from a built warehouse and lay it out for a terminal."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pandas as pd

from sales_insights.errors import SalesInsightsError

TYPES = ("cross_sell", "upsell_substitute", "upsell_free_shipping", "upsell_second_order", "landing_page",
         "funnel_step")

_COLUMNS = ("rank", "experiment_id", "experiment_type", "target", "hypothesis", "is_significant", "adjusted_p_value",
            "expected_monthly_revenue_impact", "confidence", "effort_days", "days_to_significance", "priority_score")


def read_shortlist(warehouse: Path, top: int | None = None, types: tuple[str, ...] = ()) -> pd.DataFrame:
    """The shortlist in rank order, of the given experiment types (all when empty): with `top`, the first
    `top` candidates with evidence (has_evidence); without, every candidate."""
    if not warehouse.exists():
        raise SalesInsightsError(f"no warehouse at {warehouse}: run `sales-insights run` (or `build`) first")
    unknown = sorted(set(types) - set(TYPES))
    if unknown:
        raise SalesInsightsError(f"unknown experiment type {', '.join(unknown)}; known: {', '.join(TYPES)}")
    conditions, params = [], []
    if types:
        conditions.append(f"experiment_type in ({', '.join('?' for _ in types)})")
        params = list(types)
    if top:
        conditions.append("has_evidence")
    where = f"where {' and '.join(conditions)}" if conditions else ""
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


# The narrowest the target column gets; a word longer than that is broken across its lines.
_NARROWEST_TARGET = 12


def _column_widths(headers: tuple[str, ...], cells: list[tuple[str, ...]], width: int) -> list[int]:
    """Each column as wide as its longest cell, then narrowed only as far as the table needs to fit in
    `width`, wrapping between words before any word is broken: the target (the free text) down to its
    longest word, then the evidence and the type down to theirs, and only then the target down to
    _NARROWEST_TARGET. Numbers are never narrowed: a table that cannot fit even so is left wider."""
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    gaps = 2 * (len(widths) - 1)

    def longest_word(i: int) -> int:
        return max(len(word) for text in (headers[i], *(c[i] for c in cells)) for word in text.split())

    steps = ((2, max(longest_word(2), _NARROWEST_TARGET)), (7, longest_word(7)), (1, longest_word(1)),
             (2, _NARROWEST_TARGET))
    for column, floor in steps:
        excess = sum(widths) + gaps - width
        if excess <= 0:
            break
        widths[column] = max(min(widths[column], floor), widths[column] - excess)
    return widths


def _wrap(value: str, width: int) -> list[str]:
    # textwrap drops only the spaces it breaks at (and breaks after hyphens): every other character stays
    return textwrap.wrap(value, width, break_long_words=True) or [""]


def format_shortlist(frame: pd.DataFrame, width: int = 120, hypotheses: bool = True) -> str:
    """A fixed-width table (an experiment's row continued on further lines when a cell is wider than its
    column), then each hypothesis, wrapped to `width`."""
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
    # Long text (a target above all) wraps within its column rather than being cut: the table is where a
    # reader compares candidates, so each must be named whole there.
    widths = _column_widths(headers, cells, width)

    def lines(values) -> list[str]:
        wrapped = [_wrap(value, w) for value, w in zip(values, widths, strict=True)]
        out = []
        for k in range(max(len(parts) for parts in wrapped)):
            row = [parts[k] if k < len(parts) else "" for parts in wrapped]
            out.append("  ".join(v.rjust(w) if i in right else v.ljust(w)
                                 for i, (v, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        return out

    out = [*lines(headers), "  ".join("-" * w for w in widths)]
    for c in cells:
        out += lines(c)
    if hypotheses:
        out.append("")
        for r in frame.itertuples(index=False):
            prefix = f"{r.rank:>3}. "
            out.append(textwrap.fill(f"[{r.experiment_id}] {r.hypothesis}", width=max(width, 40),
                                     initial_indent=prefix, subsequent_indent=" " * len(prefix)))
    return "\n".join(out)
