"""Incremental session models give exactly what a full refresh gives, late events included."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from sales_insights.build import build
from sales_insights.generate import GeneratorConfig, generate
from sales_insights.sources import DataSource

pytestmark = pytest.mark.dbt

COMPARED = ("marts.fct_sessions", "marts.fct_funnel_daily", "marts.fct_funnel_summary")


def _split_events(full_dir, part_dir) -> int:
    """part_dir = full_dir without the last day's events and without a third of the day before's
    (those arrive late). Returns how many event rows were held back."""
    shutil.copytree(full_dir, part_dir)
    con = duckdb.connect()
    events = full_dir / "raw_ga4_events.csv"
    last_day = con.execute(f"select max(event_date) from read_csv('{events}', all_varchar = true)").fetchone()[0]
    con.execute(f"""
        copy (
            select * from read_csv('{events}', all_varchar = true)
            where event_date < '{last_day}'
                and not (event_date = strftime(strptime('{last_day}', '%Y%m%d') - interval 1 day, '%Y%m%d')
                         and hash(event_timestamp, user_pseudo_id) % 3 = 0)
        ) to '{part_dir / "raw_ga4_events.csv"}' (header)
    """)
    full = con.execute(f"select count(*) from read_csv('{events}', all_varchar = true)").fetchone()[0]
    part = con.execute(
        f"select count(*) from read_csv('{part_dir / 'raw_ga4_events.csv'}', all_varchar = true)"
    ).fetchone()[0]
    return full - part


def _differences(left: str, right: str, table: str) -> int:
    con = duckdb.connect()
    con.execute(f"attach '{left}' as l (read_only)")
    con.execute(f"attach '{right}' as r (read_only)")
    return con.execute(f"""
        select count(*) from (
            (select * from l.{table} except all select * from r.{table})
            union all
            (select * from r.{table} except all select * from l.{table})
        )
    """).fetchone()[0]


def test_incremental_build_with_late_events_equals_full_refresh(tmp_path, isolated_env):
    full_dir, data_dir = tmp_path / "full", tmp_path / "data"
    generate(full_dir, GeneratorConfig(seed=5, users=2500, days=30))
    held_back = _split_events(full_dir, data_dir)
    assert held_back > 100

    first = build(isolated_env, DataSource("directory", data_dir, "first days"))
    assert not first.incremental
    con = duckdb.connect(str(first.warehouse), read_only=True)
    sessions_before = con.execute("select count(*) from marts.fct_sessions").fetchone()[0]
    con.close()

    # The next day lands, with the late events of the day before.
    shutil.copy(full_dir / "raw_ga4_events.csv", data_dir / "raw_ga4_events.csv")
    second = build(isolated_env, DataSource("directory", data_dir, "one more day"))
    assert second.incremental

    refreshed = build(isolated_env, DataSource("directory", data_dir, "same data"),
                      warehouse=tmp_path / "refresh.duckdb", full_refresh=True)
    assert not refreshed.incremental

    con = duckdb.connect(str(second.warehouse), read_only=True)
    sessions_after = con.execute("select count(*) from marts.fct_sessions").fetchone()[0]
    con.close()
    assert sessions_after > sessions_before
    for table in COMPARED:
        assert _differences(str(second.warehouse), str(refreshed.warehouse), table) == 0, table


def test_a_rebuild_of_the_same_data_changes_nothing(tmp_path, isolated_env, clean_generated):
    source = DataSource("directory", clean_generated, "clean")
    first = build(isolated_env, source)
    shutil.copy(first.warehouse, tmp_path / "first.duckdb")
    second = build(isolated_env, source)
    assert second.incremental
    for table in COMPARED:
        assert _differences(str(tmp_path / "first.duckdb"), str(second.warehouse), table) == 0, table
