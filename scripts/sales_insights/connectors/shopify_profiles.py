"""Server profiles: how the Shopify connector talks to an MCP server that wraps the Admin GraphQL API.

A profile names the server's three tools (orders, customers, products), their arguments (page size, cursor,
search query), where the records sit in a tool's result, the fields the server renames, and what the
server cannot deliver (`gaps`: no paging, line items or refunds capped). Records are Admin GraphQL objects
(camelCase fields, global ids, MoneyBags) and are mapped by connectors.shopify_graphql, the one mapping.

Built in (`[mcp.shopify] profile` in sales_insights.toml, or SALES_INSIGHTS_MCP_SHOPIFY_PROFILE):
- `admin-graphql` (the default): a server whose tools get_orders, get_customers and get_products take
  `first`, `after` and a Shopify search `query` and answer `{orders: [...], pageInfo: {hasNextPage,
  endCursor}}` with the Admin API's objects as the Bulk Operation queries of docs/sources.md ask for them.
- `shopify-mcp`: the npm package shopify-mcp 1.0.8 (tools get-orders, get-customers, get-products).
- `junis-shopify-mcp`: the npm package @junis/shopify-mcp 1.4.4 (the same tool names, cursor paging).
Another server is described in sales_insights.toml (`[mcp.shopify.profiles.NAME]`, docs/mcp.md).

What a server cannot deliver makes the extract incomplete, and so blocked, never a silently smaller
revenue: the profile's gaps, and every field the mapping needs that the server's records lack (checked
on the first page, before anything is written).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sales_insights.config import project_config
from sales_insights.errors import SalesInsightsError

PROFILE_VARIABLE = "SALES_INSIGHTS_MCP_SHOPIFY_PROFILE"
KINDS = ("orders", "customers", "products")

# The fields of each object the mapping reads that must be in a record (a null value is the mapping's to
# judge; an absent field means the server does not send it).
NEEDED = {
    "orders": ("id", "name", "createdAt", "test", "displayFinancialStatus", "subtotalPriceSet", "totalDiscountsSet",
               "totalTaxSet", "totalShippingPriceSet", "totalPriceSet", "refunds", "lineItems"),
    "lineItems": ("id", "title", "quantity", "originalUnitPriceSet", "totalDiscountSet"),
    "customers": ("id", "createdAt"),
    "products": ("id", "title", "status", "createdAt", "variants"),
    "variants": ("id", "title", "price"),
}


@dataclass(frozen=True)
class ToolProfile:
    """One tool: its name, the key of the records' list in its result, and its argument names (None: the
    tool has no such argument)."""

    name: str
    records: str
    page_size: str = "first"
    cursor: str | None = "after"
    query: str | None = "query"


@dataclass(frozen=True)
class ServerProfile:
    name: str
    server: str  # what the profile describes, for messages
    tools: dict[str, ToolProfile]
    # GraphQL field of an order -> the server's field for it, where the server renames; a MoneyBag field
    # whose server field holds the shopMoney itself is wrapped back.
    renames: dict[str, str] = field(default_factory=dict)
    gaps: tuple[str, ...] = ()
    max_page_size: int = 250

    def tool(self, kind: str) -> ToolProfile:
        return self.tools[kind]

    @property
    def tool_names(self) -> tuple[str, ...]:
        return tuple(self.tools[k].name for k in KINDS)

    def as_graphql(self, record: dict) -> dict:
        """An order record with the server's renamed fields under their GraphQL names."""
        if not isinstance(record, dict):
            return record
        node = dict(record)
        for graphql, own in self.renames.items():
            if graphql not in node and own in record:
                value = record[own]
                node[graphql] = {"shopMoney": value} if graphql.endswith("Set") and isinstance(value, dict) else value
        return node


def missing_fields(kind: str, record: dict) -> list[str]:
    """The fields the mapping needs that `record` (of orders, customers or products) does not have, its
    children's as `lineItems[].field` / `variants[].field`."""
    missing = [f for f in NEEDED[kind] if f not in record]
    child = {"orders": "lineItems", "products": "variants"}.get(kind)
    items = record.get(child) if child else None
    if isinstance(items, dict):
        items = items.get("nodes") or [e.get("node") for e in items.get("edges") or [] if isinstance(e, dict)]
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            missing += [f"{child}[].{f}" for f in NEEDED[child] if f not in item and f"{child}[].{f}" not in missing]
    return missing


def _same_tools(orders: str, customers: str, products: str, **arguments) -> dict[str, ToolProfile]:
    return {kind: ToolProfile(name, kind, **arguments) for kind, name in
            zip(KINDS, (orders, customers, products), strict=True)}


