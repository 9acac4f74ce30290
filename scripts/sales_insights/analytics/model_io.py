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



def previous_rows(dbt, session, columns) -> pd.DataFrame | None:
    """These columns of this model's table as the last build left it, for a model that reuses work from it
    (it must give the same rows as when computed afresh). None on a first build, when the table lacks one
    of the columns (an older build), and on engines other than DuckDB (its session is a SparkSession)."""
    if hasattr(session, "createDataFrame"):
        return None
    this = dbt.this
    found = session.execute(
        "select count(*) from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ? "
        f"and column_name in ({', '.join('?' for _ in columns)})",
        [this.database, this.schema, this.identifier, *columns],
    ).fetchall()[0][0]
    if found < len(columns):
        return None
    table = f"{sql_identifier(this.database)}.{sql_identifier(this.schema)}.{sql_identifier(this.identifier)}"
    return session.sql(f"select {', '.join(sql_identifier(c) for c in columns)} from {table}").df()
