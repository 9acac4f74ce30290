"""The click CLI end to end: generate, build, run, status, and clear errors with a non-zero exit."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import duckdb
import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.cli import main
from sales_insights.config import load_project_config, load_settings
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.build import read_build_info
from sales_insights.pipeline.data_source import resolve_source
from sales_insights.pipeline.main_job import run_main
from sales_insights.quality.raw_contract import TABLES, TABLES_BY_NAME, seed_properties_yaml


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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plain_dbt(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """dbt as a dbt user types it (`dbt build --profiles-dir profiles` in the project), run from `cwd` so that
    the profile's default file, warehouse/dev.duckdb, lands under it and not in the checkout (which has the
    folder warehouse/, as a clone does)."""
    (cwd / "warehouse").mkdir(parents=True, exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if k not in ("SALES_INSIGHTS_DBT_WAREHOUSE", "USE_MOCK_DATA")}
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR / "profiles"),
         "--target-path", str(cwd / "target"), "--log-path", str(cwd / "logs")],
        cwd=cwd, env={**environ, **env}, capture_output=True, text=True)


def _built(dbt_output: str) -> list[str]:
    """The lines of dbt's output saying a model was built."""
    return re.findall(r"\d+ of \d+ OK created .*", dbt_output)


def _one_source(warehouse: Path) -> str:
    """The one data source every model of `warehouse` was built from (fails on a mixed warehouse), checked
    against the marts: every session of the staged events is in fct_sessions, the headline counts are the
    marts' counts."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sources = con.execute("select distinct data_source from meta.model_data_sources").fetchall()
        assert len(sources) == 1, sources
        staged, built, headline_sessions, orders, headline_orders = con.execute("""
            select
                (select count(distinct (user_pseudo_id, ga_session_id)) from staging.stg_ga4__events),
                (select count(*) from marts.fct_sessions),
                (select metric_value from marts.fct_headline_metrics
                 where metric = 'sessions' and period = 'all_time'),
                (select count(*) from marts.fct_orders where is_valid),
                (select metric_value from marts.fct_headline_metrics where metric = 'orders' and period = 'all_time')
        """).fetchone()
    assert staged == built == headline_sessions and orders == headline_orders
    return sources[0][0]


@pytest.mark.dbt
def test_the_newcomer_path_run_query_plain_dbt_build_and_run_again(runner, isolated_env, tmp_path, monkeypatch):
    """What the README has a new user do: `make run`'s job, the query it prints, a plain `dbt build`, the CLI
    again. dbt never touches the published file by default; pointed at it, it rebuilds every model from its
    own source (no mix) and the file stops counting as a published build until the CLI builds it again."""
    result = runner.invoke(main, ["run", "--users", "600", "--days", "40", "--quiet"])
    assert result.exit_code == 0, result.output
    published = isolated_env.warehouse
    assert "Generated mock data" in result.output
    assert f"Warehouse: {published}" in result.output
    assert (isolated_env.mock_data_dir / "generator.json").is_file()
    # the main job ends with the CSV exports of the configured marts, `latest` pointing at them
    latest = isolated_env.export_dir / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["build_id"] == read_build_info(published)["build_id"]
    assert manifest["marts"] == list(load_project_config(isolated_env.project_dir).export_marts)
    assert all((latest / f["file"]).is_file() for f in manifest["files"])
    # and with the report of the same build beside the export folders
    report = isolated_env.export_dir / "report.html"
    assert f"Report of build {manifest['build_id']}: {report}" in result.output
    assert f"build {manifest['build_id']}" in report.read_text(encoding="utf-8")
    generated = _one_source(published)
    assert generated.startswith(f"the raw schema loaded from {isolated_env.mock_data_dir} ")
    # status names what each raw table's rejects cost: the generator's rows broken on purpose are the loss
    made = json.loads((isolated_env.mock_data_dir / "generator.json").read_text())
    status = runner.invoke(main, ["status"]).output
    for table, lost in made["planted_losses"].items():
        if lost:
            assert re.search(rf"^ +{table} [0-9]+ \({lost} lost of {made['row_counts'][table]:,} rows[;)]",
                             status, re.M), (table, status)

    # the query it prints runs as printed, read-only, with what the install has
    printed = [line.strip() for line in result.output.splitlines() if " sql " in line]
    assert len(printed) == 1 and "duckdb -readonly" not in result.output
    query = subprocess.run(shlex.split(printed[0]), capture_output=True, text=True)
    assert query.returncode == 0 and "orphan line" in query.stdout, query.stdout + query.stderr

    # and so does each line of the README's "Querying it", from the project folder
    section = (PROJECT_DIR / "README.md").read_text(encoding="utf-8").split("## Querying it", 1)[1].split("\n## ", 1)[0]
    commands = re.search(r"```bash\n(.*?)```", section, re.S).group(1).splitlines()
    bin_dir, venv_bin = Path(sys.executable).parent, PROJECT_DIR / ".venv" / "bin"
    for command in commands:
        if not venv_bin.is_dir() or venv_bin.resolve() != bin_dir.resolve():
            command = command.replace(".venv/bin/", f"{bin_dir}/")  # the suite runs in another environment
        done = subprocess.run(["bash", "-c", command], cwd=PROJECT_DIR, input="select 42 as answer;\n",
                              capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.strip() and not done.stderr, (command, done.stdout, done.stderr)
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    snippet = snippet.replace('"warehouse/sales_insights.duckdb"', repr(str(published)))
    done = subprocess.run([sys.executable, "-c", snippet], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert done.returncode == 0 and "orphan line" in done.stdout, done.stdout + done.stderr

    # plain `dbt build` writes its own file, warehouse/dev.duckdb: the published one stays byte for byte
    before = _sha256(published)
    plain = _plain_dbt(["build"], tmp_path / "checkout")
    assert plain.returncode == 0, plain.stdout[-3000:]
    assert _sha256(published) == before
    assert _one_source(tmp_path / "checkout" / "warehouse" / "dev.duckdb").startswith("the committed mock seeds")

    # a build of some models from another source would leave the rest beside it: refused, nothing built,
    # and the file is still the published build
    with duckdb.connect(str(published), read_only=True) as con:
        orders_before = con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    partial = _plain_dbt(["build", "--select", "fct_orders"], tmp_path / "checkout",
                         SALES_INSIGHTS_DBT_WAREHOUSE=str(published))
    assert partial.returncode == 1 and "does not select" in partial.stdout, partial.stdout[-3000:]
    assert "No model was built" in partial.stdout and not _built(partial.stdout)
    assert _one_source(published) == generated
    assert read_build_info(published)["build_id"] == manifest["build_id"]
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_orders").fetchone()[0] == orders_before

    # pointed at the published file, dbt rebuilds every model from the seeds: one source, no mix ...
    explicit = _plain_dbt(["build"], tmp_path / "checkout", SALES_INSIGHTS_DBT_WAREHOUSE=str(published))
    assert explicit.returncode == 0, explicit.stdout[-3000:]
    assert _one_source(published).startswith("the committed mock seeds")
    # ... and the file is no longer the build the CLI checked: status says so, export refuses it
    assert read_build_info(published) is None
    status = runner.invoke(main, ["status"]).output
    assert "last build:   none checked: `dbt build` wrote this file outside sales-insights" in status
    refused = runner.invoke(main, ["export"])
    assert refused.exit_code == 1 and "no meta.build_info" in refused.output
    checks = {r["name"]: r for r in json.loads(runner.invoke(main, ["slo", "--json"]).output)}["contract_pass_rate"]
    assert checks["status"] == "breach" and "unchecked: `dbt build` rebuilt models" in checks["measured"]
    # a dbt command on a warehouse that mixes two sources (say a run was killed halfway) is refused
    with duckdb.connect(str(published)) as con:
        con.execute("update meta.model_data_sources set data_source = 'another store' "
                    "where model = 'model.sales_insights.fct_orders'")
    mixed = _plain_dbt(["test", "--select", "fct_sessions"], tmp_path / "checkout",
                       SALES_INSIGHTS_DBT_WAREHOUSE=str(published))
    assert mixed.returncode == 1 and "The warehouse holds models built from 2 data sources" in mixed.stdout
    assert "1 from another store (fct_orders)" in mixed.stdout

    # the CLI again: a full build of its own source, consistent, exported again
    again = runner.invoke(main, ["run", "--users", "600", "--days", "40", "--quiet"])
    assert again.exit_code == 0 and "Generated mock data" not in again.output, again.output
    assert "(full build)" in again.output
    assert _one_source(published) == generated
    assert (isolated_env.export_dir / "latest").resolve() != latest.parent / manifest["build_id"]
    assert len([p for p in isolated_env.export_dir.iterdir() if p.is_dir() and not p.is_symlink()]) == 2

    # dbt on the raw schema with GA4 vars other than the ones it was loaded with: refused, naming the vars
    wrong = _plain_dbt(["build", "--vars", "{ga4_grain: report}"], tmp_path / "checkout", USE_MOCK_DATA="false",
                       SALES_INSIGHTS_DBT_WAREHOUSE=str(published))
    assert wrong.returncode == 1 and "Run it with --vars '{ga4_grain: events, ga4_layout: csv}'" in wrong.stdout
    assert read_build_info(published) is not None and _one_source(published) == generated

    # another warehouse's exports and report go beside it, never into this one's exports/
    monkeypatch.delenv("SALES_INSIGHTS_EXPORT_DIR")
    other = tmp_path / "elsewhere" / "shop.duckdb"
    other.parent.mkdir()
    shutil.copyfile(published, other)
    exported = runner.invoke(main, ["export", "--warehouse", str(other)])
    drawn = runner.invoke(main, ["report", "--warehouse", str(other)])
    assert exported.exit_code == 0 and drawn.exit_code == 0, exported.output + drawn.output
    assert (tmp_path / "elsewhere" / "shop_exports" / "latest" / "manifest.json").is_file()
    assert (tmp_path / "elsewhere" / "shop_exports" / "report.html").is_file()
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
         "import sys, time; from pathlib import Path; from sales_insights.pipeline.locks import exclusive_lock\n"
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


def test_the_operations_page_schedules_commands_the_cli_accepts():
    """The cron lines and systemd units of docs/operations.md ("Running it every night") run commands the CLI
    accepts, the job before the export deadline and the SLO check after it."""
    page = (PROJECT_DIR / "docs" / "operations.md").read_text(encoding="utf-8")
    cron = re.search(r"```cron\n(.*?)```", page, re.S).group(1).strip().splitlines()
    units = re.search(r"```ini\n(.*?)```", page, re.S).group(1)
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
    from sales_insights.cli import output

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    output.progress("dbt build (full)")
    assert capsys.readouterr().err == "dbt build (full)\n"
    monkeypatch.setenv("CI", "true")
    output.progress("dbt build (full)")
    monkeypatch.delenv("CI")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    output.progress("dbt build (full)")
    assert capsys.readouterr().err == ""


def test_sql_and_shell_query_the_warehouse_read_only(runner, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.orders as select * from (values (1, 'gift card', 20.5), "
                    "(2, 'mug, blue', 12.0)) as t(order_id, title, total)")
    before = _sha256(warehouse)
    where = ["--warehouse", str(warehouse)]

    table = runner.invoke(main, ["sql", *where, "select * from marts.orders order by order_id"])
    assert table.exit_code == 0, table.output
    assert "│ order_id │   title   │" in table.output and "│        2 │ mug, blue │         12.0 │" in table.output
    csv = runner.invoke(main, ["sql", *where, "--format", "csv", "select * from marts.orders order by order_id"])
    assert csv.output == 'order_id,title,total\n1,gift card,20.5\n2,"mug, blue",12.0\n'
    lines = runner.invoke(main, ["sql", *where, "--format", "json", "-"], input="select order_id from marts.orders "
                          "order by 1").output.splitlines()
    assert [json.loads(line) for line in lines] == [{"order_id": 1}, {"order_id": 2}]
    wide = runner.invoke(main, ["sql", *where, "--max-rows", "1", "select * from range(100)"])
    assert "100 rows" in wide.output and "(1 shown)" in wide.output and "│         0 │" in wide.output

    write = runner.invoke(main, ["sql", *where, "delete from marts.orders"])
    assert write.exit_code == 1 and "read-only" in write.output
    missing = runner.invoke(main, ["sql", "--warehouse", str(tmp_path / "none.duckdb"), "select 1"])
    assert missing.exit_code == 1 and "no warehouse there yet" in missing.output

    # piped, the shell runs a script: statements over several lines, dot commands, errors named
    script = (".tables\nselect title\n  from marts.orders\n  where order_id = 2; -- the mug\nselect nope;\n"
              ".schema orders\n")
    shell = runner.invoke(main, ["shell", *where], input=script)
    assert shell.exit_code == 1  # a statement failed
    assert "marts: orders" in shell.output and "mug, blue" in shell.output
    assert 'error: Binder Error: Referenced column "nope"' in shell.output
    assert "marts.orders.total DECIMAL(3,1)" in shell.output
    fine = runner.invoke(main, ["shell", *where], input="select count(*) as n from marts.orders;\n")
    assert fine.exit_code == 0 and "│     2 │" in fine.output
    unfinished = runner.invoke(main, ["shell", *where], input="select 1\n")
    assert unfinished.exit_code == 1 and "no closing semicolon" in unfinished.output
    assert _sha256(warehouse) == before


def test_make_run_installs_only_what_the_main_job_needs():
    """`make run` installs the package alone; the developer tools come with `make test`."""
    def installs(target: str) -> list[str]:
        plan = subprocess.run(["make", "-n", "-B", target], cwd=PROJECT_DIR, capture_output=True, text=True)
        assert plan.returncode == 0, plan.stderr
        return [line for line in plan.stdout.splitlines() if "pip install" in line]

    run = installs("run")
    assert run and all(line.endswith("-c constraints.txt -e .") for line in run), run
    assert any("'.[dev" in line for line in installs("test"))


def test_run_makes_the_mock_store_again_when_the_generator_changed(tmp_path):
    from sales_insights.devtools.generate import GeneratorConfig
    from sales_insights.pipeline.main_job import GENERATED_BY, ensure_mock_data

    config = GeneratorConfig(users=300, days=10)
    assert ensure_mock_data(tmp_path, config) is True
    assert ensure_mock_data(tmp_path, config) is False  # the same settings and code: kept
    (tmp_path / GENERATED_BY).write_text("made by older code\n")
    assert ensure_mock_data(tmp_path, config) is True  # after a `git pull` that changed the generator
    assert ensure_mock_data(tmp_path, GeneratorConfig(users=301, days=10)) is True


def test_the_readmes_cli_table_lists_every_command_with_options_it_accepts():
    """The table in "## The CLI" names each command once, and every option it shows is one the command has."""
    section = (PROJECT_DIR / "README.md").read_text(encoding="utf-8").split("## The CLI", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `sales-insights (\S+)([^`]*)` \|", section, re.M)
    assert sorted(name for name, _ in rows) == sorted(main.commands)
    for name, usage in rows:
        accepted = {opt for param in main.commands[name].params for opt in (*param.opts, *param.secondary_opts)}
        shown = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", usage))
        assert shown <= accepted, (name, shown - accepted)


def test_run_with_another_warehouse_exports_and_reports_beside_it(tmp_path, monkeypatch):
    """`run --warehouse W` publishes W and writes its exports and report in W_exports/ beside it; with
    SALES_INSIGHTS_EXPORT_DIR set, there. (The build, export and report themselves are stubbed: other tests
    run them; this is where `run` sends them.)"""
    import sales_insights.pipeline.main_job as pipeline
    from sales_insights.pipeline.build import BuildResult

    written: dict[str, Path] = {}

    def fake_build(settings, source, warehouse, *args, **kwargs):
        return BuildResult(warehouse.resolve(), source, "B1", 1.0)

    def fake_export(warehouse, out_dir, *args, **kwargs):
        written["export"] = out_dir

    def fake_report(warehouse, out, *args, **kwargs):
        written["report"] = out

    monkeypatch.setattr(pipeline, "build", fake_build)
    monkeypatch.setattr(pipeline, "export_marts", fake_export)
    monkeypatch.setattr(pipeline, "write_report", fake_report)
    for name in ("SALES_INSIGHTS_EXPORT_DIR", "SALES_INSIGHTS_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    shop = tmp_path / "elsewhere" / "shop.duckdb"
    pipeline.run_main(load_settings(), data, shop)
    assert written == {"export": tmp_path / "elsewhere" / "shop_exports",
                       "report": tmp_path / "elsewhere" / "shop_exports" / "report.html"}
    # the default warehouse keeps the project's exports/
    settings = load_settings()
    assert settings.export_dir_for(settings.warehouse) == settings.export_dir == PROJECT_DIR / "exports"
    monkeypatch.setenv("SALES_INSIGHTS_EXPORT_DIR", str(tmp_path / "out"))
    pipeline.run_main(load_settings(), data, shop)
    assert written == {"export": tmp_path / "out", "report": tmp_path / "out" / "report.html"}


# The arguments each command needs to get as far as reading its settings.
_ARGUMENTS = {"generate": ["--out", "{tmp}/mock"], "extract": ["--since", "2025-06-01"], "sql": ["select 1"]}


def test_every_command_turns_a_bad_setting_into_one_line_and_no_traceback(tmp_path):
    """A user's mistake in the environment (USE_MOCK_DATA=maybe) ends each command with an `error:` line
    naming the variable and exit code 1, never a traceback; a command that reads no setting runs as usual."""
    runner = CliRunner(env={"USE_MOCK_DATA": "maybe", "SALES_INSIGHTS_WAREHOUSE": str(tmp_path / "w.duckdb")})
    reads_no_setting = {"generate"}
    assert set(_ARGUMENTS) <= set(main.commands)
    for name in sorted(main.commands):
        args = [a.format(tmp=tmp_path) for a in _ARGUMENTS.get(name, [])]
        result = runner.invoke(main, [name, *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        assert "Traceback" not in result.output, (name, result.output)
        if name in reads_no_setting:
            assert result.exit_code == 0, (name, result.output)
        else:
            assert result.exit_code == 1 and "error: " in result.output and "USE_MOCK_DATA" in result.output, (
                name, result.output)


def test_each_shared_option_is_declared_once():
    """--warehouse, --data-dir, --export-dir, --quiet, --full-refresh, --json and --now mean one thing in
    every command: the same declaration (cli/options.py), the same help. (`dbt`'s --data-dir is its own: a
    directory to load into a Spark target.)"""
    helps: dict[str, set[str]] = {}
    for name, command in main.commands.items():
        for param in command.params:
            if name != "dbt" and isinstance(param, click.Option) and param.opts[0] in (
                    "--data-dir", "--export-dir", "--quiet", "--full-refresh", "--json", "--now"):
                helps.setdefault(param.opts[0], set()).add(param.help)
    assert set(helps) == {"--data-dir", "--export-dir", "--quiet", "--full-refresh", "--json", "--now"}
    assert all(len(texts) == 1 for texts in helps.values()), helps

