"""Faults of the machine a build meets, on real processes: the CLI stopped (SIGTERM) or killed (SIGKILL) while
dbt runs, a dbt left running by an older version, a full disk. dbt is a stub that opens the new warehouse
file as dbt does and then waits, so each test takes seconds; the CLI around it is the real one."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import namedtuple
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.cli import main
from sales_insights.pipeline import build as build_module
from sales_insights.pipeline import faults
from sales_insights.pipeline.build import dbt_artefacts_dir, project_fingerprint, read_build_attempt
from sales_insights.pipeline.load import LoadReport
from sales_insights.pipeline.processes import stop_child

# The CLI as `sales-insights` runs it, but with the stub in place of the dbt beside the interpreter.
CLI = """
import sys
import sales_insights.pipeline.build
sales_insights.pipeline.build.dbt_executable = lambda: sys.argv[1]
from sales_insights.cli import main
from sales_insights.pipeline.load import LoadReport
main(sys.argv[2:], prog_name="sales-insights")
"""

# Opens the file it is to build as dbt-duckdb does (holding DuckDB's lock on it), writes the one table the
# build reads after dbt, says its pid and copies the build record it finds beside the artefacts, then
# waits STUB_DBT_SECONDS and exits 0. Told to stop (SIGTERM), it notes that it was before it exits.
STUB_DBT = """
import os, signal, sys, time
from pathlib import Path
import duckdb
def stopped(signum, frame):
    Path(os.environ["STUB_DBT_PID"] + ".sigterm").write_text("")
    sys.exit(128 + signum)
signal.signal(signal.SIGTERM, stopped)
artefacts = Path(sys.argv[sys.argv.index("--target-path") + 1]).parent
record = artefacts / "last_build.json"
Path(os.environ["STUB_DBT_RECORD"]).write_text(record.read_text() if record.exists() else "")
con = duckdb.connect(os.environ["SALES_INSIGHTS_DBT_WAREHOUSE"])
con.execute("create schema if not exists staging")
con.execute("create or replace table staging.stg_rejected_rows (source_table varchar, column_name varchar, "
            "reason varchar, rejected_value varchar, record_key varchar)")
