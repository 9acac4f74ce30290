"""What `sales-insights status` reports: the data mode and MCP state, the last build (published and last
attempted), its contract checks, the last export, and the SLOs. Read-only: it never blocks a build."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sales_insights.config import ProjectConfig, Settings
from sales_insights.connectors.landing import day_folders
from sales_insights.errors import SalesInsightsError
from sales_insights.outputs.export import latest_run, read_manifest
from sales_insights.pipeline.build import read_build_info, read_build_state, read_outside_cli_write
from sales_insights.pipeline.data_source import mcp_blocked, mcp_notes
from sales_insights.quality.slo import as_dicts, evaluate, query_one
from sales_insights.quality.validate import raw_schema_of, rejects_by_table


def _jsonable(row: dict | None) -> dict | None:
    return {k: (v.isoformat(timespec="seconds") if isinstance(v, datetime) else v) for k, v in row.items()} \
        if row else None


def last_validation(warehouse: Path) -> dict | None:
    """The contract checks recorded in the published warehouse (meta.contract_results)."""
    row, _ = query_one(
        warehouse,
        "select any_value(build_id), max(validated_at), count(*) filter (where status = 'passed'), count(*) "
        "from meta.contract_results",
    )
    if not row or not row[3]:
        return None
    return {"build_id": row[0], "validated_at": row[1].isoformat(timespec="seconds"), "passed": row[2],
            "expectations": row[3]}


def rejected_rows(warehouse: Path, info: dict | None) -> list[dict] | None:
    """Per raw table of the published build, its rejected rows and what they cost (validate.TableRejects);
    None when they cannot be read (no build of the CLI, or the file is busy)."""
    if info is None or not warehouse.exists():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return [{"table": t.table, "rejected": t.rejected, "lost": t.lost, "exact_copies": t.copies,
                 "with_rejected_parent": t.with_parent, "rows": t.rows, "summary": t.describe()}
                for t in rejects_by_table(con, raw_schema_of(str(info["data_source"])))]
    except duckdb.Error:
        return None
    finally:
        con.close()


def last_export(export_dir: Path) -> dict | None:
    run = latest_run(export_dir)
    manifest = read_manifest(run) if run else None
    if not manifest:
        return None
    return {"folder": str(run), "build_id": manifest.get("build_id"), "exported_at": manifest.get("exported_at"),
            "files": len(manifest.get("files", []))}


def mcp_extracts(settings: Settings, max_age_hours: float, now: datetime) -> dict:
    """Whether MCP extract files have landed (the contract CSVs an extract writes), and whether the newest
    was written within `max_age_hours` of now."""
    directory = settings.extract_dir
    # the landed files: not those of a folder being written or set aside (hidden), nor current/ (a copy)
    files = sorted(f for f in directory.rglob("*.csv") if not any(
        part.startswith(".") or part == "current" for part in f.relative_to(directory).parts))
    newest = max((f.stat().st_mtime for f in files), default=None)
    written = datetime.fromtimestamp(newest, UTC) if newest is not None else None
    days = {}
    for connector in ("ga4", "shopify"):
        found = [p.name for p in day_folders(directory / connector)]
        if found:
            days[connector] = {"days": len(found), "first": found[0], "last": found[-1]}
    return {
        "directory": str(directory),
        "present": bool(files),
        "files": len(files),
        "newest": written.isoformat(timespec="seconds") if written else None,
        "fresh": bool(written and (now - written).total_seconds() <= max_age_hours * 3600),
        "days": days,
    }


def _check_mcp() -> list[dict]:
    from sales_insights.connectors.extract import check_connectors

    return check_connectors()


def collect(settings: Settings, config: ProjectConfig, now: datetime, check_mcp: bool = False) -> dict:
    warehouse = settings.warehouse
    try:
        info, warehouse_error = read_build_info(warehouse), None
    except SalesInsightsError as exc:
        info, warehouse_error = None, str(exc)
    # an extract is fresh when it is no older than the data may be (the stricter freshness objective)
    extracts = mcp_extracts(settings, min(config.slo.ga4_max_age_hours, config.slo.shopify_max_age_hours), now)
    # an attempt that died without recording itself shows as the last attempt, failed (build.read_build_state)
    attempt, running = read_build_state(warehouse)
    return {
        "use_mock_data": settings.use_mock_data,
        "enable_mcp": settings.enable_mcp,
        # MCP asked for but not buildable yet (not configured, or no complete extract): the notes say why
        "mcp_blocked": mcp_blocked(settings),
        "missing_mcp_variables": list(settings.missing_mcp_variables) if settings.enable_mcp else [],
        "mcp_extracts": extracts,
        # opening a session with each server (it may start a program): only when asked for
        "mcp_servers": _check_mcp() if check_mcp else None,
        "notes": list(mcp_notes(settings)),
        "warehouse": str(warehouse),
        "warehouse_error": warehouse_error,
        "last_build": _jsonable(info),
        # dbt run on the published file outside the CLI (it then has no meta.build_info)
        "dbt_outside_cli": _jsonable(_outside_cli(warehouse, info)),
        "last_build_attempt": attempt,
        "build_running": running,
        "last_validation": last_validation(warehouse),
        "rejected_rows": rejected_rows(warehouse, info),
        "export_dir": str(settings.export_dir),
        "last_export": last_export(settings.export_dir),
        "slo": as_dicts(evaluate(config.slo, warehouse, settings.export_dir, now)),
    }


def _outside_cli(warehouse: Path, info: dict | None) -> dict | None:
    return read_outside_cli_write(warehouse) if info is None else None


def format_status(state: dict) -> str:
    """The state `collect` gathers, as the lines `sales-insights status` prints."""
    mode = "mock data" if state["use_mock_data"] else "real data"
    lines = [f"data mode:    {mode} (USE_MOCK_DATA={str(state['use_mock_data']).lower()}, "
             f"ENABLE_MCP={str(state['enable_mcp']).lower()})"]
    lines += _mcp_lines(state)
    lines.append(f"warehouse:    {state['warehouse']}")
    lines += _build_lines(state)
    lines += _check_lines(state)
    export = state["last_export"]
    lines.append(f"last export:  {export['exported_at']} of build {export['build_id']} ({export['files']} marts) in "
                 f"{export['folder']}" if export else f"last export:  none in {state['export_dir']}")
    slo = state["slo"]
    breached = [r["name"] for r in slo if r["status"] == "breach"]
    pending = [r["name"] for r in slo if r["status"] == "pending"]
    met = sum(r["status"] == "pass" for r in slo)
    lines.append(f"SLOs:         {met} of {met + len(breached)} met"
                 + (f"; breached: {', '.join(breached)}" if breached else "")
                 + (f"; not yet due: {', '.join(pending)}" if pending else "")
                 + (" (details: `sales-insights slo`)" if breached or pending else ""))
    return "\n".join(lines)


def _mcp_lines(state: dict) -> list[str]:
    """What blocks MCP, the extracts on disk and each MCP server's answer."""
    lines = [f"MCP:          {note}" for note in state["notes"]]
    extracts = state["mcp_extracts"]
    lines.append(f"MCP extracts: {extracts['files']} file(s), newest {extracts['newest']} "
                 f"({'fresh' if extracts['fresh'] else 'stale'}), in {extracts['directory']}"
                 if extracts["present"] else f"MCP extracts: none in {extracts['directory']}")
    for check in state.get("mcp_servers") or []:
        where = f" at {check['server']}" if check["server"] else ""
        lines.append(f"MCP {check['connector']}:{' ' * (9 - len(check['connector']))}{check['state']}{where}: "
                     f"{check['detail']}")
    for connector, days in extracts.get("days", {}).items():
        lines.append(f"              {connector}: {days['days']} day(s) extracted, {days['first']} to {days['last']}")
    return lines


