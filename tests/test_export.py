"""CSV exports: one folder per build with a manifest, written whole or not at all, `latest` moving only
after a complete run, a lock, retention, and stable bytes."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from sales_insights.cli import main
from sales_insights.config import load_project_config
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs import export as export_module
from sales_insights.outputs.export import ExportFailed, export_marts, latest_run, verify_run

MARTS = ["fct_a", "fct_b"]


def make_warehouse(path: Path, build_id: str, rows: int = 3) -> Path:
    """A small warehouse shaped like a published one: meta.build_info and two marts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema meta; create schema marts")
    con.execute("create table meta.build_info as select ? as build_id, timestamptz '2026-11-24 10:00:00+00' "
                "as built_at", [build_id])
    con.execute(f"""create table marts.fct_a as select i as id, date '2026-01-01' + i as day,
        cast(i * 1.5 as decimal(18, 2)) as amount, i / 3 as ratio,
        timestamptz '2026-01-01 23:30:00+00' + i * interval 1 hour as seen_at,
        case when i = 1 then 'comma, "quoted"' end as note
        from (select cast(range as integer) as i from range({rows})) order by i desc""")
    con.execute("create table marts.fct_b as select 'x' as key, 1 as n")
    con.close()
    return path


def test_export_writes_every_mart_a_manifest_and_latest(tmp_path):
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "20261124T100000Z-aaaaaa")
    result = export_marts(warehouse, tmp_path / "out", MARTS)
    assert result.run_dir == tmp_path / "out" / "20261124T100000Z-aaaaaa" and result.is_complete
    assert latest_run(tmp_path / "out") == result.run_dir
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["build_id"] == "20261124T100000Z-aaaaaa" and manifest["marts"] == MARTS
    for entry in manifest["files"]:
        data = (result.run_dir / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    a = manifest["files"][0]
    assert a["rows"] == 3 and [c["name"] for c in a["columns"]] == ["id", "day", "amount", "ratio", "seen_at", "note"]
    assert [c["type"] for c in a["columns"]][:3] == ["INTEGER", "DATE", "DECIMAL(18,2)"]
    with (result.run_dir / "fct_a.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    # header, rows sorted, ISO dates, UTC ISO timestamps, '.' decimals, quoting, empty for NULL
    assert rows[0] == ["id", "day", "amount", "ratio", "seen_at", "note"]
    assert rows[1] == ["0", "2026-01-01", "0.00", "0.0", "2026-01-01T23:30:00.000000Z", ""]
    assert rows[2] == ["1", "2026-01-02", "1.50", "0.3333333333333333", "2026-01-02T00:30:00.000000Z",
                       'comma, "quoted"']
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".tmp")]


def test_exporting_the_same_build_again_is_idempotent_and_repairs_a_damaged_folder(tmp_path):
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "B1")
    first = export_marts(warehouse, tmp_path / "out", MARTS)
    again = export_marts(warehouse, tmp_path / "out", MARTS)
    assert again.reused and again.files == first.files
    (first.run_dir / "fct_b.csv").write_text("key,n\ntampered,2\n")
    assert not verify_run(first.run_dir)
    repaired = export_marts(warehouse, tmp_path / "out", MARTS)
    assert not repaired.reused and verify_run(repaired.run_dir)
    assert [f["sha256"] for f in repaired.files] == [f["sha256"] for f in first.files]  # same build, same bytes


def test_a_crash_mid_export_leaves_the_previous_export_and_latest_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out"
    good = export_marts(make_warehouse(tmp_path / "wh.duckdb", "B1"), out, MARTS)
    before = {p.name: p.read_bytes() for p in good.run_dir.iterdir()}
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "B2")
    real_sha = export_module.file_sha256
    calls = []

    def crash_on_second_file(path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_sha(path)

    monkeypatch.setattr(export_module, "file_sha256", crash_on_second_file)
    with pytest.raises(OSError, match="disk full"):
        export_marts(warehouse, out, MARTS)
    assert latest_run(out) == good.run_dir
    assert {p.name: p.read_bytes() for p in good.run_dir.iterdir()} == before
    assert sorted(p.name for p in out.iterdir()) == [".export.lock", "B1", "latest"]  # no half folder


def test_a_partial_export_gets_its_own_folder_and_does_not_move_latest(tmp_path):
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "B1")
    full = export_marts(warehouse, tmp_path / "out", MARTS)
    part = export_marts(warehouse, tmp_path / "out", MARTS, marts=["fct_b"])
    assert part.run_dir != full.run_dir and part.run_dir.name.startswith("B1--") and not part.is_complete
    assert sorted(p.name for p in part.run_dir.iterdir()) == ["fct_b.csv", "manifest.json"]
    assert latest_run(tmp_path / "out") == full.run_dir


