"""Helpers for the dbt Python models' inputs and outputs, the same on every engine: a model reads its refs
as DuckDB relations and returns a pandas DataFrame; on Spark the inputs come over through Arrow (so they
reach pandas with the types DuckDB gives) and the output goes back as a Spark DataFrame."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from sales_insights.sql import sql_identifier


def duckdb_relation(relation):
    """A model's input as a DuckDB relation: DuckDB's own as it is; a Spark DataFrame (dbt.ref on Spark)
    through Arrow, which keeps decimals, dates and instants as they are typed in the warehouse."""
    if hasattr(relation, "toArrow"):
        return duckdb.from_arrow(relation.toArrow())
    return relation


def ordered_df(relation) -> pd.DataFrame:
    """A model's input as a DataFrame sorted by all its columns. A table's row order is whatever its
    build left (parallel, so it varies), and floating-point sums and fits follow the row order in their
    last digits: sorted inputs make a model give the same numbers for the same data, build after build."""
    relation = duckdb_relation(relation)
    return relation.order(", ".join(sql_identifier(c) for c in relation.columns)).df()


def model_output(frame: pd.DataFrame, session):
    """What a Python model returns: the DataFrame itself on DuckDB; on Spark (the session is a
    SparkSession) a Spark DataFrame made through Arrow, so its column types are the DataFrame's."""
    if hasattr(session, "createDataFrame"):
        return session.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))
    return frame
