"""Compare the marts of a DuckDB build with the marts of a Spark build of the same data, row for row.

The Spark side is read from its table files (Parquet, under the session's warehouse directory), with
DuckDB, so the comparison needs no Spark session. For each mart:

- the columns must be the same, in the same order, with the same types as DuckDB reads them;
- the rows must pair up: rows are matched on every column that is not a floating-point number (text,
  integers, decimals, dates, instants, booleans; nulls match nulls), copies by their rank;
- in each pair, every floating-point column must agree within `tolerance` (relative to the larger value,
  and absolute below 1: rates and p-values agree to 1e-9). Nulls must be null on both sides, NaN must be
  NaN on both.

The Spark tables are read as plain Parquet (the session's default format; a Delta table's directory also
holds files it has removed). A Spark table with no rows may have no data file: its columns are then taken
as DuckDB's, so only its emptiness is compared.

Decimals are exact on both engines, so the money columns are compared exactly; only the statistics
(rates, p-values, fitted parameters) are floats, whose last digits follow the order of floating-point
operations, which differs between engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sales_insights.errors import SalesInsightsError
from sales_insights.sql import sql_identifier, sql_string

FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}
# Floats agree to about 12 significant digits when only the order of their operations differs.
DEFAULT_TOLERANCE = 1e-9


@dataclass
class MartParity:
    mart: str
    duckdb_rows: int = 0
    spark_rows: int = 0
    # Rows of one side with no partner on the other.
    only_in_duckdb: int = 0
    only_in_spark: int = 0
    # Paired rows whose floats differ beyond the tolerance, per column.
    float_mismatches: dict[str, int] = field(default_factory=dict)
    # The largest relative difference seen per float column (0 when equal).
    max_relative_difference: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.problems


def spark_table_dir(spark_warehouse: Path, schema: str, table: str) -> Path:
    """Where a Spark session's table lives: <warehouse>/<schema>.db/<table> (Parquet files)."""
    return spark_warehouse / f"{schema}.db" / table


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe select * from {relation}").fetchall()]


def _spark_view(con: duckdb.DuckDBPyConnection, duck_relation: str, spark_dir: Path, mart: str) -> str:
    """A temp view of the Spark table's Parquet files; returns its name."""
    files = sorted(spark_dir.glob("*.parquet"))
    spark_relation = sql_identifier(f"spark_{mart}")
    if files:
        file_list = ", ".join(sql_string(str(f)) for f in files)
        con.execute(f"create or replace temp view {spark_relation} as select * from read_parquet([{file_list}])")
    else:
        # An empty table: Spark may write no data file; its columns are DuckDB's, with no rows.
        con.execute(f"create or replace temp view {spark_relation} as select * from {duck_relation} limit 0")
    return spark_relation


def _paired_rows(duck_relation: str, spark_relation: str, keys: list[str], floats: list[str]) -> str:
    """SQL: the rows of both sides, numbered among their copies, full-joined on the keys and that number
    (`d` the DuckDB row, `s` the Spark row, a side's _copy null when the row has no partner)."""
    partition = ("partition by " + ", ".join(sql_identifier(k) for k in keys)) if keys else ""
    order = ("order by " + ", ".join(sql_identifier(f) for f in floats)) if floats else "order by 1"
    numbered = "select *, row_number() over ({} {}) as _copy from {}"
    on = " and ".join([f"d.{sql_identifier(k)} is not distinct from s.{sql_identifier(k)}" for k in keys]
                      + ["d._copy = s._copy"])
    return (f"from ({numbered.format(partition, order, duck_relation)}) as d "
            f"full join ({numbered.format(partition, order, spark_relation)}) as s on {on}")


def _pair_measures(floats: list[str], tolerance: float) -> list[str]:
    """SQL: the rows only in DuckDB and only in Spark, then per float column the paired rows that differ
    beyond the tolerance and the largest relative difference."""
    measures = ["count(*) filter (where s._copy is null)", "count(*) filter (where d._copy is null)"]
    for f in floats:
        a, b = f"d.{sql_identifier(f)}", f"s.{sql_identifier(f)}"
        finite = f"isfinite({a}) and isfinite({b})"
        relative = f"abs({a} - {b}) / greatest(1, abs({a}), abs({b}))"
        # DuckDB orders NaN above every number (NaN <= NaN holds), so only finite values get the tolerance;
        # a null on one side only makes the test null, which coalesce counts as a difference.
        differs = f"not coalesce({a} is not distinct from {b} or ({finite} and {relative} <= {tolerance}), false)"
        measures += [f"count(*) filter (where d._copy is not null and s._copy is not null and {differs})",
                     f"coalesce(max({relative}) filter (where {finite}), 0)"]
    return measures


