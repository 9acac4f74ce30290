"""The bad-input corpus (tests/corpus): each case breaks the raw-data contract one way. Each is built over a
published warehouse and its exports, through the CLI, and must end exactly as cases.toml says."""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import re
import shutil
import tempfile
import tomllib
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sales_insights.cli import main
from sales_insights.config import SHARE_ENV

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))


def _data_dir(case: str, into: Path) -> Path:
    into.mkdir(parents=True)
    for path in (CORPUS / "base").glob("*.csv"):
        shutil.copy(path, into)
    for path in (CORPUS / case).glob("*.csv"):
        shutil.copy(path, into)
    return into


def _case_file(case: str) -> Path:
    return next((CORPUS / case).glob("*.csv"))


@functools.cache
def _edits(case: str) -> tuple[tuple[int, int, tuple[bytes, ...]], ...]:
    """The case's changes to its base file, as (first, end, new lines) over the base file's lines (diffed
    once per case: batching, merging and the checks all ask for them)."""
    path = _case_file(case)
    base = (CORPUS / "base" / path.name).read_bytes().splitlines(keepends=True)
    lines = path.read_bytes().splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, base, lines, autojunk=False)
    return tuple((i1, i2, tuple(lines[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def _mergeable(case: str) -> bool:
    """A tolerated case that changes rows only (not the header) can be built together with others."""
    expected = CASES[case]
    return (expected["stage"] == "none" and "warning" not in expected and "max_bad_row_share" not in expected
            and all(first > 0 for first, _, _ in _edits(case)))


def _ids(case: str) -> set[bytes]:
    """The ids (runs of 10 or more digits) on the lines a case changes, before and after: two cases that
    touch the same order, line or customer would change each other's outcome."""
    path = _case_file(case)
    base = (CORPUS / "base" / path.name).read_bytes().splitlines(keepends=True)
    changed = [line for first, end, new in _edits(case) for line in (*base[first:end], *new)]
    return set(re.findall(rb"(?<![0-9])[0-9]{10,}(?![0-9])", b"".join(changed)))


def _batches() -> list[list[str]]:
    """The mergeable cases in groups that share no changed, or adjacent, line of a file and no id: each
    group is one build instead of one per case (a build of the corpus store takes about 20 s)."""
    batches: list[tuple[list[str], dict[str, list[tuple[int, int]]], set[bytes]]] = []
    for case in sorted(c for c in CASES if _mergeable(c)):
        name = _case_file(case).name
        spans = [(first, end) for first, end, _ in _edits(case)]
        ids = _ids(case)
        for cases, taken, taken_ids in batches:
            if not ids & taken_ids and all(
                    max(a, c) > min(b, d) for a, b in spans for c, d in taken.get(name, [])):
                cases.append(case)
                taken.setdefault(name, []).extend(spans)
                taken_ids |= ids
                break
        else:
            batches.append(([case], {name: spans}, set(ids)))
    return [cases for cases, _, _ in batches]


BATCHES = _batches()
ALONE = sorted(set(CASES) - {case for batch in BATCHES for case in batch})


def _merged_data_dir(cases: list[str], into: Path) -> Path:
    """The base store with the edits of every case in `cases` applied."""
    into.mkdir(parents=True)
    for path in (CORPUS / "base").glob("*.csv"):
        shutil.copy(path, into)
    by_file: dict[str, list[tuple[int, int, tuple[bytes, ...]]]] = {}
    for case in cases:
        by_file.setdefault(_case_file(case).name, []).extend(_edits(case))
    for name, edits in by_file.items():
        lines = (CORPUS / "base" / name).read_bytes().splitlines(keepends=True)
        for first, end, new in sorted(edits, reverse=True):
            lines[first:end] = new
        (into / name).write_bytes(b"".join(lines))
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
        assert _edits(case), f"{case} does not change its base file"


def test_batched_cases_are_applied_as_each_case_alone():
    """A merged batch holds every line each of its cases wrote."""
    for batch in BATCHES:
        merged = _merged_data_dir(batch, Path(tempfile.mkdtemp()) / "data")
        for case in batch:
            written = {line for _, _, new in _edits(case) for line in new}
            assert written <= set((merged / _case_file(case).name).read_bytes().splitlines(keepends=True)), case


@pytest.mark.parametrize("cases", BATCHES, ids=[f"batch{i}-{len(b)}-cases" for i, b in enumerate(BATCHES)])
def test_tolerated_cases(cases, published, tmp_path):
    """Tolerated cases built together: the build publishes, and every case's rejected rows (no more, no
    fewer) are added to those of the clean base. (Several cases may break rows of one small table: a
    batch may lose 90% of a table.)"""
    shutil.copytree(published / "wh", tmp_path / "wh")
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    runner = CliRunner(env={"SALES_INSIGHTS_WAREHOUSE": str(warehouse),
                            "SALES_INSIGHTS_EXPORT_DIR": str(tmp_path / "exports"), SHARE_ENV: "0.9"})
    data = _merged_data_dir(cases, tmp_path / "data")
    result = runner.invoke(main, ["build", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    added = sorted((_rejected(warehouse) - _rejected(published / "wh" / "warehouse.duckdb")).elements())
    unmatched = list(added)
    for case in cases:
        for table, column, reason, *line in CASES[case]["rejected"]:
            match = next((r for r in unmatched if r[0] == table and r[1] == column and reason in r[2]
                          and line in ([], [r[3]])), None)
            assert match is not None, (case, table, column, reason, *line, added)
            unmatched.remove(match)
    assert not unmatched, (cases, unmatched)
    # Freshness reads the newest accepted data: an event or order dated in the future (rejected) never makes
    # a freshness objective pass; each source's newest data is the clean base's.
    base = CliRunner(env={"SALES_INSIGHTS_WAREHOUSE": str(published / "wh" / "warehouse.duckdb"),
                          "SALES_INSIGHTS_EXPORT_DIR": str(published / "exports")})
    assert _newest_data(runner) == _newest_data(base) and len(_newest_data(base)) == 2


def _newest_data(runner: CliRunner) -> dict[str, str]:
    """The freshness objectives' newest GA4 event and Shopify order, which must be in the past."""
    results = json.loads(runner.invoke(main, ["slo", "--json"]).output)
    newest = {}
    for result in results:
        if result["name"].endswith("_freshness"):
            when, age = result["measured"].rsplit(", ", 1)
            assert float(age.removesuffix(" h old").replace(",", "")) > 0, result
            newest[result["name"]] = when
    return newest


@pytest.mark.parametrize("case", ALONE)
def test_bad_input(case, published, tmp_path):
    expected = CASES[case]
    shutil.copytree(published / "wh", tmp_path / "wh")
    shutil.copytree(published / "exports", tmp_path / "exports", symlinks=True)
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    exports = tmp_path / "exports"
    before_warehouse, before_exports = _digest(warehouse), _tree(exports)
    latest_before = (exports / "latest").resolve()
    env = {"SALES_INSIGHTS_WAREHOUSE": str(warehouse), "SALES_INSIGHTS_EXPORT_DIR": str(exports)}
    share = expected.get("max_bad_row_share", 0.5)
    env[SHARE_ENV] = None if share == "default" else str(share)
    runner = CliRunner(env=env)
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