def test_unknown_mart_or_missing_warehouse_is_a_clear_error_and_writes_nothing(tmp_path):
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "B1")
    with pytest.raises(ExportFailed, match=r"no mart named fct_nope in schema marts; the marts are: fct_a, fct_b"):
        export_marts(warehouse, tmp_path / "out", MARTS, marts=["fct_nope"])
    with pytest.raises(ExportFailed, match="no warehouse at"):
        export_marts(tmp_path / "none.duckdb", tmp_path / "out", MARTS)
    assert latest_run(tmp_path / "out") is None
    assert [p.name for p in (tmp_path / "out").iterdir()] == [".export.lock"]


def test_only_the_newest_runs_are_kept(tmp_path):
    out = tmp_path / "out"
    for build_id in ["B1", "B2", "B3", "B4"]:
        result = export_marts(make_warehouse(tmp_path / "wh.duckdb", build_id), out, MARTS, keep_runs=2)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["B3", "B4", "latest"]
    assert [p.name for p in result.removed] == ["B2"]


def test_a_second_export_of_the_same_directory_is_refused_while_one_runs(tmp_path):
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "B1")
    # another process holds the lock, as a scheduled export still running would
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from sales_insights.outputs.export import export_lock\n"
         "with export_lock(Path(sys.argv[1])):\n print('locked', flush=True); time.sleep(30)",
         str(tmp_path / "out")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ExportFailed, match="another export"):
            export_marts(warehouse, tmp_path / "out", MARTS)
    finally:
        holder.kill()
        holder.wait()
    assert export_marts(warehouse, tmp_path / "out", MARTS).is_complete  # free again


def test_export_reads_one_build_even_if_a_new_one_is_published_meanwhile(tmp_path, monkeypatch):
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "B1")
    replacement = make_warehouse(tmp_path / "next.duckdb", "B2", rows=5)
    real_sha = export_module.file_sha256

    def publish_during_export(path):
        if replacement.exists():
            os.replace(replacement, warehouse)  # what a build does when it publishes
        return real_sha(path)

    monkeypatch.setattr(export_module, "file_sha256", publish_during_export)
    result = export_marts(warehouse, tmp_path / "out", MARTS)
    assert result.build_id == "B1" and result.files[0]["rows"] == 3  # all of B1, nothing of B2


def test_export_command_and_project_config(tmp_path, monkeypatch):
    config = load_project_config(Path(__file__).resolve().parents[1])
    assert "fct_experiment_shortlist" in config.export_marts and config.keep_export_runs >= 1
    assert config.export_order_by["fct_experiment_shortlist"] == ("rank",)
    warehouse = make_warehouse(tmp_path / "wh.duckdb", "B1")
    runner = CliRunner()
    result = runner.invoke(main, ["export", "--warehouse", str(warehouse), "--out", str(tmp_path / "out"),
                                  "--mart", "fct_a"])
    assert result.exit_code == 0, result.output
    assert "Exported: 1 marts, 3 rows" in result.output
    bad = runner.invoke(main, ["export", "--warehouse", str(warehouse), "--out", str(tmp_path / "out"),
                               "--mart", "fct_nope"])
    assert bad.exit_code == 1 and "no mart named fct_nope" in bad.output


def test_a_broken_project_config_names_the_file(tmp_path):
    (tmp_path / "sales_insights.toml").write_text("[exports]\nmarts = []\n")
    with pytest.raises(SalesInsightsError, match=r"sales_insights.toml: \[exports\] marts must be a non-empty list"):
        load_project_config(tmp_path)
    (tmp_path / "sales_insights.toml").write_text("[exports\n")
    with pytest.raises(SalesInsightsError, match="not valid TOML"):
        load_project_config(tmp_path)


def test_the_exposure_of_the_exports_lists_the_exported_marts():
    """dbt's lineage shows what the CSV exports read: the exposure's refs are the configured marts."""
    project = Path(__file__).resolve().parents[1]
    exposure = next(e for e in yaml.safe_load((project / "models" / "exposures.yml").read_text())["exposures"]
                    if e["name"] == "nightly_csv_exports")
    refs = [re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in exposure["depends_on"]]
    assert refs == list(load_project_config(project).export_marts)


# --------------------------------------------------------------------------------------------------
# hostile names and values

DANGEROUS = ["=HYPERLINK(\"http://evil.example\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"]


def make_hostile_warehouse(path: Path, build_id: str = "B1") -> Path:
    """A warehouse whose mart text starts with each character a spreadsheet runs, beside a numeric column
    with a negative number and text that only holds such a character inside."""
    con = duckdb.connect(str(path))
    con.execute("create schema meta; create schema marts")
    con.execute("create table meta.build_info as select ? as build_id, timestamptz '2026-11-24 10:00:00+00' "
                "as built_at", [build_id])
    con.execute("create table marts.fct_pages (landing_page varchar, net_revenue decimal(18, 2), ratio double, "
                "day date)")
    rows = [(text, -12.5, -0.25, "2026-01-01") for text in DANGEROUS]
    rows += [("/ok=1+1", 3, 1, "2026-01-02"), ("'already quoted", 4, 2, "2026-01-03"), (None, 5, 3, "2026-01-04")]
    con.executemany("insert into marts.fct_pages values (?, ?, ?, ?)", rows)
    con.close()
    return path