con.execute("checkpoint")
Path(os.environ["STUB_DBT_PID"]).write_text(str(os.getpid()))
print("stub dbt running", flush=True)
time.sleep(float(os.environ["STUB_DBT_SECONDS"]))
"""

Stub = namedtuple("Stub", "env warehouse pid_file record_file script")


@pytest.fixture
def stub(tmp_path):
    """An environment whose builds (of the committed seeds, the mock default) run the stub dbt. A stub a
    failed test left running is killed after it."""
    script = tmp_path / "dbt"
    script.write_text(f"#!{sys.executable}\n" + STUB_DBT)
    script.chmod(0o755)
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR / "scripts"), "SALES_INSIGHTS_WAREHOUSE": str(warehouse),
           "SALES_INSIGHTS_EXPORT_DIR": str(tmp_path / "exports"), "STUB_DBT_PID": str(tmp_path / "dbt.pid"),
           "STUB_DBT_RECORD": str(tmp_path / "record.json"), "STUB_DBT_SECONDS": "120"}
    for name in ("USE_MOCK_DATA", "ENABLE_MCP", "SALES_INSIGHTS_DATA_DIR", "SALES_INSIGHTS_PROJECT_DIR"):
        env.pop(name, None)
    yield Stub(env, warehouse, tmp_path / "dbt.pid", tmp_path / "record.json", script)
    pid_file = tmp_path / "dbt.pid"
    if pid_file.exists() and pid_file.read_text() and not _gone(int(pid_file.read_text())):
        os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _cli(stub: Stub, *args, **env) -> subprocess.Popen:
    """The CLI started with `args` as its own process, its dbt the stub."""
    return subprocess.Popen([sys.executable, "-c", CLI, str(stub.script), *args], env={**stub.env, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} not written in {seconds} s"
        time.sleep(0.05)
    return path.read_text()


def _gone(pid: int) -> bool:
    """The process ended (a zombie not yet reaped by its new parent has ended too)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def _gone_within(pid: int, seconds: float) -> float | None:
    """Seconds until `pid` ended, or None when it still ran after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if _gone(pid):
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def _status(stub_env: dict) -> tuple[str, dict]:
    def run(*args):
        proc = subprocess.run([sys.executable, "-m", "sales_insights.cli", "status", *args], env=stub_env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        return proc.stdout
    return run(), json.loads(run("--json"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="real signals and /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_dbt_records_the_attempt_and_says_so_in_one_line(stub, signum):
    env, warehouse, pid_file, _, _ = stub
    cli = _cli(stub, "build", "--no-contracts")
    dbt = int(_wait_for(pid_file))
    staged = warehouse.with_name(warehouse.name + ".next")
    assert staged.exists()
    # while it runs, status says so (the marker's process runs)
    text, state = _status(env)
    assert state["build_running"]["pid"] == cli.pid and state["last_build_attempt"] is None
    assert f"running since {state['build_running']['started_at']} (pid {cli.pid})" in text

    os.kill(cli.pid, signum)  # the CLI alone, as `timeout` and schedulers do
    _, stderr = cli.communicate(timeout=30)
    name = signal.Signals(signum).name
    assert cli.returncode == 128 + signum
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (f"error: stopped by {name}; the build attempt is recorded as "
                                               "failed; nothing was published")
    assert _gone(dbt), "the CLI exited before dbt did"
    assert Path(f"{pid_file}.sigterm").exists()  # the CLI stopped it (the kernel's SIGKILL leaves no trace)
    assert not staged.exists() and not warehouse.exists()
    attempt = json.loads((dbt_artefacts_dir(warehouse) / "last_build.json").read_text())
    assert attempt["outcome"] == "failed" and attempt["error"].startswith(f"stopped by {name}")
    assert attempt["pid"] == cli.pid and attempt["seconds"] > 0
    assert not (dbt_artefacts_dir(warehouse) / build_module.IN_PROGRESS).exists()
    text, state = _status(env)
    assert state["build_running"] is None
    assert f"last attempt: {attempt['build_id']} at {attempt['started_at']} failed: stopped by {name}" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="real signals, /proc and PR_SET_PDEATHSIG")
def test_sigkill_takes_dbt_along_status_reports_the_dead_attempt_and_the_next_build_clears_it(stub):
    env, warehouse, pid_file, record_file, _ = stub
    cli = _cli(stub, "build", "--no-contracts")
    dbt = int(_wait_for(pid_file))
    marker = json.loads((dbt_artefacts_dir(warehouse) / build_module.IN_PROGRESS).read_text())
    os.kill(cli.pid, signal.SIGKILL)  # no handler runs: only the kernel can stop dbt now
    cli.communicate(timeout=30)
    assert _gone_within(dbt, 5) is not None, "dbt outlived the CLI killed with SIGKILL"
    assert not Path(f"{pid_file}.sigterm").exists()
    staged = warehouse.with_name(warehouse.name + ".next")
    assert staged.exists()  # nobody was left to remove it

    text, state = _status(env)
    died = state["last_build_attempt"]
    assert (died["build_id"], died["outcome"], died["pid"], died["seconds"]) == (
        marker["build_id"], "failed", cli.pid, None)
    assert (f"last attempt: {marker['build_id']} at {marker['started_at']} failed: died without finishing "
            f"(pid {cli.pid}: killed, or its machine stopped); nothing was published") in text
    duration = next(r for r in state["slo"] if r["name"] == "build_duration")
    assert duration["status"] == "breach" and "died without finishing" in duration["measured"]

    # the next build records the dead attempt, removes its file, and builds (the stub now exits at once)
    pid_file.unlink()
    nxt = _cli(stub, "build", "--no-contracts", STUB_DBT_SECONDS="0")
    stdout, stderr = nxt.communicate(timeout=120)
    assert nxt.returncode == 0, stderr
    assert (f"note: the build attempt started at {marker['started_at']} (pid {cli.pid}) died without finishing; "
            "it is recorded as failed") in stderr
    assert f"note: removed {staged}, left by a build attempt that did not finish" in stderr
    assert f"Built {warehouse}" in stdout
    seen_by_dbt = json.loads(record_file.read_text())  # the record while the next build ran
    assert (seen_by_dbt["build_id"], seen_by_dbt["outcome"]) == (marker["build_id"], "failed")
    assert seen_by_dbt["first_started_at"] == marker["first_started_at"]
    published = read_build_attempt(warehouse)
    assert published["outcome"] == "published" and published["first_started_at"] == marker["first_started_at"]
    assert not staged.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="real processes and POSIX locks")
def test_a_dbt_left_running_by_an_older_version_stops_the_build_naming_its_pid(stub, monkeypatch):
    env, warehouse, *_ = stub
    staged = warehouse.with_name(warehouse.name + ".next")
    staged.parent.mkdir(parents=True)
    # an orphan dbt of an attempt killed before dbt died with its build: it holds DuckDB's lock on the file
    orphan = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        import duckdb
        con = duckdb.connect(sys.argv[1])
        con.execute("create table t as select 1 as x")
        print("holding", flush=True)
        time.sleep(120)
    """), str(staged)], stdout=subprocess.PIPE, text=True)
    try:
        assert orphan.stdout.readline().strip() == "holding"
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(main, ["build", "--no-contracts"])
        assert result.exit_code == 1 and len(result.output.splitlines()) == 1, result.output
        line = result.output.strip()
        assert line.startswith(f"error: {staged}, left by an earlier build attempt, is held open by process "
                               f"{orphan.pid} (") and line.endswith(f"); stop it (`kill {orphan.pid}`) and build again")
        assert staged.exists()  # the orphan's file is left to it
        assert read_build_attempt(warehouse)["error"] == line.removeprefix("error: ")
    finally:
        orphan.kill()
        orphan.wait()
        orphan.stdout.close()
    # once it is gone, the file is stale: the next build removes it (and then fails in dbt, stubbed here)
    monkeypatch.setattr(build_module, "run_dbt", lambda *a, **k: (2, [], ["stub: no dbt here"]))
    result = CliRunner().invoke(main, ["build", "--no-contracts"])
    wal = staged.with_name(staged.name + ".wal")  # the orphan was killed before a checkpoint
    assert f"note: removed {staged} and {wal}, left by a build attempt that did not finish" in result.output
    assert "stub: no dbt here" in result.output and not staged.exists() and not wal.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_a_dbt_left_running_without_the_file_stops_the_build_naming_its_pid(stub, monkeypatch):
    """An older version's SIGTERM removed the new file while its dbt ran on: that dbt holds no lock on a file
    the next build sees, but it still writes this warehouse's artefacts (run_results.json)."""
    env, warehouse, *_ = stub
    target_path = dbt_artefacts_dir(warehouse) / "target"
    orphan = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(120)",
                               "build", "--target-path", str(target_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert orphan.stdout.readline().strip() == "up"
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(build_module, "run_dbt", lambda *a, **k: pytest.fail("dbt ran beside the orphan"))
        result = CliRunner().invoke(main, ["build", "--no-contracts"])
        assert result.exit_code == 1 and len(result.output.splitlines()) == 1, result.output
        assert result.output.startswith(f"error: a dbt of an earlier build attempt still runs on {warehouse}.next "
                                        f"(process {orphan.pid}: {sys.executable} -c import time;")
        assert result.output.rstrip().endswith(f"stop it (`kill {orphan.pid}`) and build again")
    finally:
        orphan.kill()
        orphan.wait()
        orphan.stdout.close()


Usage = namedtuple("Usage", "total used free")


def _enospc(monkeypatch, tmp_path, how: str) -> tuple[Path, Path]:
    """Make the build's step `how` meet a full disk; returns (the warehouse, the file it names)."""
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    staged = warehouse.with_name(warehouse.name + ".next")
    if how == "copy":  # an incremental build: the published file is copied first
        monkeypatch.setattr(build_module, "can_build_incrementally", lambda *a: True)

        def copy(src, dst):
            Path(dst).write_bytes(b"partly")  # what the copy wrote before the disk filled up
            # as shutil's sendfile copy raises it: the source as filename, the file it was writing as filename2
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src), None, str(dst))

        monkeypatch.setattr(build_module.shutil, "copyfile", copy)
        return warehouse, staged
    if how in ("loader", "loader, first build"):
        def load(con, data_dir, **_):
            raise build_module.SalesInsightsError(f"{data_dir}/raw_ga4_events.csv: could not be read as CSV: IO "
                                                  f'Error: Could not write file "{staged}": No space left on device')

        monkeypatch.setattr(build_module, "load_data_dir", load)
        return warehouse, staged
    # dbt: a Python model's temporary file (the folder does not exist any more)
    temp = warehouse.parent / ".tmp" / "duckdb_temp_storage-0.tmp"
    monkeypatch.setattr(build_module, "load_data_dir", lambda con, data_dir, **_: LoadReport(data_dir))
    monkeypatch.setattr(build_module, "run_dbt", lambda *a, **k: (2, [], [
        "Traceback (most recent call last):", '  File "dbt/cli/main.py", line 1, in build',
        f"OSError: [Errno 28] No space left on device: '{temp}'"]))
    return warehouse, temp


