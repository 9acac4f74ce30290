"""The click CLI end to end: generate, build, run, status, and clear errors with a non-zero exit."""

from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.build import read_build_info
from sales_insights.cli import main
from sales_insights.config import load_project_config
from sales_insights.contract import TABLES, seed_properties_yaml


@pytest.fixture
def runner():
    return CliRunner()


def test_seed_properties_match_the_contract():
    committed = (PROJECT_DIR / "seeds" / "mock" / "_mock__seeds.yml").read_text()
    assert committed == seed_properties_yaml()
    for t in TABLES:
        assert (PROJECT_DIR / "seeds" / "mock" / t.file_name).is_file()


def test_generate_writes_the_seven_tables(runner, tmp_path):
    result = runner.invoke(main, ["generate", "--out", str(tmp_path), "--users", "300", "--days", "20"])
    assert result.exit_code == 0, result.output
    for t in TABLES:
        assert t.name in result.output
        assert (tmp_path / t.file_name).is_file()


@pytest.mark.dbt
def test_build_from_a_data_dir_then_status(runner, isolated_env, clean_generated):
    result = runner.invoke(main, ["build", "--data-dir", str(clean_generated), "--quiet"])
    assert result.exit_code == 0, result.output
    assert f"Built {isolated_env.warehouse}" in result.output
    con = duckdb.connect(str(isolated_env.warehouse), read_only=True)
    orders = con.execute("select count(*) from staging.stg_shopify__orders").fetchone()[0]
    raw_orders = sum(1 for _ in (clean_generated / "raw_shopify_orders.csv").open()) - 1
    assert orders == raw_orders  # clean data: nothing rejected
    con.close()

    status = runner.invoke(main, ["status", "--json"])
    state = json.loads(status.output)
    assert state["use_mock_data"] is True and state["mcp_blocked"] is False
    assert state["last_build"]["data_source"] == "directory"


@pytest.mark.dbt
def test_run_generates_builds_and_says_how_to_query(runner, isolated_env):
    result = runner.invoke(main, ["run", "--users", "600", "--days", "40", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Generated mock data" in result.output
    assert f"Warehouse: {isolated_env.warehouse}" in result.output
    assert "duckdb -readonly" in result.output
    assert (isolated_env.mock_data_dir / "generator.json").is_file()
    # the main job ends with the CSV exports of the configured marts, `latest` pointing at them
    latest = isolated_env.export_dir / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["build_id"] == read_build_info(isolated_env.warehouse)["build_id"]
    assert manifest["marts"] == list(load_project_config(isolated_env.project_dir).export_marts)
    assert "fct_experiment_shortlist" in manifest["marts"]
    assert all((latest / f["file"]).is_file() for f in manifest["files"])
    again = runner.invoke(main, ["run", "--users", "600", "--days", "40", "--quiet"])
    assert again.exit_code == 0 and "Generated mock data" not in again.output
    # a new build, a new export folder; both kept
    assert (isolated_env.export_dir / "latest").resolve() != latest.parent / manifest["build_id"]
    assert len([p for p in isolated_env.export_dir.iterdir() if p.is_dir() and not p.is_symlink()]) == 2


def test_bad_input_exits_non_zero_with_file_and_column(runner, isolated_env, clean_generated, tmp_path):
    data = tmp_path / "bad"
    data.mkdir()
    for t in TABLES:
        (data / t.file_name).write_bytes((clean_generated / t.file_name).read_bytes())
    path = data / "raw_shopify_customers.csv"
    path.write_text(path.read_text().replace("accepts_marketing", "marketing_ok", 1))
    result = runner.invoke(main, ["build", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 1
    assert "raw_shopify_customers.csv" in result.output
    assert "missing required column(s) accepts_marketing" in result.output
    assert "Traceback" not in result.output
    assert not isolated_env.warehouse.exists()


def test_real_data_mode_without_data_says_what_to_do(runner, isolated_env, monkeypatch):
    monkeypatch.setenv("USE_MOCK_DATA", "false")
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 1
    assert "USE_MOCK_DATA=false needs real data" in result.output


def test_mcp_enabled_but_unconfigured_is_reported_as_blocked(runner, isolated_env, monkeypatch):
    monkeypatch.setenv("ENABLE_MCP", "true")
    status = runner.invoke(main, ["status", "--json"])
    state = json.loads(status.output)
    assert state["mcp_blocked"] is True
    assert "SALES_INSIGHTS_MCP_GA4_COMMAND" in state["missing_mcp_variables"]
    assert state["notes"][0].startswith("blocked on MCP data")
    text = runner.invoke(main, ["status"])
    assert "blocked on MCP data" in text.output

    monkeypatch.setenv("USE_MOCK_DATA", "false")
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 1
    assert "blocked on MCP data" in result.output and "USE_MOCK_DATA=true" in result.output


def test_a_flag_that_is_not_a_boolean_is_an_error(runner, monkeypatch):
    monkeypatch.setenv("USE_MOCK_DATA", "sometimes")
    result = runner.invoke(main, ["status"])
    assert result.exit_code == 1
    assert "USE_MOCK_DATA='sometimes'" in result.output