def _rows(csv_path: Path) -> list[list[str]]:
    with csv_path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_text_a_spreadsheet_would_run_gets_a_leading_quote_and_numbers_stay_numbers(tmp_path):
    warehouse = make_hostile_warehouse(tmp_path / "wh.duckdb")
    result = export_marts(warehouse, tmp_path / "out", ["fct_pages"])
    rows = _rows(result.run_dir / "fct_pages.csv")
    assert rows[0] == ["landing_page", "net_revenue", "ratio", "day"]
    cells = {row[0] for row in rows[1:]}
    assert cells == {"'" + text for text in DANGEROUS} | {"/ok=1+1", "'already quoted", ""}
    for row in rows[1:]:
        assert row[0][:1] not in ("=", "+", "-", "@", "\t", "\r")
        assert row[1] in ("-12.50", "3.00", "4.00", "5.00")  # the decimal column is untouched
        assert row[2] in ("-0.25", "1.0", "2.0", "3.0")
    # rows keep the order of the mart's own values, NULL last (sorted as written, '/ok=1+1' would follow
    # every neutralized cell)
    assert [row[0] for row in rows[1:]] == ["'\tx", "'\rx", "'already quoted", "'+cmd|' /C calc'!A0", "'-2+3",
                                            "/ok=1+1", "'=HYPERLINK(\"http://evil.example\")", "'@SUM(A1:A9)", ""]
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["neutralize_formulas"] is True
    assert manifest["files"][0]["formula_neutralized_columns"] == ["landing_page"]


def test_neutralizing_can_be_turned_off_and_an_export_written_the_other_way_is_not_reused(tmp_path):
    warehouse = make_hostile_warehouse(tmp_path / "wh.duckdb")
    neutral = export_marts(warehouse, tmp_path / "out", ["fct_pages"])
    raw = export_marts(warehouse, tmp_path / "out", ["fct_pages"], neutralize_formulas=False)
    assert not raw.reused and raw.run_dir == neutral.run_dir  # same build, rewritten the asked way
    assert {row[0] for row in _rows(raw.run_dir / "fct_pages.csv")[1:]} >= set(DANGEROUS)
    manifest = json.loads((raw.run_dir / "manifest.json").read_text())
    assert manifest["neutralize_formulas"] is False and manifest["files"][0]["formula_neutralized_columns"] == []
    assert export_marts(warehouse, tmp_path / "out", ["fct_pages"], neutralize_formulas=False).reused
    assert not export_marts(warehouse, tmp_path / "out", ["fct_pages"]).reused


def test_the_neutralize_setting_is_read_and_checked(tmp_path):
    (tmp_path / "sales_insights.toml").write_text('[exports]\nmarts = ["fct_a"]\n')
    assert load_project_config(tmp_path).neutralize_export_formulas is True  # on unless turned off
    (tmp_path / "sales_insights.toml").write_text('[exports]\nmarts = ["fct_a"]\nneutralize_formulas = false\n')
    assert load_project_config(tmp_path).neutralize_export_formulas is False
    (tmp_path / "sales_insights.toml").write_text('[exports]\nmarts = ["fct_a"]\nneutralize_formulas = "no"\n')
    with pytest.raises(SalesInsightsError, match=r"\[exports\] neutralize_formulas must be true or false, not 'no'"):
        load_project_config(tmp_path)
    assert load_project_config(Path(__file__).resolve().parents[1]).neutralize_export_formulas is True


HOSTILE_NAME = "it's \"quoted\"; x'); drop table marts.fct_a; --"


def test_paths_with_quotes_and_sql_reach_duckdb_as_paths(tmp_path):
    """The warehouse, the export directory and so the COPY's file are bound or quoted, never pasted into SQL."""
    folder = tmp_path / HOSTILE_NAME
    warehouse = make_warehouse(folder / "wh 'x'.duckdb", "B1")
    out = folder / "exports; rm -rf"
    result = export_marts(warehouse, out, MARTS)
    assert result.run_dir == out / "B1" and verify_run(result.run_dir)
    assert _rows(result.run_dir / "fct_a.csv")[2][5] == 'comma, "quoted"'
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select count(*) from marts.fct_a").fetchone()[0] == 3  # nothing was dropped
    con.close()
    cli = CliRunner().invoke(main, ["export", "--warehouse", str(warehouse), "--out", str(tmp_path / "it's exports"),
                                    "--mart", "fct_b"])
    assert cli.exit_code == 0, cli.output
    (part,) = (tmp_path / "it's exports").glob("B1--*")
    assert sorted(p.name for p in part.iterdir()) == ["fct_b.csv", "manifest.json"] and verify_run(part)
