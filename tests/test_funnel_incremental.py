"""Incremental builds give exactly what a full refresh gives: late events, files rewritten or appended to."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from sales_insights.devtools.generate import GeneratorConfig, generate
from sales_insights.pipeline.build import build, dbt_artefacts_dir
from sales_insights.pipeline.data_source import DataSource

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

    # The next day lands, with the late events of the day before, in a file written anew (not appended to):
    # any old event may have changed, so the sessions are rebuilt in full.
    shutil.copy(full_dir / "raw_ga4_events.csv", data_dir / "raw_ga4_events.csv")
    second = build(isolated_env, DataSource("directory", data_dir, "one more day"))
    assert second.incremental
    assert "raw_ga4_events" not in second.load_report.appended_rows
    compiled = dbt_artefacts_dir(second.warehouse) / "target" / "compiled"
    assert "session_key in (" not in next(compiled.rglob("fct_sessions.sql")).read_text()

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


def _tables(warehouse) -> list[str]:
    """Every table the build wrote, but its own record (meta), as schema.name."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [f"{schema}.{name}" for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name <> 'meta' order by 1, 2"
        ).fetchall()]
    finally:
        con.close()


def test_an_appended_day_builds_only_its_events_and_equals_a_full_refresh(tmp_path, isolated_env):
    """The way a daily extract grows: the file keeps its lines and gains new ones at the end. Among them:
    the late events of the day before, the same hit sent again (a copy of a line already built, and a
    copy of a new line) and a row breaking the contract."""
    full_dir, data_dir = tmp_path / "full", tmp_path / "data"
    generate(full_dir, GeneratorConfig(seed=5, users=2500, days=30, bad_rows=False))
    shutil.copytree(full_dir, data_dir)
    events = data_dir / "raw_ga4_events.csv"
    header, *rows = (full_dir / "raw_ga4_events.csv").read_bytes().splitlines(keepends=True)
    last_day = max(r.split(b",", 1)[0] for r in rows if r[:8].isdigit())
    day_before = max(r.split(b",", 1)[0] for r in rows if r[:8].isdigit() and r.split(b",", 1)[0] < last_day)
    held = [i for i, r in enumerate(rows)
            if r.startswith(last_day) or (r.startswith(day_before) and i % 3 == 0)]
    held_set = set(held)
    events.write_bytes(header + b"".join(r for i, r in enumerate(rows) if i not in held_set))

    first = build(isolated_env, DataSource("directory", data_dir, "first days"))
    assert not first.incremental
    already_built = next(r for i, r in enumerate(rows) if i not in held_set and b",page_view," in r)
    bad = rows[held[0]].replace(b",desktop,", b",smart-fridge,").replace(b",mobile,", b",smart-fridge,")
    assert bad != rows[held[0]]
    appended = [rows[i] for i in held] + [already_built, rows[held[1]], bad]
    with events.open("ab") as handle:
        handle.write(b"".join(appended))

    second = build(isolated_env, DataSource("directory", data_dir, "one more day"))
    assert second.incremental
    assert second.load_report.appended_rows["raw_ga4_events"] == len(appended)
    first_new_line = len(rows) - len(held) + 2
    compiled = dbt_artefacts_dir(second.warehouse) / "target" / "compiled"
    for model in ("base_ga4__events", "fct_sessions"):
        # the model itself, not a unit test's fixture of the same name (compiled under the test's yml)
        code = next(p for p in compiled.rglob(f"{model}.sql") if p.parent.suffix != ".yml").read_text()
        assert f"source_line >= {first_new_line}" in code, f"{model} was not built from the new rows only"

    refreshed = build(isolated_env, DataSource("directory", data_dir, "same data"),
                      warehouse=tmp_path / "refresh.duckdb", full_refresh=True)
    con = duckdb.connect(str(second.warehouse), read_only=True)
    reasons = dict(con.execute(
        "select reject_reason, count(*) from staging.base_ga4__events where source_line >= ? group by 1",
        [first_new_line],
    ).fetchall())
    con.close()
    # The store has no planted bad rows: among the new lines, the bad device added, and every line whose
    # exact text came earlier in the file (the two copies added, and any the store sent twice itself).
    seen, copies = set(), 0
    for i, line in enumerate(events.read_bytes().splitlines()[1:]):
        copies += i >= len(rows) - len(held) and line in seen
        seen.add(line)
    assert copies >= 2
    assert {reason.split(" (")[0]: n for reason, n in reasons.items() if reason} == {
        "exact duplicate of an earlier event": copies, "not one of desktop, mobile, tablet": 1}
    tables = _tables(second.warehouse)
    assert tables == _tables(refreshed.warehouse)
    assert "staging.base_ga4__events" in tables and "marts.fct_sessions" in tables
    for table in tables:
        assert _differences(str(second.warehouse), str(refreshed.warehouse), table) == 0, table
