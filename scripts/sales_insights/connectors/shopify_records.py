"""Shopify Admin API records (orders with their lines and refunds, customers, products with their
variants) as rows of the raw contract, fetched from the Shopify MCP server by cursor paging. A record
without a field the contract needs is an error naming the tool, page and record, never a guess."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sales_insights.connectors.landing import (
    SHOPIFY_DATED,
    SHOPIFY_SNAPSHOT,
    ConnectorResult,
    Landing,
    days_between,
    email_hash,
)
from sales_insights.connectors.mcp_client import MAX_PAGES, McpSchemaError, ToolSession

SHOPIFY_PAGE_SIZE = 250


def _schema(connector: str, tool: str, page: int, detail: str) -> McpSchemaError:
    return McpSchemaError(f"the {connector} MCP server's {tool} response, page {page}: {detail}")


def _field(record: dict, name: str, tool: str, page: int, index: int, required: bool = True):
    if not isinstance(record, dict):
        raise _schema("shopify", tool, page, f"record {index} is a {type(record).__name__}, not an object")
    value = record.get(name)
    if required and value in (None, ""):
        raise _schema("shopify", tool, page, f"record {index} (id {record.get('id')}) has no `{name}`")
    return value


def _money(value, tool: str, page: int, index: int, name: str) -> str:
    try:
        amount = Decimal(str(value)) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise _schema("shopify", tool, page, f"record {index}: `{name}` is not an amount: {value!r}")
    return str(amount.quantize(Decimal("0.01")))


def _object(value, what: str, tool: str, page: int, index: int) -> dict:
    """A nested object of a record ({} when absent)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _schema("shopify", tool, page, f"record {index}: `{what}` is a {type(value).__name__}, not an object")
    return value


def _list(value, what: str, tool: str, page: int, index: int) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _schema("shopify", tool, page, f"record {index}: `{what}` is a {type(value).__name__}, not a list")
    return value


def _day_of(created_at, tool: str, page: int, index: int) -> str:
    """The date of a Shopify timestamp in its own offset (the store's day), which it must carry."""
    try:
        instant = datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise _schema("shopify", tool, page, f"record {index}: `created_at` is not an ISO-8601 timestamp with an "
                                             f"offset: {created_at!r}")
    return instant.date().isoformat()


def _boolean(value) -> str:
    return "" if value is None else ("true" if value else "false")


def _shipping(order: dict, page: int, index: int) -> object:
    price_set = _object(order.get("total_shipping_price_set"), "total_shipping_price_set", "get_orders", page, index)
    money = _object(price_set.get("shop_money"), "total_shipping_price_set.shop_money", "get_orders", page, index)
    return money.get("amount", order.get("total_shipping", "0"))


def shopify_order_rows(order: dict, page: int, index: int) -> dict[str, list[dict]]:
    """One Admin API order as rows of raw_shopify_orders, raw_shopify_order_lines and raw_shopify_refunds."""
    tool = "get_orders"
    order_id = _field(order, "id", tool, page, index)
    customer = _object(order.get("customer"), "customer", tool, page, index)
    rows = {
        "raw_shopify_orders": [{
            "id": order_id,
            "name": _field(order, "name", tool, page, index),
            "created_at": _field(order, "created_at", tool, page, index),
            "customer_id": customer.get("id", ""),
            "email_hash": email_hash(order.get("email")),
            "currency": _field(order, "currency", tool, page, index),
            **{m: _money(_field(order, m, tool, page, index), tool, page, index, m)
               for m in ("subtotal_price", "total_discounts", "total_tax", "total_price")},
            "total_shipping": _money(_shipping(order, page, index), tool, page, index, "total_shipping_price_set"),
            "financial_status": _field(order, "financial_status", tool, page, index),
            "cancelled_at": order.get("cancelled_at") or "",
            "source_name": order.get("source_name") or "",
            "landing_site": order.get("landing_site") or "",
            "referring_site": order.get("referring_site") or "",
            "test": _boolean(bool(order.get("test"))),
        }],
        "raw_shopify_order_lines": [],
        "raw_shopify_refunds": [],
    }
    lines = order.get("line_items")
    if not isinstance(lines, list):
        raise _schema("shopify", tool, page, f"record {index} (id {order_id}) has no `line_items` list")
    for line in lines:
        line = _object(line, "line_items[]", tool, page, index)
        rows["raw_shopify_order_lines"].append({
            "id": _field(line, "id", tool, page, index),
            "order_id": order_id,
            "product_id": line.get("product_id") or "",
            "variant_id": line.get("variant_id") or "",
            "sku": line.get("sku") or "",
            "title": _field(line, "title", tool, page, index),
            "quantity": _field(line, "quantity", tool, page, index),
            "price": _money(_field(line, "price", tool, page, index), tool, page, index, "price"),
            "total_discount": _money(line.get("total_discount", "0"), tool, page, index, "total_discount"),
        })
    for refund in _list(order.get("refunds"), "refunds", tool, page, index):
        refund = _object(refund, "refunds[]", tool, page, index)
        transactions = [_object(t, "refunds[].transactions[]", tool, page, index)
                        for t in _list(refund.get("transactions"), "refunds[].transactions", tool, page, index)]
        amount = sum((Decimal(_money(t.get("amount", "0"), tool, page, index, "refunds[].transactions[].amount"))
                      for t in transactions if t.get("kind", "refund") == "refund"), Decimal(0))
        rows["raw_shopify_refunds"].append({
            "id": _field(refund, "id", tool, page, index),
            "order_id": order_id,
            "created_at": _field(refund, "created_at", tool, page, index),
            "amount": str(amount.quantize(Decimal("0.01"))),
        })
    return rows


