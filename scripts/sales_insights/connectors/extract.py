"""`sales-insights extract --since DATE`: the GA4 and Shopify MCP connectors land their data as dated extract
files. For every day from DATE to the end date, each connector writes a folder with the raw tool responses
(JSON lines, for audit) and the contract CSVs of that day; re-extracting a day replaces its folder whole,
so nothing is ever counted twice. Tables that are not dated (customers, products, variants) are replaced
as a snapshot. Then `current/` is rebuilt from every day and the snapshot: the contract CSVs that
`sales-insights build --data-dir <extract dir>/current` reads.

Shopify (Admin GraphQL objects, through the server's profile: shopify_profiles; by default)
  get_orders(first, after, query) -> {"orders": [...], "pageInfo": {"hasNextPage", "endCursor"}}
  get_customers(first, after) -> {"customers": [...], "pageInfo": {...}}
  get_products(first, after) -> {"products": [... with "variants"], "pageInfo": {...}}
A server that cannot deliver what the contract needs (its profile's gaps, or fields its records lack)
makes the extract blocked, with the reasons (shopify_extract.McpIncomplete).
GA4 (the Data API's runReport, offset paging):
  run_report(property_id, date_ranges, dimensions, metrics, dimension_filter, limit, offset)
GA4 reports are aggregates, not events: the GA4 extract is the report-level funnel table
`ga4_funnel_report` (sessions, and sessions with add_to_cart / begin_checkout / purchase, by date, channel,
device and landing page), not raw_ga4_events. See docs/mcp.md ("GA4: reports, not events") for what it can
and cannot give the funnel."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sales_insights.config import GA4_PROPERTY_VARIABLE, default_project_dir, load_shop_config, mcp_server_variables
from sales_insights.connectors.ga4_report import GA4_PAGE_SIZE, extract_ga4
from sales_insights.connectors.landing import ConnectorResult, recover_folders, write_landings
from sales_insights.connectors.mcp_client import (
    McpAuthError,
    McpError,
    McpSchemaError,
    RetryPolicy,
    ServerSpec,
    run_session,
    server_spec,
)
from sales_insights.connectors.shopify_extract import SHOPIFY_PAGE_SIZE, extract_shopify
from sales_insights.connectors.shopify_profiles import ServerProfile, project_profile
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.locks import exclusive_lock


def required_tools(connector: str, profile: ServerProfile | None = None) -> tuple[str, ...]:
    """The tools a connector calls (the Shopify server's, as its profile names them); `status --check-mcp`
    and every extract check that the server has them."""
    if connector == "ga4":
        return ("run_report",)
    return (profile or project_profile(default_project_dir())).tool_names


@dataclass(frozen=True)
class ExtractResult:
    extract_dir: Path
    current_dir: Path
    since: date
    until: date
    connectors: tuple[ConnectorResult, ...]


def check_connectors(retry: RetryPolicy | None = None) -> list[dict]:
    """Per connector: is its server configured, can a session be opened, does it have the tools we call."""
    checks = []
    for connector in ("ga4", "shopify"):
        try:
            spec = server_spec(connector)
            profile = project_profile(default_project_dir()) if connector == "shopify" else None
            tools = required_tools(connector, profile)
        except SalesInsightsError as exc:  # the server's variables, or the Shopify profile
            checks.append({"connector": connector, "state": "misconfigured", "server": None, "detail": str(exc)})
            continue
        if spec is None:
            checks.append({"connector": connector, "state": "not configured", "server": None,
                           "detail": "set " + " or ".join(mcp_server_variables(connector))})
            continue

        async def work(session, tools=tools):
            return await session.require_tools(tools)

        try:
            found = run_session(spec, work, retry or RetryPolicy(attempts=2), timeout=20.0)
            detail = "tools " + ", ".join(t for t in found if t in tools)
            if profile is not None and profile.gaps:
                # the server is there, but what it can give is not the whole of the data
                checks.append({"connector": connector, "state": "incomplete", "server": spec.describe(),
                               "detail": f"{detail}; profile {profile.name} ({profile.server}): "
                                         + "; ".join(profile.gaps)})
                continue
            checks.append({"connector": connector, "state": "ready", "server": spec.describe(), "detail": detail})
        except McpAuthError as exc:
            checks.append({"connector": connector, "state": "credentials refused", "server": spec.describe(),
                           "detail": str(exc)})
        except McpSchemaError as exc:
            checks.append({"connector": connector, "state": "missing tools", "server": spec.describe(),
                           "detail": str(exc)})
        except McpError as exc:
            checks.append({"connector": connector, "state": "unreachable", "server": spec.describe(),
                           "detail": str(exc)})
    return checks


def run_extract(settings, since: date, until: date | None = None, connectors: tuple[str, ...] = ("ga4", "shopify"),
                retry: RetryPolicy | None = None, on_progress: Callable[[str], None] | None = None,
                page_sizes: dict[str, int] | None = None) -> ExtractResult:
    """Extract each connector's data from `since` to `until` (default: today, UTC) into the extract directory."""
    if not settings.enable_mcp:
        raise McpError("ENABLE_MCP is not true: the MCP connectors are off (set ENABLE_MCP=true to extract)")
    until = until or datetime.now(UTC).date()
    if since > until:
        raise McpError(f"--since {since} is after the end date {until}")
    extract_dir = settings.extract_dir
    try:
        extract_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise McpError(f"cannot create the extract directory {extract_dir}: {exc}") from exc
    # One extract of a directory at a time (a second is refused, naming the first).
    with exclusive_lock(extract_dir / ".extract.lock", "sales-insights extract"):
        for folder in (extract_dir, *(extract_dir / c for c in ("ga4", "shopify"))):
            recover_folders(folder)
        return _extract_locked(settings, extract_dir, since, until, connectors, retry, on_progress, page_sizes or {})


def _extract_locked(settings, extract_dir: Path, since: date, until: date, connectors: tuple[str, ...],
                    retry: RetryPolicy | None, on_progress: Callable[[str], None] | None,
                    page_sizes: dict[str, int]) -> ExtractResult:
    results, fetched = [], []
    for connector in connectors:
        spec: ServerSpec | None = server_spec(connector)
        if spec is None:
            raise McpError(f"the {connector} connector is not configured: set "
                           + " or ".join(mcp_server_variables(connector)))
        if on_progress:
            on_progress(f"extract: {connector} from {since} to {until} through {spec.describe()}")
        result = ConnectorResult(connector)
        size = page_sizes.get(connector, SHOPIFY_PAGE_SIZE if connector == "shopify" else GA4_PAGE_SIZE)
        profile = project_profile(settings.project_dir) if connector == "shopify" else None
        if connector == "shopify":
            currency = load_shop_config(settings.project_dir).currency

            def extract(session, size=size, result=result, profile=profile, currency=currency):
                return extract_shopify(session, profile, currency, since, until, size, result)
        else:
            property_id = os.environ.get(GA4_PROPERTY_VARIABLE, "")
            if not property_id:
                raise McpError(f"the ga4 connector needs {GA4_PROPERTY_VARIABLE} (the GA4 property to report on)")

            def extract(session, size=size, result=result, property_id=property_id):
                return extract_ga4(session, property_id, since, until, size, result)

        async def work(session, connector=connector, extract=extract, result=result, profile=profile):
            await session.require_tools(required_tools(connector, profile))
            landing = await extract(session)
            result.calls, result.retries = session.calls, session.retries
            return landing

        fetched.append((connector, run_session(spec, work, retry), result))
    # Everything was fetched before anything is written: an extract that fails while fetching changes no file.
    try:
        write_landings(extract_dir, fetched)
    except OSError as exc:
        raise McpError(f"cannot write the extracts to {extract_dir}: {exc}") from exc
    for _, landing, result in fetched:
        for name, tables in landing.tables.items():
            if name != "snapshot":
                result.days.append(name)
            for table, rows in tables.items():
                result.rows[table] = result.rows.get(table, 0) + len(rows)
        results.append(result)
    return ExtractResult(extract_dir, extract_dir / "current", since, until, tuple(results))
