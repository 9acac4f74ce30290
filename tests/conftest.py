"""Shared fixtures: small data sets built by hand or by the generator, and isolated warehouses."""

from __future__ import annotations

import contextlib
import csv
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from sales_insights.config import SHARE_ENV, SHOP_SETTINGS, load_settings
from sales_insights.devtools.generate import GeneratorConfig, generate
from sales_insights.pipeline.build import build
from sales_insights.pipeline.data_source import DataSource
from sales_insights.quality.raw_contract import TABLES_BY_NAME

PROJECT_DIR = Path(__file__).resolve().parents[1]

# The shop's settings in a developer's shell would change what every build of the tests gives; the tests
# that want them set them.
for _, _variable in SHOP_SETTINGS.values():
    os.environ.pop(_variable, None)

# A pytest-xdist worker's __main__ (execnet's) has neither __spec__ nor __file__, which pyspark's Spark
# Connect module, imported by Great Expectations when pyspark is installed, takes for a doctest run: it
# then calls sys.exit(0) in the middle of an import. Name the worker's main module for it.
if "PYTEST_XDIST_WORKER" in os.environ and not hasattr(sys.modules["__main__"], "__file__"):
    sys.modules["__main__"].__file__ = "<pytest-xdist worker>"

# The test files that take longest (a minute or more of builds), first: `make test` runs files on two
# workers (pytest-xdist --dist loadfile), which take them in this order, so no long file starts last.
HEAVIEST_FIRST = ("test_spark.py", "test_corpus.py", "test_funnel_incremental.py", "test_ga4_export.py",
                  "test_shopify_layouts.py", "test_catalog_mess.py", "test_build.py", "test_cli.py",
                  "test_experiments.py", "test_report_grain.py", "test_bench.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's tests keep their order


def built_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder that `make` fills, once per test run: on pytest-xdist workers the first one to ask builds it
    where every worker sees it, and the others wait for it and use it (they must only read it)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        root = tmp_path_factory.mktemp(name)
        make(root)
        return root
    shared = tmp_path_factory.getbasetemp().parent
    root = shared / name
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".complete").is_file():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            make(root)
            (root / ".complete").touch()
    return root


@contextlib.contextmanager
def bad_row_share(share: str):
    """SALES_INSIGHTS_MAX_BAD_ROW_SHARE for the builds inside, where monkeypatch cannot reach (module-scoped
    fixtures): a hand-made store that breaks rows on purpose loses more of its few rows than the default 1%."""
    before = os.environ.get(SHARE_ENV)
    os.environ[SHARE_ENV] = share
    try:
        yield
    finally:
        if before is None:
            del os.environ[SHARE_ENV]
        else:
            os.environ[SHARE_ENV] = before


def write_table(data_dir: Path, table: str, rows: list[dict], columns: list[str] | None = None) -> Path:
    """Write one contract CSV; columns missing from a row are left empty (NULL)."""
    columns = columns or TABLES_BY_NAME[table].column_names
    path = data_dir / f"{table}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


@pytest.fixture(scope="session")
def small_generated(tmp_path_factory) -> Path:
    """A small generated store (with the planted bad rows)."""
    out = tmp_path_factory.mktemp("generated")
    generate(out, GeneratorConfig(seed=7, users=4000, days=150))
    return out


@pytest.fixture(scope="session")
def clean_generated(tmp_path_factory) -> Path:
    """A small generated store without planted bad rows."""
    out = tmp_path_factory.mktemp("clean")
    generate(out, GeneratorConfig(seed=11, users=1500, days=90, bad_rows=False))
    return out


def build_generated_store(root: Path, config: GeneratorConfig):
    """Generate a store into root/data and build it into root/warehouse.duckdb: (warehouse, shortlist)."""
    generate(root / "data", config)
    result = build(load_settings(), DataSource("directory", root / "data", "generated"), root / "warehouse.duckdb")
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        shortlist = con.sql("select * from marts.fct_experiment_shortlist order by rank").df()
    return result.warehouse, shortlist


@pytest.fixture(scope="session")
def planted_store(tmp_path_factory):
    """The default mock store (a year, 100,000 visitors, the planted opportunities), built once for the run."""
    root = built_once(tmp_path_factory, "planted", lambda root: build_generated_store(root, GeneratorConfig()))
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return warehouse, con.sql("select * from marts.fct_experiment_shortlist order by rank").df()


def _seeds_env(root: Path) -> dict[str, str]:
    env = {**os.environ, "SALES_INSIGHTS_DBT_WAREHOUSE": str(root / "seeds.duckdb"),
           # the project's target/ and logs/ would be shared by the workers running the suite
           "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs")}
    env.pop("USE_MOCK_DATA", None)
    return env


def _build_seeds(root: Path) -> None:
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run([str(dbt), "build", "--profiles-dir", "profiles"], cwd=PROJECT_DIR, env=_seeds_env(root),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.fixture(scope="session")
def committed_seeds_build(tmp_path_factory):
    """The committed mock seeds built by plain `dbt build --profiles-dir profiles`, as a dbt user would after a
    fresh clone: (warehouse, the environment dbt ran with)."""
    root = built_once(tmp_path_factory, "seeds", _build_seeds)
    return root / "seeds.duckdb", _seeds_env(root)


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """Settings pointing the warehouse and the generated mock data into tmp_path."""
    monkeypatch.setenv("SALES_INSIGHTS_WAREHOUSE", str(tmp_path / "wh" / "warehouse.duckdb"))
    monkeypatch.setenv("SALES_INSIGHTS_MOCK_DIR", str(tmp_path / "mock"))
    monkeypatch.setenv("SALES_INSIGHTS_EXPORT_DIR", str(tmp_path / "exports"))
    for name in ("USE_MOCK_DATA", "ENABLE_MCP", "SALES_INSIGHTS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return load_settings()
