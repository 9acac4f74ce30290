"""A local MCP server for the connector tests' fault cases (the connectors are tested against real public
servers too: test_mcp_servers.py). It has the tools of the GA4 Data API's runReport and of the Shopify
connector's default profile (admin-graphql: get_orders, get_customers, get_products answering with Admin
GraphQL objects, cursor-paged, orders filtered by a search query's created_at bounds), answering from
recorded responses in a folder (FAKE_MCP_DATA: orders.json, customers.json, products.json,
ga4_sessions.json, ga4_steps.json).

It speaks stdio by default, or streamable HTTP with `--http PORT` (then a bearer token FAKE_MCP_HTTP_TOKEN
is required: a request without it gets HTTP 401). Faults, from the environment:
  FAKE_MCP_TRANSIENT=N         the first N tool calls fail with "503 UNAVAILABLE"
  FAKE_MCP_CREDENTIALS=expired every tool call fails with "401 UNAUTHENTICATED"
  FAKE_MCP_MALFORMED=KIND      a response of the wrong shape: get_orders (fields missing), run_report (rows too
                               short), customer_type (an order's customer is a string), bad_created_at (not
                               ISO-8601), repeat_cursor (get_customers' cursor never moves), ignore_offset
                               (run_report always answers the first page)
  FAKE_MCP_HTTP_503=N          over HTTP, the first N POST requests get "503 Service Unavailable" (the
                               connection attempts fail, as behind a load balancer with no server ready)
  FAKE_MCP_CALL_LOG=FILE       each call's tool and arguments are appended to FILE as a JSON line
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

DATA = Path(os.environ.get("FAKE_MCP_DATA", "."))
server = MCPServer("sales-insights-fake")
_calls = {"n": 0}


def _load(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _gate(tool: str, arguments: dict) -> None:
    _calls["n"] += 1
    log = os.environ.get("FAKE_MCP_CALL_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"tool": tool, "arguments": arguments}) + "\n")
    if os.environ.get("FAKE_MCP_CREDENTIALS") == "expired":
        raise ToolError("401 UNAUTHENTICATED: Request had invalid authentication credentials.")
    if _calls["n"] <= int(os.environ.get("FAKE_MCP_TRANSIENT", "0")):
        raise ToolError("503 UNAVAILABLE: The service is currently unavailable.")


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _bounds(query: str | None) -> tuple[datetime, datetime]:
    """The created_at bounds of a Shopify search query (created_at:>=X created_at:<=Y)."""
    low = re.search(r"created_at:>=(\S+)", query or "")
    high = re.search(r"created_at:<=(\S+)", query or "")
    return (_instant(low[1]) if low else datetime.min.replace(tzinfo=UTC),
            _instant(high[1]) if high else datetime.max.replace(tzinfo=UTC))


def _number(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1])


def _page(records: list, first: int, after: str | None, key: str) -> dict:
    start = int(after.split(":")[1]) if after else 0
    chunk = records[start:start + first]
    end = start + len(chunk)
    return {key: chunk, "pageInfo": {"hasNextPage": end < len(records), "endCursor": f"offset:{end}"}}


@server.tool()
def get_orders(first: int = 250, after: str | None = None, query: str | None = None) -> dict:
    """Orders created within the query's created_at bounds, oldest id first, cursor-paged."""
    _gate("get_orders", {"first": first, "after": after, "query": query})
    if os.environ.get("FAKE_MCP_MALFORMED") == "get_orders":
        return {"orders": [{"id": "gid://shopify/Order/1", "name": "#1"}], "pageInfo": {"hasNextPage": False}}
    low, high = _bounds(query)
    orders = [o for o in _load("orders.json") if low <= _instant(o["createdAt"]) <= high]
    page = _page(sorted(orders, key=lambda o: _number(o["id"])), first, after, "orders")
    if os.environ.get("FAKE_MCP_MALFORMED") == "customer_type" and page["orders"]:
        page["orders"][0]["customer"] = "gid://shopify/Customer/1"
    if os.environ.get("FAKE_MCP_MALFORMED") == "bad_created_at" and page["orders"]:
        page["orders"][0]["createdAt"] = "20/08/2025 10:00"
    return page


@server.tool()
def get_customers(first: int = 250, after: str | None = None) -> dict:
    _gate("get_customers", {"first": first, "after": after})
    if os.environ.get("FAKE_MCP_MALFORMED") == "repeat_cursor":
        return {"customers": [], "pageInfo": {"hasNextPage": True, "endCursor": "abc"}}
    return _page(_load("customers.json"), first, after, "customers")


@server.tool()
def get_products(first: int = 250, after: str | None = None) -> dict:
    _gate("get_products", {"first": first, "after": after})
    return _page(_load("products.json"), first, after, "products")


@server.tool()
def run_report(property_id: str, date_ranges: list[dict], dimensions: list[str], metrics: list[str],
               dimension_filter: dict | None = None, limit: int | None = None, offset: int | None = None) -> dict:
    """A GA4 Data API runReport over the recorded rows (dimension order as asked)."""
    _gate("run_report", {"property_id": property_id, "dimensions": dimensions, "limit": limit, "offset": offset})
    recorded = _load("ga4_steps.json" if "eventName" in dimensions else "ga4_sessions.json")
    if os.environ.get("FAKE_MCP_MALFORMED") == "run_report":
        return {"dimension_headers": [{"name": d} for d in dimensions], "metric_headers": [{"name": "sessions"}],
                "rows": [{"dimension_values": [{"value": "20250601"}], "metric_values": [{"value": "1"}]}],
                "row_count": 1}
    date_range = date_ranges[0]
    start, end = date_range["start_date"].replace("-", ""), date_range["end_date"].replace("-", "")
    allowed = set((dimension_filter or {}).get("filter", {}).get("in_list_filter", {}).get("values", [])) or None
    rows = [r for r in recorded if start <= r["date"] <= end and (allowed is None or r.get("eventName") in allowed)]
    rows.sort(key=lambda r: tuple(str(r[d]) for d in dimensions))
    first = 0 if os.environ.get("FAKE_MCP_MALFORMED") == "ignore_offset" else offset or 0
    chunk = rows[first:first + (limit or 100_000)]
    return {
        "dimension_headers": [{"name": d} for d in dimensions],
        "metric_headers": [{"name": m, "type_": "TYPE_INTEGER"} for m in metrics],
        "rows": [{"dimension_values": [{"value": str(r[d])} for d in dimensions],
                  "metric_values": [{"value": str(r[m])} for m in metrics]} for r in chunk],
        "row_count": len(rows),
        "kind": "analyticsData#runReport",
    }


def _serve_http(port: int) -> None:
    import uvicorn

    app = server.streamable_http_app()
    token = os.environ["FAKE_MCP_HTTP_TOKEN"]
    unavailable = {"left": int(os.environ.get("FAKE_MCP_HTTP_503", "0"))}

    async def guarded(scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and unavailable["left"] > 0:
            unavailable["left"] -= 1
            await send({"type": "http.response.start", "status": 503, "headers": [(b"retry-after", b"0")]})
            await send({"type": "http.response.body", "body": b"503 Service Unavailable"})
            return
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization", b"").decode() != f"Bearer {token}":
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"text/plain")]})
                await send({"type": "http.response.body", "body": b"401 Unauthorized: bad or missing token"})
                return
        await app(scope, receive, send)

    uvicorn.run(guarded, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        _serve_http(int(sys.argv[2]))
    else:
        server.run()
