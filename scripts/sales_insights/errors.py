"""The one exception type for problems a user can cause (bad input, bad settings)."""

from __future__ import annotations


class SalesInsightsError(Exception):
    """A problem the user can fix. The message names the file, column and rows where it can."""


def format_rows(rows: list[int], limit: int = 10) -> str:
    """'3, 7, 12' or '3, 7, 12, ... (25 rows)' for a list of row or line numbers."""
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown if len(rows) <= limit else f"{shown}, ... ({len(rows)} rows)"
