"""The GA4 funnel report from the GA4 MCP server's run_report (the Data API, offset paging): sessions, and
sessions with add_to_cart / begin_checkout / purchase, by date, channel group, device and landing page,
as rows of the contract table ga4_funnel_report."""

from __future__ import annotations

from datetime import date, datetime

from sales_insights.connectors.landing import GA4_REPORT, ConnectorResult, Landing, days_between
from sales_insights.connectors.mcp_client import MAX_PAGES, McpSchemaError, ToolSession
from sales_insights.quality.raw_contract import GA4_FUNNEL_REPORT

GA4_REPORT_COLUMNS = tuple(GA4_FUNNEL_REPORT.column_names)
GA4_DIMENSIONS = ("date", "sessionDefaultChannelGroup", "deviceCategory", "landingPage")
GA4_STEP_EVENTS = ("add_to_cart", "begin_checkout", "purchase")
GA4_PAGE_SIZE = 10_000


def _report_rows(response, dimensions: tuple[str, ...], metrics: tuple[str, ...], page: int) -> list[list[str]]:
    def bad(detail: str) -> McpSchemaError:
        return McpSchemaError(f"the ga4 MCP server's run_report response, page {page}: {detail}")

    if not isinstance(response, dict):
        raise bad(f"a {type(response).__name__}, not an object")
    headers = [h.get("name") for h in response.get("dimension_headers", response.get("dimensionHeaders")) or []]
    metric_headers = [h.get("name") for h in response.get("metric_headers", response.get("metricHeaders")) or []]
    if headers != list(dimensions) or metric_headers != list(metrics):
        raise bad(f"dimensions {headers} and metrics {metric_headers}, asked for {list(dimensions)} and "
                  f"{list(metrics)}")
    out = []
    for index, row in enumerate(response.get("rows") or []):
        dims = row.get("dimension_values", row.get("dimensionValues")) if isinstance(row, dict) else None
        values = row.get("metric_values", row.get("metricValues")) if isinstance(row, dict) else None
        if not isinstance(dims, list) or not isinstance(values, list) or len(dims) != len(dimensions) or (
                len(values) != len(metrics)):
            raise bad(f"row {index} does not have {len(dimensions)} dimension and {len(metrics)} metric values")
        out.append([str(v.get("value", "")) for v in dims] + [str(v.get("value", "")) for v in values])
    return out


async def _run_report(session: ToolSession, property_id: str, since: date, until: date, dimensions: tuple[str, ...],
                      metrics: tuple[str, ...], dimension_filter: dict | None, result: ConnectorResult,
                      page_size: int) -> list[tuple[list[str], dict]]:
    """Every row of a report, paged by offset: (its values, its audit line)."""
    rows: list[tuple[list[str], dict]] = []
    offset, page = 0, 0
    while True:
        page += 1
        if page > MAX_PAGES:
            raise McpSchemaError(f"the ga4 MCP server's run_report: more than {MAX_PAGES} pages")
        args = {"property_id": property_id,
                "date_ranges": [{"start_date": since.isoformat(), "end_date": until.isoformat()}],
                "dimensions": list(dimensions), "metrics": list(metrics), "limit": page_size, "offset": offset}
        if dimension_filter:
            args["dimension_filter"] = dimension_filter
        response = await session.call("run_report", args)
        result.pages += 1
        page_rows = _report_rows(response, dimensions, metrics, page)
        rows += [(values, {"tool": "run_report", "arguments": args, "page": page, "record": raw})
                 for values, raw in zip(page_rows, response.get("rows") or [], strict=True)]
        total = response.get("row_count", response.get("rowCount"))
        if not isinstance(total, int) or total < 0:
            raise McpSchemaError(f"the ga4 MCP server's run_report response, page {page}: no `row_count`")
        offset += len(page_rows)
        if offset >= total or not page_rows:
            keys = {tuple(values[:len(dimensions)]) for values, _ in rows}
            if len(keys) != len(rows):
                raise McpSchemaError(f"the ga4 MCP server's run_report: {len(rows) - len(keys)} row(s) came twice "
                                     "(does the server ignore `offset`?)")
            if offset != total:
                raise McpSchemaError(f"the ga4 MCP server's run_report response, page {page}: {offset} rows in "
                                     f"all where row_count says {total}")
            return rows


def _iso_date(value: str, page_hint: str) -> str:
    try:
        return datetime.strptime(value, "%Y%m%d").date().isoformat()
    except ValueError:
        raise McpSchemaError(f"the ga4 MCP server's run_report: date {value!r} is not YYYYMMDD ({page_hint})") from None


def _count(value: str, what: str) -> int:
    if not value.isdigit():
        raise McpSchemaError(f"the ga4 MCP server's run_report: {what} is not a whole number: {value!r}")
    return int(value)


async def extract_ga4(session: ToolSession, property_id: str, since: date, until: date, page_size: int,
                       result: ConnectorResult) -> Landing:
    totals = await _run_report(session, property_id, since, until, GA4_DIMENSIONS, ("sessions",), None, result,
                               page_size)
    steps = await _run_report(
        session, property_id, since, until, (*GA4_DIMENSIONS, "eventName"), ("sessions",),
        {"filter": {"field_name": "eventName", "in_list_filter": {"values": list(GA4_STEP_EVENTS)}}},
        result, page_size)
    table: dict[tuple, dict] = {}
    audit: dict[str, list[dict]] = {d: [] for d in days_between(since, until)}
    for (*dims, sessions), line in totals:
        key = (_iso_date(dims[0], "sessions report"), *dims[1:])
        table[key] = {"sessions": _count(sessions, "sessions"), **{f"{e}_sessions": 0 for e in GA4_STEP_EVENTS}}
        audit.setdefault(key[0], []).append(line)
    for (*dims, event, sessions), line in steps:
        key = (_iso_date(dims[0], "steps report"), *dims[1:])
        if key not in table or event not in GA4_STEP_EVENTS:
            raise McpSchemaError(f"the ga4 MCP server's run_report: {event} sessions for {key} but no such row of "
                                 "the sessions report")
        table[key][f"{event}_sessions"] = _count(sessions, f"{event} sessions")
        audit[key[0]].append(line)
    landing = Landing({d: {GA4_REPORT: []} for d in days_between(since, until)}, audit)
    for key in sorted(table):
        if key[0] not in landing.tables:
            raise McpSchemaError(f"the ga4 MCP server's run_report: a row dated {key[0]}, outside {since} to {until}")
        # report_date as GA4 writes it (YYYYMMDD, the contract's type); the folder is the ISO date
        landing.tables[key[0]][GA4_REPORT].append(dict(zip(
            GA4_REPORT_COLUMNS, (key[0].replace("-", ""), *key[1:], *table[key].values()), strict=True)))
    return landing
