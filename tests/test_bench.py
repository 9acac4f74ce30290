"""The benchmark at a tiny size: it runs end to end, its data split is a true append, and its raw-SQL
floor computes the same tables as dbt; the catalog benchmark makes the store it says and times the experiment
models it names. (Timings are printed by the benchmark, never asserted here.)"""

from __future__ import annotations

import json

import duckdb
import pytest

from sales_insights.devtools.bench import (
    CATALOG_TARGETS,
    EXPERIMENT_MODELS,
    TARGETS,
    format_catalog,
    format_table,
    run_bench,
    run_catalog_bench,
    split_last_day,
)
from sales_insights.devtools.generate import GeneratorConfig, generate
from sales_insights.quality.raw_contract import TABLES


def _rows(path):
    con = duckdb.connect()
    try:
        return con.execute("select * from read_csv(?, all_varchar = true, header = true)", [str(path)]).fetchall()
    finally:
        con.close()


def test_split_last_day_appends_one_day_to_the_same_rows(tmp_path):
    tmp_path = tmp_path / "it's \"a\"; x'); --"  # its paths reach DuckDB as paths, never as SQL
    full = tmp_path / "full"
    generate(full, GeneratorConfig(seed=3, users=400, days=20))
    day = split_last_day(full, tmp_path / "before", tmp_path / "after")
    assert day == "2025-06-20"
    for table in TABLES:
        name = f"{table.name}.csv"
        before = (tmp_path / "before" / name).read_bytes()
        after = (tmp_path / "after" / name).read_bytes()
        # the file after is the file before with the new day's rows appended, nothing else changed
        assert after.startswith(before), table.name
        assert sorted(_rows(tmp_path / "after" / name)) == sorted(_rows(full / name)), table.name
    events = _rows(tmp_path / "after" / "raw_ga4_events.csv")
    new = [r for r in events[len(_rows(tmp_path / "before" / "raw_ga4_events.csv")):]]
    assert new and all(r[0] == "20250620" for r in new)
    assert not any(r[0] == "20250620" for r in _rows(tmp_path / "before" / "raw_ga4_events.csv"))
    before_orders = _rows(tmp_path / "before" / "raw_shopify_orders.csv")
    assert len(before_orders) < len(_rows(full / "raw_shopify_orders.csv"))


@pytest.mark.dbt
def test_bench_runs_end_to_end_and_its_floor_matches_dbt(isolated_env, tmp_path):
    out = tmp_path / "results.json"
    work = tmp_path / "work"
    results = run_bench(isolated_env, [15_000], 1, out, work)

    report = json.loads(out.read_text())
    size = report["sizes"][0]
    assert size["events"] == results[0].events > 10_000
    steps = {"generate", "build_full", "build_incremental", "validate", "export", "dbt_run", "raw_sql"}
    assert set(size["runs"]) == steps
    for step, runs in size["runs"].items():
        assert len(runs) == 1 and runs[0]["seconds"] > 0 and runs[0]["peak_rss_mib"] > 50, step
    summary = size["summary"]
    assert set(TARGETS) <= set(summary)
    assert summary["incremental_share"] == pytest.approx(
        size["runs"]["build_incremental"][0]["dbt_elapsed"] / size["runs"]["build_full"][0]["dbt_elapsed"])
    assert format_table(results).count("\n") == 2
    assert report["table"] == format_table(results)

    # The raw-SQL floor built every model dbt built, with the same rows.
    floor = work / "n15000" / "floor"
    dbt_con = duckdb.connect(str(floor / "dbt" / "w.duckdb"), read_only=True)
    raw_con = duckdb.connect(str(floor / "raw" / "w.duckdb"), read_only=True)
    try:
        query = ("select table_schema, table_name from information_schema.tables "
                 "where table_schema in ('staging', 'intermediate', 'calculations', 'marts') order by 1, 2")
        relations = dbt_con.execute(query).fetchall()
        assert len(relations) > 40
        assert raw_con.execute(query).fetchall() == relations
        for schema, name in relations:
            sql = f'select count(*) from "{schema}"."{name}"'
            assert raw_con.execute(sql).fetchone() == dbt_con.execute(sql).fetchone(), name
        checked = ("marts", "fct_funnel_summary")
        sql = f'select * from "{checked[0]}"."{checked[1]}" order by all'
        assert raw_con.execute(sql).fetchall() == dbt_con.execute(sql).fetchall()
    finally:
        dbt_con.close()
        raw_con.close()


@pytest.mark.dbt
def test_catalog_bench_builds_the_store_it_says_and_times_the_experiment_models(isolated_env, tmp_path):
    out = tmp_path / "results.json"
    result = run_catalog_bench(isolated_env, 300, 8_000, 1, out, tmp_path / "work")
    report = json.loads(out.read_text())
    rows = report["catalog"]["row_counts"]
    assert rows["raw_shopify_products"] == 300
    assert 0.8 * 8_000 < rows["raw_shopify_order_lines"] < 1.25 * 8_000
    assert 3.5 < rows["raw_shopify_order_lines"] / rows["raw_shopify_orders"] < 4.5
    assert set(CATALOG_TARGETS) <= set(result.summary)
    runs = report["catalog"]["runs"]
    inside, full, alone = (runs[k][0] for k in ("experiments_in_build", "build_full", "experiments_alone"))
    # the experiment models are a part of the full build: their seconds are inside its dbt time
    assert 0 < inside["seconds"] < full["dbt_elapsed"] and full["peak_rss_mib"] > 50 and alone["peak_rss_mib"] > 50
    assert 0 < alone["dbt_elapsed"] < alone["seconds"]
    # the models run alone are the ones named, every one of them
    results = json.loads((tmp_path / "work" / "catalog300" / "warehouse" / ".w.duckdb.dbt" / "target" /
                          "run_results.json").read_text())["results"]
    results = [r for r in results if r["unique_id"].startswith("model.")]  # not the project's hooks
    assert sorted(r["unique_id"].rsplit(".", 1)[-1] for r in results) == sorted(EXPERIMENT_MODELS)
    assert all(r["status"] == "success" for r in results)
    assert report["table"] == format_catalog(result) and "targets are set at 5,000 products" in report["table"]
