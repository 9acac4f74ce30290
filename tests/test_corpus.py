"""The bad-input corpus (tests/corpus): each case breaks the raw-data contract one way. Each is built over a
published warehouse and its exports, through the CLI, and must end exactly as cases.toml says."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sales_insights.cli import main

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))


def _data_dir(case: str, into: Path) -> Path:
    into.mkdir(parents=True)
    for path in (CORPUS / "base").glob("*.csv"):
        shutil.copy(path, into)
    for path in (CORPUS / case).glob("*.csv"):
        shutil.copy(path, into)
    return into


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rejected(warehouse: Path) -> Counter:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select source_table, column_name, reason, source_line from staging.stg_rejected_rows"
        ).fetchall()
        return Counter(rows)
    finally:
        con.close()


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): (_digest(p) if p.is_file() else "") for p in sorted(root.rglob("*"))
            if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A warehouse built from the clean base store, and its exports."""
    root = tmp_path_factory.mktemp("corpus")
    env = {"SALES_INSIGHTS_WAREHOUSE": str(root / "wh" / "warehouse.duckdb"),
           "SALES_INSIGHTS_EXPORT_DIR": str(root / "exports")}
    runner = CliRunner(env=env)
    data = _data_dir("base", root / "data")
    assert runner.invoke(main, ["build", "--data-dir", str(data), "--quiet"]).exit_code == 0
    assert runner.invoke(main, ["export"]).exit_code == 0
    return root


def test_every_case_folder_is_described_and_breaks_one_file():
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name != "base"}
    assert folders == set(CASES)
    for case in folders:
        assert len(list((CORPUS / case).glob("*.csv"))) == 1, case


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, published, tmp_path):
    expected = CASES[case]
    shutil.copytree(published / "wh", tmp_path / "wh")
    shutil.copytree(published / "exports", tmp_path / "exports", symlinks=True)
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    exports = tmp_path / "exports"
    before_warehouse, before_exports = _digest(warehouse), _tree(exports)
    latest_before = (exports / "latest").resolve()
    runner = CliRunner(env={"SALES_INSIGHTS_WAREHOUSE": str(warehouse), "SALES_INSIGHTS_EXPORT_DIR": str(exports)})
    data = _data_dir(case, tmp_path / "data")

    result = runner.invoke(main, ["build", "--data-dir", str(data), "--quiet"])
    output = result.output

    if expected["stage"] == "none":
        assert result.exit_code == 0, output
        if "warning" in expected:
            assert expected["warning"] in output
        # The clean base has rejects of its own (the extra copies of duplicated GA4 hits): the case adds its rows.
        base = _rejected(published / "wh" / "warehouse.duckdb")
        after = _rejected(warehouse)
        assert not base - after
        added = sorted((after - base).elements())
        assert len(added) == len(expected["rejected"]), added
        for table, column, reason, *line in expected["rejected"]:
            assert any(t == table and c == column and reason in r and line in ([], [n]) for t, c, r, n in added), (
                table, column, reason, *line, added)
        return

    # Stopped: a clear message, a non-zero exit, and nothing published or exported.
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    for fragment in expected["message"]:
        assert fragment.lower() in output.lower(), (fragment, output)
    if expected["stage"] == "load":
        assert "dbt" not in output and "contract checks" not in output
    elif expected["stage"] == "contracts":
        assert "Nothing was published" in output
    assert _digest(warehouse) == before_warehouse
    assert not warehouse.with_name(warehouse.name + ".next").exists()
    assert _tree(exports) == before_exports and (exports / "latest").resolve() == latest_before