def customer_rows(customer: dict, page: int, index: int) -> dict[str, list[dict]]:
    tool = "get_customers"
    _field(customer, "id", tool, page, index)
    consent = _object(customer.get("email_marketing_consent"), "email_marketing_consent", tool, page, index).get(
        "state")
    accepts = customer.get("accepts_marketing") if consent is None else consent == "subscribed"
    return {"raw_shopify_customers": [{
        "id": _field(customer, "id", tool, page, index),
        "created_at": _field(customer, "created_at", tool, page, index),
        "email_hash": email_hash(customer.get("email")),
        "accepts_marketing": _boolean(bool(accepts)),
        "country": _object(customer.get("default_address"), "default_address", tool, page, index).get("country")
        or "",
    }]}


def product_rows(product: dict, page: int, index: int) -> dict[str, list[dict]]:
    tool = "get_products"
    product_id = _field(product, "id", tool, page, index)
    rows = {"raw_shopify_products": [{
        "id": product_id,
        "title": _field(product, "title", tool, page, index),
        "product_type": product.get("product_type") or "",
        "vendor": product.get("vendor") or "",
        "status": _field(product, "status", tool, page, index),
        "created_at": _field(product, "created_at", tool, page, index),
    }], "raw_shopify_variants": []}
    for variant in _list(product.get("variants"), "variants", tool, page, index):
        variant = _object(variant, "variants[]", tool, page, index)
        rows["raw_shopify_variants"].append({
            "id": _field(variant, "id", tool, page, index),
            "product_id": product_id,
            "title": _field(variant, "title", tool, page, index),
            "sku": variant.get("sku") or "",
            "price": _money(_field(variant, "price", tool, page, index), tool, page, index, "price"),
            "compare_at_price": "" if variant.get("compare_at_price") in (None, "") else _money(
                variant["compare_at_price"], tool, page, index, "compare_at_price"),
        })
    return rows


async def _cursor_pages(session: ToolSession, tool: str, key: str, arguments: dict, result: ConnectorResult,
                        page_size: int):
    """Every record of a cursor-paged Shopify tool: (its audit line, page number, index in the page, record)."""
    after, page, seen = None, 0, set()
    while True:
        page += 1
        if page > MAX_PAGES:
            raise _schema("shopify", tool, page, f"more than {MAX_PAGES} pages: the server's paging does not end")
        args = {**arguments, "first": page_size, **({"after": after} if after else {})}
        response = await session.call(tool, args)
        result.pages += 1
        if not isinstance(response, dict) or not isinstance(response.get(key), list):
            raise _schema("shopify", tool, page, f"no `{key}` list in the response")
        for index, record in enumerate(response[key]):
            yield {"tool": tool, "arguments": args, "page": page, "record": record}, page, index, record
        info = response.get("pageInfo") or response.get("page_info") or {}
        has_next = info.get("hasNextPage", info.get("has_next_page"))
        if not isinstance(has_next, bool):
            raise _schema("shopify", tool, page, "no `pageInfo.hasNextPage`")
        if not has_next:
            return
        after = info.get("endCursor") or info.get("end_cursor")
        if not after:
            raise _schema("shopify", tool, page, "`pageInfo.hasNextPage` is true but there is no `endCursor`")
        if after in seen:
            raise _schema("shopify", tool, page, f"the cursor {after!r} came back: the server's paging repeats")
        seen.add(after)


async def extract_shopify(session: ToolSession, since: date, until: date, page_size: int,
                           result: ConnectorResult) -> Landing:
    landing = Landing({d: {t: [] for t in SHOPIFY_DATED} for d in days_between(since, until)},
                       {d: [] for d in days_between(since, until)})
    # An order's day is the date of its created_at in the store's own offset. The query asks a day more on
    # each side in UTC, so every order of the days asked for is in it whatever the store's time zone; orders
    # of the days around are left to the extracts of those days.
    window = ((since - timedelta(days=2)).isoformat(), (until + timedelta(days=2)).isoformat())
    arguments = {"created_at_min": f"{since - timedelta(days=1)}T00:00:00Z",
                 "created_at_max": f"{until + timedelta(days=1)}T23:59:59Z"}
    async for audit, page, index, order in _cursor_pages(session, "get_orders", "orders", arguments, result,
                                                         page_size):
        rows = shopify_order_rows(order, page, index)
        day = _day_of(rows["raw_shopify_orders"][0]["created_at"], "get_orders", page, index)
        if not window[0] <= day <= window[1]:
            raise _schema("shopify", "get_orders", page, f"record {index} (id {order.get('id')}) was created on "
                                                         f"{day}, outside the window asked for")
        if day in landing.tables:
            landing.add(day, rows, audit)
    landing.tables["snapshot"] = {t: [] for t in SHOPIFY_SNAPSHOT}
    for tool, key, mapper in (("get_customers", "customers", customer_rows),
                              ("get_products", "products", product_rows)):
        async for audit, page, index, record in _cursor_pages(session, tool, key, {}, result, page_size):
            landing.add("snapshot", mapper(record, page, index), audit)
    return landing
