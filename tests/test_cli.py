"""The click CLI end to end: generate, build, run, status, and clear errors with a non-zero exit."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.build import read_build_info
from sales_insights.cli import main
from sales_insights.config import load_project_config, load_settings
from sales_insights.contract import TABLES, TABLES_BY_NAME, seed_properties_yaml
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline import run_main
from sales_insights.sources import resolve_source


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
    assert "loading the raw files" not in result.output  # no progress lines when not at a terminal
    con = duckdb.connect(str(isolated_env.warehouse), read_only=True)
    orders = con.execute("select count(*) from staging.stg_shopify__orders").fetchone()[0]
    raw_orders = sum(1 for _ in (clean_generated / "raw_shopify_orders.csv").open()) - 1
    assert orders == raw_orders  # clean data: nothing rejected
    con.close()

    status = runner.invoke(main, ["status", "--json"])
    state = json.loads(status.output)
    assert state["use_mock_data"] is True and state["mcp_blocked"] is False
    assert state["last_build"]["data_source"] == "directory"
    assert state["last_build_attempt"]["outcome"] == "published"
    assert state["last_validation"]["build_id"] == state["last_build"]["build_id"]
    assert state["last_export"] is None
    slo = {r["name"]: r["status"] for r in state["slo"]}
    # a fresh build of old data: built in time, every check passed, but the data is stale; not exported yet,
    # which on a fresh install is not a breach (no deadline has passed since its first build)
    assert slo == {"ga4_freshness": "breach", "shopify_freshness": "breach", "build_duration": "pass",
                   "contract_pass_rate": "pass", "export_delivery": "pending", "tracking_coverage": "pass"}
    text = runner.invoke(main, ["status"]).output
    validation = state["last_validation"]
    assert f"contracts:    {validation['passed']}/{validation['expectations']} expectations passed" in text
    assert "last export:  none" in text
    assert ("SLOs:         3 of 5 met; breached: ga4_freshness, shopify_freshness; not yet due: export_delivery "
            "(details: `sales-insights slo`)") in text


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
    # and with the report of the same build beside the export folders
    report = isolated_env.export_dir / "report.html"
    assert f"Report of build {manifest['build_id']}: {report}" in result.output
    assert f"build {manifest['build_id']}" in report.read_text(encoding="utf-8")
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
    assert state["missing_mcp_variables"] == [
        "SALES_INSIGHTS_MCP_GA4_COMMAND or SALES_INSIGHTS_MCP_GA4_URL",
        "SALES_INSIGHTS_MCP_SHOPIFY_COMMAND or SALES_INSIGHTS_MCP_SHOPIFY_URL", "SALES_INSIGHTS_GA4_PROPERTY_ID"]
    assert state["notes"][0].startswith("blocked on MCP data")
    text = runner.invoke(main, ["status"])
    assert "blocked on MCP data" in text.output

    monkeypatch.setenv("USE_MOCK_DATA", "false")
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 1
    assert "blocked on MCP data" in result.output and "USE_MOCK_DATA=true" in result.output


def test_status_in_mock_mode_before_anything_ran(runner, isolated_env):
    text = runner.invoke(main, ["status"])
    assert text.exit_code == 0, text.output
    assert "data mode:    mock data (USE_MOCK_DATA=true, ENABLE_MCP=false)" in text.output
    assert "MCP extracts: none in" in text.output
    assert "last build:   none yet" in text.output
    assert "SLOs:         0 of 6 met" in text.output
    state = json.loads(runner.invoke(main, ["status", "--json"]).output)
    assert state["mcp_blocked"] is False and state["notes"] == []
    assert state["last_build"] is None and state["last_build_attempt"] is None and state["last_export"] is None
    assert {r["status"] for r in state["slo"]} == {"breach"}


def test_mcp_configured_without_extracts_is_still_blocked(runner, isolated_env, monkeypatch, tmp_path):
    monkeypatch.setenv("ENABLE_MCP", "true")
    monkeypatch.setenv("SALES_INSIGHTS_MCP_GA4_COMMAND", "ga4-mcp")
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_URL", "https://mcp.example.com/mcp")
    monkeypatch.setenv("SALES_INSIGHTS_GA4_PROPERTY_ID", "123456789")
    monkeypatch.setenv("SALES_INSIGHTS_EXTRACT_DIR", str(tmp_path / "extracts"))
    state = json.loads(runner.invoke(main, ["status", "--json"]).output)
    assert state["mcp_blocked"] is True and state["missing_mcp_variables"] == []
    assert "no complete extract is in" in state["notes"][0] and "sales-insights extract --since" in state["notes"][0]
    assert state["mcp_extracts"] == {"directory": str(tmp_path / "extracts"), "present": False, "files": 0,
                                     "newest": None, "fresh": False, "days": {}}
    for day in ("2026-11-23", "2026-11-24"):
        (tmp_path / "extracts" / "shopify" / day).mkdir(parents=True)
        (tmp_path / "extracts" / "shopify" / day / "raw_shopify_orders.csv").write_text("id\n1\n")
    text = runner.invoke(main, ["status"]).output
    assert "MCP extracts: 2 file(s), newest" in text and "(fresh)" in text and "blocked on MCP data" in text
    assert "shopify: 2 day(s) extracted, 2026-11-23 to 2026-11-24" in text
    # the freshness objectives allow 36 hours: an extract two days old is stale
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    state = json.loads(runner.invoke(main, ["status", "--json", "--now", later]).output)
    assert state["mcp_extracts"]["present"] is True and state["mcp_extracts"]["fresh"] is False
    # A complete current/ (Shopify, and GA4 at report grain): not blocked. USE_MOCK_DATA=true keeps the
    # mocks even so; with USE_MOCK_DATA=false a build reads the extracts.
    current = tmp_path / "extracts" / "current"
    current.mkdir()
    for table in [t.name for t in TABLES if t.source == "shopify"] + ["ga4_funnel_report"]:
        (current / f"{table}.csv").write_text(",".join(TABLES_BY_NAME[table].column_names) + "\n")
    (current / "raw_ga4_events.csv").write_text("x\n")  # GA4 at both grains: not a data directory
    assert json.loads(runner.invoke(main, ["status", "--json"]).output)["mcp_blocked"] is True
    (current / "raw_ga4_events.csv").unlink()
    state = json.loads(runner.invoke(main, ["status", "--json"]).output)
    assert state["mcp_blocked"] is False and state["notes"][0].startswith("MCP extracts ready in")
    assert "USE_MOCK_DATA=true keeps the build on mock data" in state["notes"][0]
    assert resolve_source(load_settings()).kind == "seeds"
    monkeypatch.setenv("USE_MOCK_DATA", "false")
    source = resolve_source(load_settings())
    assert source.kind == "directory" and source.path == current
    (current / "raw_shopify_orders.csv").unlink()
    with pytest.raises(SalesInsightsError, match="no complete extract is in .*USE_MOCK_DATA=false"):
        resolve_source(load_settings())


def test_a_second_run_is_refused_while_one_runs(isolated_env, tmp_path):
    lock = isolated_env.warehouse.with_name(isolated_env.warehouse.name + ".job.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from sales_insights.locks import exclusive_lock\n"
         "with exclusive_lock(Path(sys.argv[1]), 'sales-insights run'):\n print('locked', flush=True); "
         "time.sleep(30)", str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SalesInsightsError, match=r"another sales-insights run is running \(pid \d+ since "):
            run_main(isolated_env)
    finally:
        holder.kill()
        holder.wait()
    assert not isolated_env.warehouse.exists()  # refused before doing anything


def test_a_flag_that_is_not_a_boolean_is_an_error(runner, monkeypatch):
    monkeypatch.setenv("USE_MOCK_DATA", "sometimes")
    result = runner.invoke(main, ["status"])
    assert result.exit_code == 1
    assert "USE_MOCK_DATA='sometimes'" in result.output


def _cli_lines(block: str) -> list[list[str]]:
    """The sales-insights invocations in a shell line or a unit file, as argument lists."""
    invocations = []
    for part in re.split(r"&&|;|\n|>>", block):
        words = shlex.split(part.split("=", 1)[1] if part.strip().startswith("Exec") else part)
        if words and (words[0] == "sales-insights" or words[0].endswith("/bin/sales-insights")):
            invocations.append(words[1:])
    return invocations


def test_the_readme_schedules_commands_the_cli_accepts():
    readme = (PROJECT_DIR / "README.md").read_text()
    cron = re.search(r"```cron\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    units = re.search(r"```ini\n(.*?)```", readme, re.S).group(1)
    times, invocations = [], []
    for line in cron:
        minute, hour, day, month, weekday, command = line.split(maxsplit=5)
        assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24 and (day, month, weekday) == ("*", "*", "*")
        times.append(f"{int(hour):02d}:{int(minute):02d}")
        invocations += _cli_lines(command)
    assert re.findall(r"^OnCalendar=\*-\*-\* (\d\d:\d\d):00 UTC$", units, re.M) == times
    assert units.count("Type=oneshot") == 2 and units.count("WantedBy=timers.target") == 2
    invocations += _cli_lines("\n".join(line for line in units.splitlines() if line.startswith("ExecStart")))
    assert [args[0] for args in invocations] == ["run", "slo", "run", "slo"]
    for args in invocations:  # options and values the CLI accepts (parsed, not run)
        name, command_obj, rest = main.resolve_command(main.make_context("sales-insights", list(args)), list(args))
        command_obj.make_context(name, rest)
    # the job runs before the export deadline the SLOs check, and the check after it
    deadline = load_project_config(PROJECT_DIR).slo.export_deadline
    assert times[0] < deadline <= times[1]


def test_progress_is_shown_at_a_terminal_and_quiet_when_piped_or_in_ci(monkeypatch, capsys):
    from sales_insights import cli

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    cli._progress("dbt build (full)")
    assert capsys.readouterr().err == "dbt build (full)\n"
    monkeypatch.setenv("CI", "true")
    cli._progress("dbt build (full)")
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    cli._progress("dbt build (full)")
    assert capsys.readouterr().err == ""