@pytest.mark.parametrize("how", ["copy", "loader", "dbt", "loader, first build"])
def test_a_full_disk_gives_one_line_with_the_filesystem_its_free_space_and_the_need(
        how, tmp_path, isolated_env, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "raw_shopify_orders.csv").write_bytes(b"x" * 2_500_000)  # what the build's need counts of the data
    warehouse, named = _enospc(monkeypatch, tmp_path, how)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    need = f"the build needs more than 2.5 MB (the raw data in {data}, and the models on it)"
    if how != "loader, first build":
        with duckdb.connect(str(warehouse)) as con:  # a published build to build on
            con.execute("create schema meta")
            con.execute("create table meta.build_info as select 'B0' as build_id, ? as project_fingerprint, "
                        "'directory' as data_source, ? as data_path, 'events' as ga4_grain",
                        [project_fingerprint(PROJECT_DIR), str(data)])
        published = warehouse.stat().st_size
        need = (f"the build needs up to about {faults.size_text(2 * published + 2_500_000)} (a new warehouse and "
                f"its write-ahead log, each up to the published one's {faults.size_text(published)}, and the raw "
                f"data, 2.5 MB in {data})")
    measured = []

    def disk_usage(path):
        measured.append(Path(path))
        assert not warehouse.with_name(warehouse.name + ".next").exists()  # measured once the build cleaned up
        return Usage(total=50_000_000_000, used=49_600_000_000, free=400_000_000)

    monkeypatch.setattr(faults.shutil, "disk_usage", disk_usage)
    if how != "copy":
        monkeypatch.setattr(build_module, "can_build_incrementally", lambda *a: False)
    result = CliRunner().invoke(main, ["build", "--data-dir", str(data), "--no-contracts", "--quiet"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert measured == [warehouse.parent]  # the nearest folder that exists of the file named
    assert result.output.splitlines() == [
        f"error: no space left on the filesystem of {warehouse.parent} (writing {named}): 400 MB free of 50 GB, and "
        f"{need}; free some space there and try again; nothing was published"]
    assert read_build_attempt(warehouse)["error"] == result.output.strip().removeprefix("error: ")
    assert not warehouse.with_name(warehouse.name + ".next").exists()


def test_dbt_leaving_run_results_half_written_on_a_full_disk_gives_one_line(tmp_path, isolated_env, monkeypatch):
    """Measured on a full tmpfs: dbt's last act, writing run_results.json, fails half way; the build read the
    file and died on a JSONDecodeError."""
    script = tmp_path / "dbt"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent("""
        import sys
        from pathlib import Path
        target = Path(sys.argv[sys.argv.index("--target-path") + 1])
        target.mkdir(parents=True, exist_ok=True)
        (target / "run_results.json").write_text('{"metadata": {"dbt_schema_version": ')
        print("  File \\"dbt_common/clients/system.py\\", line 312, in write_json")
        print("OSError: [Errno 28] No space left on device")
        sys.exit(2)
    """))
    script.chmod(0o755)
    monkeypatch.setattr(build_module, "dbt_executable", lambda: str(script))
    monkeypatch.setattr(faults.shutil, "disk_usage", lambda path: Usage(10_000_000, 10_000_000, 0))
    result = CliRunner().invoke(main, ["build", "--no-contracts", "--quiet"])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    staged = isolated_env.warehouse.with_name(isolated_env.warehouse.name + ".next")
    assert result.output.splitlines() == [
        f"error: no space left on the filesystem of {staged.parent} (writing {staged}): 0 B free of 10 MB, and the "
        f"build needs more than {faults.size_text(faults.tree_size(isolated_env.seeds_dir))} (the raw data in "
        f"{isolated_env.seeds_dir}, and the models on it); free some space there and try again; nothing was "
        "published"]


def test_dbt_refused_a_file_another_process_holds_gives_one_line(tmp_path, isolated_env, monkeypatch):
    held = tmp_path / "wh" / "warehouse.duckdb.next"
    monkeypatch.setattr(build_module, "run_dbt", lambda *a, **k: (2, [], [
        "Encountered an error:", "Runtime Error",
        f'  IO Error: Could not set lock on file "{held}": Conflicting lock is held in /usr/bin/python3.11 '
        "(PID 4242). See also https://duckdb.org/docs/current/connect/concurrency"]))
    result = CliRunner().invoke(main, ["build", "--no-contracts", "--quiet"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: {held} is held open by process 4242 (/usr/bin/python3.11); stop it (`kill 4242`) and build "
        "again; nothing was published"]


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace():
    child = subprocess.Popen([sys.executable, "-c", "import signal, time\n"
                              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\n"
                              "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "up"
    started = time.monotonic()
    stop_child(child, grace=0.5)
    assert child.returncode == -signal.SIGKILL and 0.5 <= time.monotonic() - started < 5
    child.stdout.close()


def test_a_full_disk_outside_a_build_is_one_line_too(tmp_path, monkeypatch):
    monkeypatch.setattr(faults.shutil, "disk_usage", lambda path: Usage(10_000_000_000, 10_000_000_000, 0))
    out = tmp_path / "exports"

    def export(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out / "fct_sessions.csv"))

    monkeypatch.setattr("sales_insights.cli.export_marts", export)
    result = CliRunner().invoke(main, ["export", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: no space left on the filesystem of {tmp_path} (writing {out / 'fct_sessions.csv'}): 0 B free of "
        "10 GB; free some space there and try again"]