def _build_lines(state: dict) -> list[str]:
    """The published build, a later attempt that did not publish, and a build running now."""
    lines = []
    info = state["last_build"]
    if state["warehouse_error"]:
        lines.append(f"last build:   unknown: {state['warehouse_error']}")
    elif info:
        kind = "incremental" if info.get("is_incremental") else "full"
        lines.append(f"last build:   {info['build_id']} ({kind}) at {info['built_at']} from {info['data_source']} "
                     f"({info['data_path']})")
    elif state.get("dbt_outside_cli"):
        run = state["dbt_outside_cli"]
        lines.append(f"last build:   none checked: `dbt {run['command']}` wrote this file outside sales-insights at "
                     f"{run['finished_at']} (from {run['data_source']}); run `sales-insights build` to publish a "
                     "checked build")
    else:
        lines.append("last build:   none yet (run `sales-insights run`)")
    attempt = state["last_build_attempt"]
    if attempt and (not info or attempt["build_id"] != info["build_id"]):
        error = (attempt.get("error") or "").splitlines()
        lines.append(f"last attempt: {attempt['build_id']} at {attempt['started_at']} {attempt['outcome']}"
                     + (f": {error[0]}" if error else ""))
    running = state.get("build_running")
    if running:
        lines.append(f"build:        {running['build_id']} running since {running['started_at']} "
                     f"(pid {running['pid']})")
    return lines


def _check_lines(state: dict) -> list[str]:
    """The Great Expectations check of the published build and the raw rows staging kept aside."""
    info, validation = state["last_build"], state["last_validation"]
    lines = []
    if validation and info and validation["build_id"] == info["build_id"]:
        lines.append(f"contracts:    {validation['passed']}/{validation['expectations']} expectations passed at "
                     f"{validation['validated_at']}")
    else:
        # a build with --no-contracts keeps the checks of the build it started from: not this build's
        earlier = f" (the last check was of build {validation['build_id']})" if validation else ""
        lines.append(f"contracts:    not checked on the published build{earlier}; run `sales-insights validate`")
    rejected = state.get("rejected_rows")
    if info and rejected is not None:
        lines.append("rejects:      none" if not rejected else
                     "rejects:      raw rows staging kept aside, in staging.stg_rejected_rows with their reasons")
        lines += [f"              {table['summary']}" for table in rejected]
    return lines
