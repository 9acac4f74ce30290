"""The Shopify connector's extract: orders (with their line items and refunds), customers and products (with
their variants) fetched from an MCP server as its profile says (shopify_profiles), mapped to raw-contract
rows by shopify_graphql. Orders are asked for by a Shopify search query over the UTC days extracted
(`created_at:>=2025-06-01T00:00:00Z created_at:<=...`) and landed in the folder of their UTC day.

The first page of each tool is checked before anything else: a server whose profile has gaps, or whose
records lack a field the mapping needs, makes the extract incomplete (McpIncomplete), so it is blocked and
nothing is written. A record the mapping cannot read is an error naming the tool, page and record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

from sales_insights.connectors.landing import SHOPIFY_DATED, SHOPIFY_SNAPSHOT, ConnectorResult, Landing, days_between
from sales_insights.connectors.mcp_client import MAX_PAGES, McpSchemaError, ToolSession
from sales_insights.connectors.shopify_graphql import GraphQLShapeError, customer_row, order_rows, product_rows
from sales_insights.connectors.shopify_profiles import ServerProfile, missing_fields

SHOPIFY_PAGE_SIZE = 250


class McpIncomplete(McpSchemaError):
    """The server cannot deliver all the data the raw contract needs: an extract would undercount."""


def _where(tool: str, page: int, index: int | None = None) -> str:
    return f"the shopify MCP server's {tool} response, page {page}" + ("" if index is None else f": record {index}")


async def _pages(session: ToolSession, profile: ServerProfile, kind: str, arguments: dict, result: ConnectorResult,
                 page_size: int) -> AsyncIterator[tuple[int, dict, list]]:
    """(page number, arguments, records) of every page of a tool, by its cursor when it has one."""
    tool = profile.tool(kind)
    after, page, seen = None, 0, set()
    while True:
        page += 1
        if page > MAX_PAGES:
            raise McpSchemaError(f"{_where(tool.name, page)}: more than {MAX_PAGES} pages: the paging does not end")
        args = {**arguments, tool.page_size: min(page_size, profile.max_page_size)}
        if after and tool.cursor:
            args[tool.cursor] = after
        response = await session.call(tool.name, args)
        result.pages += 1
        records = response.get(tool.records) if isinstance(response, dict) else None
        if not isinstance(records, list):
            raise McpSchemaError(f"{_where(tool.name, page)}: no `{tool.records}` list in the response")
        yield page, args, records
        if tool.cursor is None:
            return
        after = _next_cursor(response, tool.name, page)
        if after is None:
            return
        if after in seen:
            raise McpSchemaError(f"{_where(tool.name, page)}: the cursor {after!r} came back: the paging repeats")
        seen.add(after)


def _next_cursor(response: dict, tool: str, page: int) -> str | None:
    info = response.get("pageInfo")
    has_next = info.get("hasNextPage") if isinstance(info, dict) else None
    if not isinstance(has_next, bool):
        raise McpSchemaError(f"{_where(tool, page)}: no `pageInfo.hasNextPage`")
    if not has_next:
        return None
    if not info.get("endCursor"):
        raise McpSchemaError(f"{_where(tool, page)}: `pageInfo.hasNextPage` is true but there is no `endCursor`")
    return info["endCursor"]


def check_complete(profile: ServerProfile, kind: str, page: int, records: list, server: str) -> None:
    """Raise McpIncomplete when the server cannot deliver what the mapping needs: the profile's gaps, and the
    fields its records of this page lack."""
    missing: list[str] = []
    for record in records:
        if isinstance(record, dict):
            node = profile.as_graphql(record) if kind == "orders" else record
            missing += [f for f in missing_fields(kind, node) if f not in missing]
    reasons = list(profile.gaps) if kind == "orders" else []
    if missing:
        reasons.append(f"the records of its {profile.tool(kind).name} (page {page}) lack {', '.join(missing)}")
    if reasons:
        raise McpIncomplete(
            f"an extract through the shopify MCP server at {server} (profile {profile.name}: {profile.server}) "
            f"would be incomplete, so none is written: {'; '.join(reasons)}. Its revenue would be silently "
            "smaller: use a server that sends them (describe it in sales_insights.toml, docs/mcp.md) or Shopify's "
            "Bulk Operation export (shopify_bulk/, docs/sources.md)")


def _mapped(mapper, record, where: str, *args):
    try:
        return mapper(record, where, *args)
    except GraphQLShapeError as exc:
        raise McpSchemaError(str(exc)) from None


def _utc_day(instant: str) -> str:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(UTC).date().isoformat()


async def extract_shopify(session: ToolSession, profile: ServerProfile, shop_currency: str, since: date,
                          until: date, page_size: int, result: ConnectorResult) -> Landing:
    days = days_between(since, until)
    landing = Landing({d: {t: [] for t in SHOPIFY_DATED} for d in days}, {d: [] for d in days})
    tool = profile.tool("orders")
    arguments = {tool.query: f"created_at:>={since}T00:00:00Z created_at:<={until}T23:59:59Z"} if tool.query else {}
    server = session.spec.describe()
    async for page, args, records in _pages(session, profile, "orders", arguments, result, page_size):
        if page == 1:
            check_complete(profile, "orders", page, records, server)
        for index, record in enumerate(records):
            where = _where(tool.name, page, index)
            order, lines, refunds = _mapped(order_rows, profile.as_graphql(record), where, shop_currency)
            day = _utc_day(order["created_at"])
            if day not in landing.tables:
                raise McpSchemaError(f"{where} (order {order['id']}) was created on {day} (UTC), outside the days "
                                     "asked for: does the server ignore the search query?")
            landing.add(day, {"raw_shopify_orders": [order], "raw_shopify_order_lines": lines,
                              "raw_shopify_refunds": refunds},
                        {"tool": tool.name, "arguments": args, "page": page, "record": record})
    landing.tables["snapshot"] = {t: [] for t in SHOPIFY_SNAPSHOT}
    for kind in ("customers", "products"):
        name = profile.tool(kind).name
        async for page, args, records in _pages(session, profile, kind, {}, result, page_size):
            if page == 1:
                check_complete(profile, kind, page, records, server)
            for index, record in enumerate(records):
                where = _where(name, page, index)
                if kind == "customers":
                    rows = {"raw_shopify_customers": [_mapped(customer_row, record, where)]}
                else:
                    product, variants = _mapped(product_rows, record, where)
                    rows = {"raw_shopify_products": [product], "raw_shopify_variants": variants}
                landing.add("snapshot", rows, {"tool": name, "arguments": args, "page": page, "record": record})
    return landing