BUILT_IN = {
    "admin-graphql": ServerProfile(
        "admin-graphql", "a server answering with the Admin API's objects (get_orders, get_customers, get_products)",
        _same_tools("get_orders", "get_customers", "get_products")),
    "shopify-mcp": ServerProfile(
        "shopify-mcp", "npm shopify-mcp 1.0.8",
        _same_tools("get-orders", "get-customers", "get-products", page_size="limit", cursor=None, query=None),
        renames={"totalPriceSet": "totalPrice", "subtotalPriceSet": "subtotalPrice",
                 "totalShippingPriceSet": "totalShippingPrice", "totalTaxSet": "totalTax",
                 "displayFinancialStatus": "financialStatus"},
        gaps=("its get-orders has no paging and no date filter: one call gives the first `limit` orders and "
              "no way to the rest",
              "it asks for at most 10 line items an order (lineItems(first: 10)) and cannot page the rest"),
    ),
    "junis-shopify-mcp": ServerProfile(
        "junis-shopify-mcp", "npm @junis/shopify-mcp 1.4.4",
        _same_tools("get-orders", "get-customers", "get-products"),
        renames={"displayFinancialStatus": "financialStatus", "totalShippingPriceSet": "totalShipping"},
        gaps=("its get-orders sends an order's current totals (after refunds, returns and edits), not the totals "
              "as ordered",
              "it asks for at most 50 line items and 5 refunds an order and cannot page the rest"),
    ),
}


def _custom(name: str, table: dict, where: str) -> ServerProfile:
    """A profile described in sales_insights.toml: [mcp.shopify.profiles.NAME]."""
    known = {"server", "tools", "records", "arguments", "gaps"}
    unknown = set(table) - known
    if unknown:
        raise SalesInsightsError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    tools, records, arguments = (table.get(k, {}) for k in ("tools", "records", "arguments"))
    if not isinstance(tools, dict) or set(tools) != set(KINDS) or not all(isinstance(v, str) for v in tools.values()):
        raise SalesInsightsError(f"{where}: `tools` must name the server's tool for each of {', '.join(KINDS)}, "
                                 'as tools = { orders = "...", customers = "...", products = "..." }')
    bad = set(arguments) - {"page_size", "cursor", "query"}
    if bad or not isinstance(records, dict) or set(records) - set(KINDS):
        raise SalesInsightsError(f"{where}: `arguments` takes page_size, cursor and query; `records` takes "
                                 f"{', '.join(KINDS)}")
    # an argument left out takes the default profile's name; "" says the tool has none
    args = {"page_size": arguments.get("page_size") or "first", "cursor": arguments.get("cursor", "after") or None,
            "query": arguments.get("query", "query") or None}
    gaps = table.get("gaps", [])
    if not isinstance(gaps, list) or not all(isinstance(g, str) for g in gaps):
        raise SalesInsightsError(f"{where}: `gaps` is a list of what the server cannot deliver")
    return ServerProfile(name, str(table.get("server", name)),
                         {k: ToolProfile(tools[k], records.get(k, k), **args) for k in KINDS}, gaps=tuple(gaps))


def load_profile(mcp_config: dict, config_path: Path, environ: dict[str, str] | None = None) -> ServerProfile:
    """The Shopify server profile in force: SALES_INSIGHTS_MCP_SHOPIFY_PROFILE, else `[mcp.shopify] profile`
    of sales_insights.toml (`mcp_config` is its [mcp] table), else admin-graphql."""
    env = os.environ if environ is None else environ
    shopify = mcp_config.get("shopify", {}) if isinstance(mcp_config, dict) else {}
    custom = shopify.get("profiles", {}) if isinstance(shopify, dict) else {}
    name = env.get(PROFILE_VARIABLE) or (shopify.get("profile") if isinstance(shopify, dict) else None) \
        or "admin-graphql"
    if isinstance(custom, dict) and name in custom:
        return _custom(name, custom[name], f"{config_path}: [mcp.shopify.profiles.{name}]")
    if name not in BUILT_IN:
        raise SalesInsightsError(
            f"the Shopify MCP server profile {name!r} ({PROFILE_VARIABLE} or [mcp.shopify] profile in {config_path}) "
            f"is neither built in ({', '.join(BUILT_IN)}) nor described under [mcp.shopify.profiles.{name}]")
    return BUILT_IN[name]


def project_profile(project_dir: Path, environ: dict[str, str] | None = None) -> ServerProfile:
    """The profile in force for the project in project_dir."""
    data, path = project_config(project_dir)
    return load_profile(data.get("mcp", {}), path, environ)