def _unmatched_examples(con: duckdb.DuckDBPyConnection, keys: list[str], joined: str) -> list[str]:
    """A few rows of each side with no partner on the other, by their first keys."""
    examples = []
    shown = ", ".join(sql_identifier(k) for k in keys[:8])
    for side, alias, other in (("DuckDB", "d", "s"), ("Spark", "s", "d")):
        for example in con.execute(
            f"select {', '.join(f'{alias}.{sql_identifier(k)}' for k in keys[:8])} {joined} "
            f"where {other}._copy is null order by all limit 3"
        ).fetchall():
            examples.append(f"only in {side}: ({shown}) = {example}")
    return examples


def compare_mart(
    con: duckdb.DuckDBPyConnection, duck_relation: str, spark_dir: Path, mart: str, tolerance: float,
) -> MartParity:
    result = MartParity(mart)
    if not spark_dir.is_dir():
        result.problems.append(f"no Spark table at {spark_dir}")
        return result
    spark_relation = _spark_view(con, duck_relation, spark_dir, mart)
    duck_columns, spark_columns = _columns(con, duck_relation), _columns(con, spark_relation)
    result.duckdb_rows = con.execute(f"select count(*) from {duck_relation}").fetchone()[0]
    result.spark_rows = con.execute(f"select count(*) from {spark_relation}").fetchone()[0]
    if duck_columns != spark_columns:
        result.problems.append(
            "columns differ: DuckDB " + ", ".join(f"{n} {t}" for n, t in duck_columns)
            + "; Spark " + ", ".join(f"{n} {t}" for n, t in spark_columns)
        )
        return result
    if result.duckdb_rows != result.spark_rows:
        result.problems.append(f"{result.duckdb_rows:,} rows in DuckDB, {result.spark_rows:,} in Spark")

    floats = [n for n, t in duck_columns if t in FLOAT_TYPES]
    keys = [n for n, t in duck_columns if t not in FLOAT_TYPES]
    joined = _paired_rows(duck_relation, spark_relation, keys, floats)
    row = con.execute(f"select {', '.join(_pair_measures(floats, tolerance))} {joined}").fetchone()
    result.only_in_duckdb, result.only_in_spark = row[0], row[1]
    for i, f in enumerate(floats):
        mismatches, largest = row[2 + 2 * i], row[3 + 2 * i]
        result.max_relative_difference[f] = float(largest)
        if mismatches:
            result.float_mismatches[f] = mismatches
    if result.only_in_duckdb or result.only_in_spark:
        result.problems.append(f"{result.only_in_duckdb:,} row(s) only in DuckDB, {result.only_in_spark:,} only "
                               f"in Spark (matched on {', '.join(keys) or 'nothing'})")
        result.examples += _unmatched_examples(con, keys, joined)
    for f, count in result.float_mismatches.items():
        result.problems.append(f"{f}: {count:,} row(s) differ by more than {tolerance:g} "
                               f"(largest relative difference {result.max_relative_difference[f]:.3g})")
    return result


def compare_builds(
    duckdb_path: Path, spark_warehouse: Path, schema: str = "marts", tolerance: float = DEFAULT_TOLERANCE,
) -> list[MartParity]:
    """Every table of `schema` in the DuckDB file against the Spark table of that name; a table found on
    one side only is a problem of its own."""
    if not duckdb_path.is_file():
        raise SalesInsightsError(f"{duckdb_path}: no DuckDB warehouse to compare")
    if not (spark_warehouse / f"{schema}.db").is_dir():
        raise SalesInsightsError(f"{spark_warehouse}: no Spark schema {schema} ({schema}.db) to compare")
    con = duckdb.connect()
    try:
        con.execute("attach ? as duck (read_only)", [str(duckdb_path)])
        duck_tables = sorted(r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'duck' and schema_name = ?", [schema]
        ).fetchall())
        spark_tables = sorted(p.name for p in (spark_warehouse / f"{schema}.db").iterdir() if p.is_dir())
        results = []
        for mart in sorted(set(duck_tables) | set(spark_tables)):
            if mart not in spark_tables or mart not in duck_tables:
                missing = MartParity(mart)
                missing.problems.append(f"only in {'DuckDB' if mart in duck_tables else 'Spark'}")
                results.append(missing)
                continue
            results.append(compare_mart(con, f"duck.{sql_identifier(schema)}.{sql_identifier(mart)}",
                                        spark_table_dir(spark_warehouse, schema, mart), mart, tolerance))
        return results
    finally:
        con.close()


def format_parity(results: list[MartParity]) -> str:
    lines = []
    for r in results:
        status = "identical" if r.identical else "DIFFERENT"
        drift = max(r.max_relative_difference.values(), default=0.0)
        lines.append(f"{r.mart:<34} {status:<10} {r.duckdb_rows:>8,} rows  largest float difference {drift:.1e}")
        lines += [f"    {p}" for p in r.problems] + [f"    {e}" for e in r.examples]
    return "\n".join(lines)
