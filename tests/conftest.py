"""Shared fixtures: small data sets built by hand or by the generator, and isolated warehouses."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sales_insights.config import load_settings
from sales_insights.contract import TABLES_BY_NAME
from sales_insights.generate import GeneratorConfig, generate

PROJECT_DIR = Path(__file__).resolve().parents[1]


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


@pytest.fixture
def isolated_env(tmp_path, monkeypatch):
    """Settings pointing the warehouse and the generated mock data into tmp_path."""
    monkeypatch.setenv("SALES_INSIGHTS_WAREHOUSE", str(tmp_path / "wh" / "warehouse.duckdb"))
    monkeypatch.setenv("SALES_INSIGHTS_MOCK_DIR", str(tmp_path / "mock"))
    monkeypatch.setenv("SALES_INSIGHTS_EXPORT_DIR", str(tmp_path / "exports"))
    for name in ("USE_MOCK_DATA", "ENABLE_MCP", "SALES_INSIGHTS_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return load_settings()
