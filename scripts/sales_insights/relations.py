"""Helpers for the dbt Python models' inputs."""

from __future__ import annotations

import pandas as pd


def ordered_df(relation) -> pd.DataFrame:
    """A DuckDB relation as a DataFrame sorted by all its columns. A table's row order is whatever its
    build left (parallel, so it varies), and floating-point sums and fits follow the row order in their
    last digits: sorted inputs make a model give the same numbers for the same data, build after build."""
    return relation.order(", ".join(f'"{c}"' for c in relation.columns)).df()
