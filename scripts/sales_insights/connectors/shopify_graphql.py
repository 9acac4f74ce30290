"""Shopify's Admin GraphQL objects as rows of the raw-data contract: the one mapping for every way Shopify
data comes as GraphQL (a Bulk Operation's JSONL, an MCP server wrapping the Admin API).

Mapped against Admin API 2026-07 (its fields are the same from 2025-10 to 2026-10; the deprecated fields a
store on an older version still gets are read where the new ones are missing). What it does to a value:
- ids: the number of a global id (`gid://shopify/Order/123` -> 123), of the kind the field holds;
- money: the `shopMoney` of a MoneyBag, always the shop's currency, so an order presented to its buyer in
  another currency is counted in the shop's; the amount text is kept as Shopify wrote it (staging rejects
  one with more decimals than the currency has, nothing is rounded here);
- instants: kept as written, which must carry a UTC offset (GraphQL writes `...Z`);
- enums: lower case (`PARTIALLY_REFUNDED` -> `partially_refunded`); a value the contract does not list is
  left for staging to reject with its reason, never mapped to a neighbour;
- emails: hashed on the way in (sha256 of the trimmed, lower-cased address); the address is never kept.
A field the mapping needs that is absent or of the wrong shape is an error naming where it was read
(`where`: a file and line, or an MCP tool and page) and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from sales_insights.connectors.landing import email_hash
from sales_insights.errors import SalesInsightsError

API_VERSION = "2026-07"

_GID = re.compile(r"gid://shopify/(?P<kind>[A-Za-z]+)/(?P<number>\d+)(?:\?.*)?")
_AMOUNT = re.compile(r"-?\d+(?:\.\d+)?")
_OFFSET = re.compile(r".*T.*(?:Z|[+-]\d{2}:?\d{2})")
# A buyer's email consent that counts as accepting marketing (CustomerEmailAddressMarketingState, and the
# older CustomerEmailMarketingState).
_SUBSCRIBED = "SUBSCRIBED"


class GraphQLShapeError(SalesInsightsError):
    """A Shopify object lacks a field the mapping needs, or has it in another shape."""


def _fail(where: str, detail: str) -> GraphQLShapeError:
    return GraphQLShapeError(f"{where}: {detail}")


def _object(value, where: str, field: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, f"`{field}` is {'missing' if value is None else 'not an object'}")
    return value


def _text(obj: dict, field: str, where: str, required: bool = True) -> str:
    value = obj.get(field)
    if value is None or value == "":
        if required:
            raise _fail(where, f"`{field}` is missing")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _fail(where, f"`{field}` is a {type(value).__name__}, not text: {value!r}")
    return str(value)


def gid_number(value, kind: str, where: str, field: str = "id") -> int:
    """The number of a global id of `kind` (`gid://shopify/Order/123` -> 123)."""
    match = _GID.fullmatch(value) if isinstance(value, str) else None
    if match is None or match["kind"] != kind:
        raise _fail(where, f"`{field}` is not a {kind} global id (gid://shopify/{kind}/<number>): {value!r}")
    return int(match["number"])


def _reference(obj: dict, field: str, kind: str, where: str) -> str:
    """The number of `obj[field].id` as text, or "" when the reference is null (a guest, a deleted product)."""
    target = obj.get(field)
    if target is None:
        return ""
    return str(gid_number(_object(target, where, field).get("id"), kind, where, f"{field}.id"))


def shop_amount(obj: dict, field: str, where: str, shop_currency: str, required: bool = True) -> str:
    """The shop-currency amount of the MoneyBag `obj[field]`, as written."""
    bag = obj.get(field)
    if bag is None and not required:
        return ""
    money = _object(_object(bag, where, field).get("shopMoney"), where, f"{field}.shopMoney")
    amount, currency = money.get("amount"), money.get("currencyCode")
    if not isinstance(amount, str) or not _AMOUNT.fullmatch(amount):
        raise _fail(where, f"`{field}.shopMoney.amount` is not a decimal amount: {amount!r}")
    if currency != shop_currency:
        raise _fail(where, f"`{field}.shopMoney.currencyCode` is {currency!r}, but the shop currency is "
                           f"{shop_currency} ([shop] currency in sales_insights.toml): the data is of another shop, "
                           "or the setting is wrong")
    return amount


def _matching(obj: dict, field: str, pattern: re.Pattern, what: str, where: str, required: bool = True) -> str:
    """`obj[field]` as written when it is text matching `pattern`; "" when absent and not required."""
    value = obj.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _fail(where, f"`{field}` is not {what}: {value!r}")
    return value


def _money_scalar(obj: dict, field: str, where: str, required: bool = True) -> str:
    """A legacy `Money` scalar (ProductVariant.price): a decimal string in the shop currency."""
    return _matching(obj, field, _AMOUNT, "a decimal amount", where, required)


def _instant(obj: dict, field: str, where: str, required: bool = True) -> str:
    return _matching(obj, field, _OFFSET, "an ISO-8601 instant with a UTC offset", where, required)


def _word(obj: dict, field: str) -> str:
    value = obj.get(field)
    return value.lower() if isinstance(value, str) else ""


def _boolean(obj: dict, field: str, where: str) -> str:
    value = obj.get(field)
    if not isinstance(value, bool):
        raise _fail(where, f"`{field}` is not true or false: {value!r}")
    return "true" if value else "false"


def nodes(obj: dict, field: str, where: str) -> list[dict]:
    """The nodes of a connection (`nodes`, or `edges[].node`), or a list of them (what a bulk file's child
    lines become once attached to their parent)."""
    value = obj.get(field)
    if value is None:
        return []
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict) and isinstance(value.get("nodes"), list):
        items = value["nodes"]
    elif isinstance(value, dict) and isinstance(value.get("edges"), list):
        items = [_object(edge, where, f"{field}.edges[]").get("node") for edge in value["edges"]]
    else:
        raise _fail(where, f"`{field}` is not a connection (nodes or edges) nor a list")
    return [_object(item, where, f"{field}[]") for item in items]


def _page_of(url: str) -> str:
    """Path and query of a URL (the contract's landing_site), "" for none."""
    if not url:
        return ""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def order_rows(order: dict, where: str, shop_currency: str) -> tuple[dict, list[dict], list[dict]]:
    """An Order (with its lineItems and inline refunds) as a raw_shopify_orders row, its
    raw_shopify_order_lines rows and its raw_shopify_refunds rows."""
    order = _object(order, where, "order")
    order_id = gid_number(order.get("id"), "Order", where)
    where = f"{where} (order {order_id})"
    visit = (order.get("customerJourneySummary") or {}).get("lastVisit") or {}
    row = {
        "id": str(order_id),
        "name": _text(order, "name", where),
        "created_at": _instant(order, "createdAt", where),
        "customer_id": _reference(order, "customer", "Customer", where),
        "email_hash": email_hash(order.get("email")),
        "currency": shop_currency,
        "subtotal_price": shop_amount(order, "subtotalPriceSet", where, shop_currency),
        "total_discounts": shop_amount(order, "totalDiscountsSet", where, shop_currency),
        "total_tax": shop_amount(order, "totalTaxSet", where, shop_currency),
        "total_shipping": shop_amount(order, "totalShippingPriceSet", where, shop_currency),
        "total_price": shop_amount(order, "totalPriceSet", where, shop_currency),
        "financial_status": _word(order, "displayFinancialStatus"),
        "cancelled_at": _instant(order, "cancelledAt", where, required=False),
        "source_name": _text(order, "sourceName", where, required=False),
        # The visit that ended in the order; landingPageUrl and referrerUrl are its deprecated forms.
        "landing_site": _page_of(visit.get("landingPage") or order.get("landingPageUrl") or ""),
        "referring_site": visit.get("referrerUrl") or order.get("referrerUrl") or "",
        "test": _boolean(order, "test", where),
    }
    lines = [_line_row(line, order_id, where, shop_currency) for line in nodes(order, "lineItems", where)]
    refunds = [_refund_row(refund, order_id, where, shop_currency) for refund in _list(order, "refunds", where)]
    return row, lines, refunds


def _list(obj: dict, field: str, where: str) -> list[dict]:
    value = obj.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(where, f"`{field}` is not a list")
    return [_object(item, where, f"{field}[]") for item in value]


def _line_row(line: dict, order_id: int, where: str, shop_currency: str) -> dict:
    line_id = gid_number(line.get("id"), "LineItem", where, "lineItems[].id")
    where = f"{where}, line item {line_id}"
    return {
        "id": str(line_id),
        "order_id": str(order_id),
        "product_id": _reference(line, "product", "Product", where),
        "variant_id": _reference(line, "variant", "ProductVariant", where),
        "sku": _text(line, "sku", where, required=False),
        "title": _text(line, "title", where),
        # Units ordered, refunded ones included (currentQuantity excludes them): refunds are their own rows.
        "quantity": _text(line, "quantity", where),
        "price": shop_amount(line, "originalUnitPriceSet", where, shop_currency),
        "total_discount": shop_amount(line, "totalDiscountSet", where, shop_currency),
    }


def _refund_row(refund: dict, order_id: int, where: str, shop_currency: str) -> dict:
    refund_id = gid_number(refund.get("id"), "Refund", where, "refunds[].id")
    where = f"{where}, refund {refund_id}"
    return {
        "id": str(refund_id),
        "order_id": str(order_id),
        # createdAt may be null; processedAt (2026-01 on) is when the refund was processed.
        "created_at": _instant(refund, "createdAt" if refund.get("createdAt") else "processedAt", where),
        "amount": shop_amount(refund, "totalRefundedSet", where, shop_currency),
    }


def customer_row(customer: dict, where: str) -> dict:
    """A Customer as a raw_shopify_customers row. accepts_marketing is true when the email consent is
    SUBSCRIBED (defaultEmailAddress.marketingState, from 2025-04; emailMarketingConsent before), false
    for any other state and for a customer without an email address."""
    customer = _object(customer, where, "customer")
    customer_id = gid_number(customer.get("id"), "Customer", where)
    where = f"{where} (customer {customer_id})"
    address = customer.get("defaultEmailAddress") or {}
    consent = address.get("marketingState") or (customer.get("emailMarketingConsent") or {}).get("marketingState")
    return {
        "id": str(customer_id),
        "created_at": _instant(customer, "createdAt", where),
        "email_hash": email_hash(address.get("emailAddress") or customer.get("email")),
        "accepts_marketing": "true" if consent == _SUBSCRIBED else "false",
        "country": (customer.get("defaultAddress") or {}).get("country") or "",
    }


def product_rows(product: dict, where: str) -> tuple[dict, list[dict]]:
    """A Product (with its variants) as a raw_shopify_products row and its raw_shopify_variants rows."""
    product = _object(product, where, "product")
    product_id = gid_number(product.get("id"), "Product", where)
    where = f"{where} (product {product_id})"
    row = {
        "id": str(product_id),
        "title": _text(product, "title", where),
        "product_type": _text(product, "productType", where, required=False),
        "vendor": _text(product, "vendor", where, required=False),
        "status": _word(product, "status"),
        "created_at": _instant(product, "createdAt", where),
    }
    variants = []
    for variant in nodes(product, "variants", where):
        variant_id = gid_number(variant.get("id"), "ProductVariant", where, "variants[].id")
        at = f"{where}, variant {variant_id}"
        variants.append({
            "id": str(variant_id),
            "product_id": str(product_id),
            "title": _text(variant, "title", at),
            "sku": _text(variant, "sku", at, required=False),
            "price": _money_scalar(variant, "price", at),
            "compare_at_price": _money_scalar(variant, "compareAtPrice", at, required=False),
        })
    return row, variants


def check_shop(shop: dict, where: str, shop_currency: str, reporting_timezone: str) -> None:
    """The shop the data came from (`shop { currencyCode ianaTimezone }`) against the settings: a different
    currency is an error (every amount would be counted in the wrong one), and so is a different time zone
    (the days would not be the shop's days)."""
    shop = _object(shop, where, "shop")
    currency, zone = shop.get("currencyCode"), shop.get("ianaTimezone")
    if currency != shop_currency:
        raise _fail(where, f"the shop's currency is {currency!r} but [shop] currency is {shop_currency}: set it "
                           "in sales_insights.toml (or SALES_INSIGHTS_SHOP_CURRENCY)")
    if zone != reporting_timezone:
        raise _fail(where, f"the shop's time zone is {zone!r} but [shop] reporting_timezone is {reporting_timezone}: "
                           "set it in sales_insights.toml (or SALES_INSIGHTS_REPORTING_TIMEZONE)")


def attach_children(records: Iterable[tuple[str, dict]]) -> list[dict]:
    """The root objects of a Bulk Operation's JSONL with each child line attached to its parent, under the
    connection named by the child's kind (LineItem -> lineItems, ProductVariant -> variants), in file order.
    `records` are (where, object) pairs, where names the file and line. A child may come before its parent
    (Shopify does not promise the order without groupObjects); a `__parentId` that names no object of the
    file is an error naming the child's line."""
    by_id: dict[str, dict] = {}
    roots: list[dict] = []
    children: list[tuple[str, dict]] = []
    for where, obj in records:
        obj = _object(obj, where, "line")
        if "__parentId" in obj:
            children.append((where, obj))
        else:
            roots.append(obj)
        if isinstance(obj.get("id"), str):
            by_id[obj["id"]] = obj
    for where, child in children:
        parent = by_id.get(child["__parentId"])
        if parent is None:
            raise _fail(where, f"`__parentId` {child['__parentId']!r} names no object of this file")
        match = _GID.fullmatch(child.get("id") or "")
        if match is None:
            raise _fail(where, f"a child line's `id` is not a global id: {child.get('id')!r}")
        field = _CHILD_FIELDS.get(match["kind"])
        if field is None:
            raise _fail(where, f"a {match['kind']} line: the mapping reads only {sorted(_CHILD_FIELDS)} as children")
        parent.setdefault(field, [])
        if not isinstance(parent[field], list):
            raise _fail(where, f"its parent {child['__parentId']} has `{field}` inline and as lines")
        parent[field].append(child)
    for _, child in children:
        del child["__parentId"]
    return roots


_CHILD_FIELDS = {"LineItem": "lineItems", "ProductVariant": "variants"}
