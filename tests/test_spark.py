"""The same dbt project on Apache Spark: the comparison of two builds (sales_insights.devtools.parity), the Python-model
runner for dbt-spark's session method, and the parity test itself: the committed mock seeds built by
`dbt build --target spark` give every mart of the DuckDB build, row for row."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from sales_insights.devtools.generate import GeneratorConfig, generate
from sales_insights.devtools.parity import DEFAULT_TOLERANCE, compare_builds, format_parity
from sales_insights.pipeline.build import build
from sales_insights.pipeline.data_source import DataSource
from sales_insights.sql import sql_identifier

PROJECT_DIR = Path(__file__).resolve().parents[1]


def _spark_unavailable() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed (make test installs Debian's openjdk-17-jre-headless when run as root)"
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        return "the '.[spark]' extra is not installed (make install-spark, or pip install -e '.[spark]')"
    return None


# --- the comparison, on builds made by hand: a DuckDB file and "Spark" tables written as Parquet ----------

def _builds(tmp_path: Path, duck_sql: str, spark_sql: str, mart: str = "m") -> list:
    duck = tmp_path / "duck.duckdb"
    tmp_path.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(duck))
    con.execute("create schema marts")
    con.execute(f"create table marts.{sql_identifier(mart)} as {duck_sql}")
    table_dir = tmp_path / "spark" / "marts.db" / mart
    table_dir.mkdir(parents=True)
    con.execute(f"copy ({spark_sql}) to ? (format parquet)", [str(table_dir / "part-00000.parquet")])
    con.close()
    return compare_builds(duck, tmp_path / "spark")


ROWS = ("select * from (values (1::bigint, 'a', 12.34::decimal(18,2), 0.25::double), "
        "(2, 'b', 5.00, 1e6), (2, 'b', 5.00, 1e6)) as t(id, name, amount, rate)")


def test_identical_builds_compare_identical(tmp_path):
    [result] = _builds(tmp_path, ROWS, ROWS)
    assert result.identical, result.problems
    assert (result.duckdb_rows, result.spark_rows) == (3, 3)
    assert result.max_relative_difference == {"rate": 0.0}


def test_a_mart_name_and_a_folder_with_quotes_are_names_and_paths_not_sql(tmp_path):
    [result] = _builds(tmp_path / "it's \"x\"; --", ROWS, ROWS, mart="m'\"; drop")
    assert result.identical and result.mart == "m'\"; drop", result.problems


def test_floats_within_the_tolerance_pass_and_beyond_it_fail(tmp_path):
    close = ROWS.replace("0.25::double", f"(0.25 * (1 + {DEFAULT_TOLERANCE / 10}))::double")
    [result] = _builds(tmp_path, ROWS, close)
    assert result.identical, result.problems
    assert 0 < result.max_relative_difference["rate"] < DEFAULT_TOLERANCE

    far = tmp_path / "far"
    far.mkdir()
    [result] = _builds(far, ROWS, ROWS.replace("1e6)) as t", "1e6 + 1)) as t"))
    assert not result.identical
    assert result.float_mismatches == {"rate": 1}
    assert "rate: 1 row(s) differ" in result.problems[0]


@pytest.mark.parametrize(("change", "problem"), [
    # a cent on a decimal: decimals are compared exactly, so the row has no partner
    ("12.35::decimal(18,2)", "1 row(s) only in DuckDB, 1 only in Spark"),
    # a copy fewer: duplicates are paired by their rank, not collapsed
    ("drop-copy", "3 rows in DuckDB, 2 in Spark"),
    # a null for a value
    ("null-name", "1 row(s) only in DuckDB, 1 only in Spark"),
])
def test_a_changed_row_is_found(tmp_path, change, problem):
    if change == "drop-copy":
        spark = ROWS.replace(", (2, 'b', 5.00, 1e6)) as t", ") as t")
    elif change == "null-name":
        spark = ROWS.replace("(1::bigint, 'a',", "(1::bigint, null,")
    else:
        spark = ROWS.replace("12.34::decimal(18,2)", change)
    [result] = _builds(tmp_path, ROWS, spark)
    assert not result.identical
    assert any(problem in p for p in result.problems), result.problems
    if change != "drop-copy":
        assert result.examples, "the rows without a partner are shown"


def test_a_float_null_on_one_side_only_is_a_difference(tmp_path):
    [result] = _builds(tmp_path, ROWS, ROWS.replace("0.25::double", "null::double"))
    assert result.float_mismatches == {"rate": 1}
    assert not result.identical


def test_nan_matches_only_nan(tmp_path):
    nan = ROWS.replace("0.25::double", "'nan'::double")
    [result] = _builds(tmp_path, nan, nan)
    assert result.identical, result.problems
    other = tmp_path / "other"
    other.mkdir()
    [result] = _builds(other, nan, ROWS)
    assert result.float_mismatches == {"rate": 1}


def test_column_types_and_missing_marts_are_problems(tmp_path):
    [result] = _builds(tmp_path, ROWS, ROWS.replace("1::bigint", "1::integer"))
    assert not result.identical
    assert result.problems[0].startswith("columns differ: DuckDB id BIGINT")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    results = _builds(elsewhere, ROWS, ROWS)
    (elsewhere / "spark" / "marts.db" / "only_spark").mkdir()
    results = compare_builds(elsewhere / "duck.duckdb", elsewhere / "spark")
    assert [(r.mart, r.problems) for r in results if not r.identical] == [("only_spark", ["only in Spark"])]
    assert "DIFFERENT" in format_parity(results)


# --- what the Spark target is made of ----------------------------------------------------------------------

def test_mock_seeds_hold_no_text_that_dbt_reads_as_empty():
    """dbt reads seeds through agate, which takes 'null' (any case) and whitespace-only text for empty; Spark's
    seed loader gets them so, DuckDB's copies the file. The committed mock seeds must hold none, or the two
    engines would start from different raw rows."""
    import csv

    seeds = sorted((PROJECT_DIR / "seeds" / "mock").glob("*.csv"))
    assert len(seeds) == 8
    found = []
    for path in seeds:
        with path.open(newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.reader(handle), start=1):
                found += [(path.name, line, v) for v in row if v and v.strip().lower() in ("", "null")]
    assert not found, found[:10]


def _parse_config(target: str, tmp_path: Path, *extra: str) -> dict:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "parse", "--profiles-dir", "profiles", "--target", target,
         "--target-path", str(tmp_path / target / "-".join(extra or ("default",))), *extra],
        cwd=PROJECT_DIR, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    manifest = json.loads((tmp_path / target / "-".join(extra or ("default",)) / "manifest.json").read_text())
    return manifest["nodes"]["model.sales_insights.fct_sessions"]["config"]


def test_upsert_models_merge_where_the_table_format_can(tmp_path):
    """The models that update rows by key: DuckDB deletes and inserts; Spark merges on Delta (or Iceberg,
    Hudi), chosen by the var spark_file_format, and rebuilds them as tables on plain Parquet."""
    if _spark_unavailable():
        pytest.skip(_spark_unavailable())
    duck = _parse_config("dev", tmp_path)
    assert (duck["materialized"], duck["incremental_strategy"]) == ("incremental", "delete+insert")
    parquet = _parse_config("spark", tmp_path)
    assert (parquet["materialized"], parquet["file_format"]) == ("table", "parquet")
    delta = _parse_config("spark", tmp_path, "--vars", "{spark_file_format: delta}")
    assert (delta["materialized"], delta["incremental_strategy"], delta["file_format"]) == (
        "incremental", "merge", "delta")


# --- dbt-spark's session method with the project's Python models -------------------------------------------

def test_session_method_runs_python_models_in_the_session():
    if _spark_unavailable():
        pytest.skip(_spark_unavailable())
    from dbt.adapters.spark.impl import SparkAdapter

    from sales_insights.devtools.spark import SessionPythonJobHelper, install_session_python_models

    install_session_python_models()
    install_session_python_models()  # idempotent
    helpers = SparkAdapter.python_submission_helpers.fget(None)
    assert helpers["session"] is SessionPythonJobHelper
    assert {"all_purpose_cluster", "job_cluster"} <= set(helpers), "Databricks' methods are kept"
    session = SimpleNamespace(config=SimpleNamespace(credentials=SimpleNamespace(method="session")))
    thrift = SimpleNamespace(config=SimpleNamespace(credentials=SimpleNamespace(method="thrift")))
    assert SparkAdapter.default_python_submission_method.fget(session) == "session"
    assert SparkAdapter.default_python_submission_method.fget(thrift) == "all_purpose_cluster"


def test_data_dir_needs_a_spark_session_target(tmp_path):
    cli = Path(sys.executable).with_name("sales-insights")
    for args, message in [
        (["build"], "--data-dir loads into a Spark session target: name it, e.g. --target spark"),
        (["build", "--target", "dev"], "target 'dev' is not a Spark session target"),
    ]:
        proc = subprocess.run([str(cli), "dbt", "--data-dir", str(tmp_path), *args], cwd=tmp_path,
                              capture_output=True, text=True)
        assert proc.returncode != 0
        assert message in proc.stderr + proc.stdout


# --- the parity test ---------------------------------------------------------------------------------------

def _mart_models(manifest: dict) -> set[str]:
    return {n["name"] for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["fqn"][1] == "marts"}


@pytest.mark.dbt
@pytest.mark.spark
def test_spark_build_gives_the_duckdb_marts(committed_seeds_build, tmp_path):
    """`dbt build --target spark` on the committed mock seeds passes (every seed, model, unit test and data
    test), and every mart, and every base staging table (each raw row, its CSV line and why it was rejected),
    equals the DuckDB build's: keys and text, integers, decimals, dates and instants exactly, floats within
    1e-9 relative."""
    reason = _spark_unavailable()
    if reason:
        pytest.skip(reason)
    warehouse, env = committed_seeds_build
    spark_warehouse, manifest, seconds = _spark_build([], env, tmp_path)
    run = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    kinds: dict[str, int] = {}
    for r in run:
        kinds[r["unique_id"].split(".")[0]] = kinds.get(r["unique_id"].split(".")[0], 0) + 1
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert kinds["model"] == len(models)
    assert sum(1 for n in models if n["language"] == "python") == 5, "the CLV, forecast and experiment models"
    assert kinds["seed"] == 12 and kinds["unit_test"] >= 5 and kinds["test"] >= 100
    # Spark kept its tables and metastore where it was told, not in the directory dbt ran in (the project).
    assert (spark_warehouse / "marts.db").is_dir() and (spark_warehouse.parent / "metastore_db").is_dir()
    assert not {"metastore_db", "spark-warehouse", "derby.log"} & {p.name for p in PROJECT_DIR.iterdir()}

    marts = compare_builds(warehouse, spark_warehouse, "marts")
    assert {r.mart for r in marts} == _mart_models(manifest)
    assert all(r.identical for r in marts), format_parity(marts)
    assert sum(r.duckdb_rows for r in marts) > 10_000
    staging = compare_builds(warehouse, spark_warehouse, "staging")
    assert {r.mart for r in staging} >= {"base_ga4__events", "base_shopify__orders", "base_shopify__order_lines"}
    assert all(r.identical for r in staging), format_parity(staging)
    largest = max(d for r in marts for d in r.max_relative_difference.values())
    print(f"\nSpark build of the committed seeds: {seconds:.0f} s; {len(marts)} marts identical "
          f"(largest float difference {largest:.1e})\n" + format_parity(marts))


def _spark_build(args: list[str], env: dict, tmp_path: Path, build_args: tuple[str, ...] = ()
                 ) -> tuple[Path, dict, float]:
    """`sales-insights dbt ARGS build BUILD_ARGS --target spark` into tmp_path; (the Spark warehouse, the
    manifest, seconds)."""
    spark_dir = tmp_path / "spark"
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("sales-insights")), "dbt", *args, "build", *build_args,
         "--target", "spark", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=tmp_path, env={**env, "SALES_INSIGHTS_SPARK_DIR": str(spark_dir)}, capture_output=True, text=True,
    )
    seconds = time.monotonic() - started
    output = "\n".join(line for line in proc.stdout.splitlines() if "WARN" not in line)
    assert proc.returncode == 0, output[-4000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    not_passed = [(r["unique_id"], r["status"]) for r in results
                  if r["status"] not in ("success", "pass") and not r["unique_id"].startswith("exposure.")]
    assert not not_passed, not_passed
    return spark_dir / "warehouse", json.loads((tmp_path / "target" / "manifest.json").read_text()), seconds


@pytest.mark.dbt
@pytest.mark.spark
def test_spark_build_from_a_data_dir_gives_the_duckdb_staging(isolated_env, tmp_path):
    """Raw CSVs loaded on each engine (`sales-insights build --data-dir` into DuckDB; `sales-insights dbt
    --data-dir` into Spark's raw schema, through the same loader checks) stage the same rows and reject the
    same rows, with the same lines and reasons. Spark builds the staging layer only (with the tests on it
    alone): from there on both engines read the same staged tables, and the marts' parity is the seeds
    test's, which keeps the suite to one whole Spark build."""
    reason = _spark_unavailable()
    if reason:
        pytest.skip(reason)
    data = tmp_path / "data"
    generate(data, GeneratorConfig(seed=5, users=600, days=45))
    duck = build(isolated_env, DataSource("directory", data, "generated"), tmp_path / "duck.duckdb").warehouse
    env = {k: v for k, v in os.environ.items() if k != "USE_MOCK_DATA"}
    spark_warehouse, manifest, seconds = _spark_build(
        ["--data-dir", str(data)], env, tmp_path,
        ("--select", "path:models/staging", "--indirect-selection", "cautious"))
    assert (spark_warehouse / "raw.db" / "raw_ga4_events").is_dir(), "loaded into the raw schema"
    assert not (spark_warehouse / "marts.db").exists()
    staging = compare_builds(duck, spark_warehouse, "staging")
    built = {n["name"] for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and n["fqn"][1] == "staging" and n["config"]["materialized"] != "view"}
    assert {r.mart for r in staging} == built and len(built) >= 8
    assert all(r.identical for r in staging), format_parity(staging)
    with duckdb.connect(str(duck), read_only=True) as con:
        rejected = con.execute("select count(*) from staging.stg_rejected_rows").fetchone()[0]
        events = con.execute("select count(*) from staging.base_ga4__events").fetchone()[0]
    assert rejected > 0 and events > 1000, "the generated bad rows are rejected on both engines"
    print(f"\nSpark staging of a {events:,}-event generated store: {seconds:.0f} s; staged tables identical")
