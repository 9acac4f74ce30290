"""The generator's Shopify tables rewritten as Shopify and its connectors deliver them, so that every layout
the loader reads (pipeline.shopify_layouts) is tested on the same store:

- bulk: `shopify_bulk/orders.jsonl`, `customers.jsonl`, `products.jsonl` as a Bulk Operation writes them
  (Admin GraphQL objects, camelCase fields, global ids, MoneyBags, upper-case enums, UTC instants written
  with `Z`; line items and variants on their own lines after their parent, with `__parentId`);
- fivetran: `fivetran_shopify/*.csv`, the tables of Fivetran's Shopify connector (its column names, a
  UTF-8 byte-order mark, `TRUE`/`FALSE`, UTC timestamps without an offset, the shipping total as a
  MoneyBag JSON and in order_shipping_line, a refund's amount split over order_line_refund and an
  order_adjustment, the landing page's query in order_url_tag, the country in customer_address, and an
  order the connector marks deleted).

The source is the contract CSVs the generator wrote; the buyers' emails (the CSVs hold only their hashes)
come from the generator's rule, shopper-<visitor>@example.com. A value the contract rejects is written as
it is wherever the layout can carry it (Fivetran's text columns can; the JSONL's typed fields cannot, so
the generator plants no bad Shopify rows in a bulk store). Neither layout gets a shop file: the
generated shop's time zone is not the default reporting one.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from sales_insights.pipeline.shopify_layouts import BULK_DIR, FIVETRAN_DIR, SHOPIFY_TABLES

SHOP_DOMAIN = "https://shop.example.com"
_SYNCED = "2026-01-01 00:00:00.000"


def email_map(visitors: int) -> dict[str, str]:
    """The generator's buyers' emails by their hash (visitor -1 buys as a customer who never visits)."""
    emails = [f"shopper-{u}@example.com" for u in range(-1, visitors)]
    return {hashlib.sha256(e.encode()).hexdigest(): e for e in emails}


def _read(data_dir: Path) -> dict[str, list[dict]]:
    tables = {}
    for table in SHOPIFY_TABLES:
        with (data_dir / table.file_name).open(encoding="utf-8", newline="") as handle:
            tables[table.name] = list(csv.DictReader(handle))
    return tables


def _utc(text: str, fivetran: bool) -> str:
    """An instant with an offset in UTC (`Z` for GraphQL, no offset for Fivetran); other text as it is."""
    try:
        instant = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    if instant.tzinfo is None:
        return text
    instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%d %H:%M:%S.000") if fivetran else instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _gid(kind: str, number: str) -> str:
    return f"gid://shopify/{kind}/{number}"


def _money(amount: str, currency: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": currency}}


def write_layout(data_dir: Path, layout: str, visitors: int) -> None:
    """Rewrite data_dir's six Shopify CSVs as `layout` ("bulk" or "fivetran"), and remove them."""
    tables = _read(data_dir)
    emails = email_map(visitors)
    if layout == "bulk":
        _write_bulk(data_dir / BULK_DIR, tables, emails)
    else:
        _write_fivetran(data_dir / FIVETRAN_DIR, tables, emails)
    for table in SHOPIFY_TABLES:
        (data_dir / table.file_name).unlink()


# --------------------------------------------------------------------------------------------------
# bulk


def _jsonl(path: Path, objects: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for obj in objects:
            handle.write(json.dumps(obj, separators=(",", ":")) + "\n")


def _bulk_order(order: dict, emails: dict[str, str], refunds: list[dict]) -> dict:
    currency = order["currency"]
    visit = None
    if order["landing_site"]:
        visit = {"lastVisit": {"landingPage": SHOP_DOMAIN + order["landing_site"],
                               "referrerUrl": order["referring_site"] or None}}
    return {
        "id": _gid("Order", order["id"]), "name": order["name"], "createdAt": _utc(order["created_at"], False),
        "customer": {"id": _gid("Customer", order["customer_id"])} if order["customer_id"] else None,
        "email": emails.get(order["email_hash"]),
        "subtotalPriceSet": _money(order["subtotal_price"], currency),
        "totalDiscountsSet": _money(order["total_discounts"], currency),
        "totalTaxSet": _money(order["total_tax"], currency),
        "totalShippingPriceSet": _money(order["total_shipping"], currency),
        "totalPriceSet": _money(order["total_price"], currency),
        "displayFinancialStatus": order["financial_status"].upper(),
        "cancelledAt": _utc(order["cancelled_at"], False) or None,
        "sourceName": order["source_name"] or None,
        "customerJourneySummary": visit,
        "test": order["test"] == "true",
        "refunds": [{"id": _gid("Refund", r["id"]), "createdAt": _utc(r["created_at"], False),
                     "totalRefundedSet": _money(r["amount"], currency)} for r in refunds],
    }


def _bulk_line(line: dict, currency: str) -> dict:
    return {
        "id": _gid("LineItem", line["id"]), "title": line["title"], "sku": line["sku"] or None,
        "quantity": int(line["quantity"]),
        "originalUnitPriceSet": _money(line["price"], currency),
        "totalDiscountSet": _money(line["total_discount"], currency),
        "product": {"id": _gid("Product", line["product_id"])} if line["product_id"] else None,
        "variant": {"id": _gid("ProductVariant", line["variant_id"])} if line["variant_id"] else None,
        "__parentId": _gid("Order", line["order_id"]),
    }


def _by(rows: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row[key], []).append(row)
    return grouped


def _children(parent: dict, field: str, children: list[dict], nested: bool) -> list[dict]:
    """`children` of `parent` under the connection `field` (nested), or as their own lines after it."""
    if nested:
        parent[field] = {"nodes": [{k: v for k, v in c.items() if k != "__parentId"} for c in children]}
        return [parent]
    return [parent, *children]


def graphql_objects(tables: dict[str, list[dict]], emails: dict[str, str], nested: bool) -> dict[str, list[dict]]:
    """The store's orders, customers and products as Admin GraphQL objects: with their line items and
    variants as connections (nested), or as a Bulk Operation writes them, each child a line after its parent."""
    lines_of, refunds_of = _by(tables["raw_shopify_order_lines"], "order_id"), _by(tables["raw_shopify_refunds"],
                                                                                      "order_id")
    orders = []
    for order in tables["raw_shopify_orders"]:
        node = _bulk_order(order, emails, refunds_of.get(order["id"], []))
        orders.extend(_children(node, "lineItems", [_bulk_line(line, order["currency"])
                                                    for line in lines_of.get(order["id"], [])], nested))
    customers = [{
        "id": _gid("Customer", c["id"]), "createdAt": _utc(c["created_at"], False),
        "defaultEmailAddress": {
            "emailAddress": emails.get(c["email_hash"]),
            "marketingState": "SUBSCRIBED" if c["accepts_marketing"] == "true" else "NOT_SUBSCRIBED",
        },
        "defaultAddress": {"country": c["country"]} if c["country"] else None,
    } for c in tables["raw_shopify_customers"]]
    variants_of = _by(tables["raw_shopify_variants"], "product_id")
    products = []
    for p in tables["raw_shopify_products"]:
        node = {"id": _gid("Product", p["id"]), "title": p["title"], "productType": p["product_type"],
                "vendor": p["vendor"], "status": p["status"].upper(), "createdAt": _utc(p["created_at"], False)}
        products.extend(_children(node, "variants", [
            {"id": _gid("ProductVariant", v["id"]), "title": v["title"], "sku": v["sku"] or None,
             "price": v["price"], "compareAtPrice": v["compare_at_price"] or None,
             "__parentId": _gid("Product", p["id"])} for v in variants_of.get(p["id"], [])], nested))
    return {"orders": orders, "customers": customers, "products": products}


def read_graphql_objects(data_dir: Path, visitors: int) -> dict[str, list[dict]]:
    """A generated store's Shopify CSVs as nested Admin GraphQL objects (what an MCP server's tools return)."""
    return graphql_objects(_read(data_dir), email_map(visitors), nested=True)


def _write_bulk(folder: Path, tables: dict[str, list[dict]], emails: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, objects in graphql_objects(tables, emails, nested=False).items():
        _jsonl(folder / f"{kind}.jsonl", objects)


# --------------------------------------------------------------------------------------------------
# fivetran


def _csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    # Fivetran's CSV exports start with a byte-order mark
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _flag(value: str) -> str:
    return {"true": "TRUE", "false": "FALSE"}.get(value, value)


def _landing(landing_site: str) -> tuple[str, list[tuple[str, str]]]:
    """A landing page as the connector keeps it: the URL without its query, and the query's pairs."""
    if not landing_site:
        return "", []
    parts = urlsplit(SHOP_DOMAIN + landing_site)
    return SHOP_DOMAIN + parts.path, parse_qsl(parts.query, keep_blank_values=True)


def _fivetran_order(order: dict, emails: dict[str, str], deleted: bool) -> dict:
    base, _ = _landing(order["landing_site"])
    shipping = {"shop_money": {"amount": order["total_shipping"], "currency_code": order["currency"]},
                "presentment_money": {"amount": order["total_shipping"], "currency_code": order["currency"]}}
    return {
        "id": order["id"], "name": order["name"], "email": emails.get(order["email_hash"], ""),
        "created_at": _utc(order["created_at"], True), "updated_at": _utc(order["created_at"], True),
        "customer_id": order["customer_id"], "currency": order["currency"], "presentment_currency": order["currency"],
        "subtotal_price": order["subtotal_price"], "total_discounts": order["total_discounts"],
        "total_tax": order["total_tax"], "total_price": order["total_price"],
        "total_shipping_price_set": json.dumps(shipping, separators=(",", ":")),
        "financial_status": order["financial_status"], "cancelled_at": _utc(order["cancelled_at"], True),
        "source_name": order["source_name"], "landing_site_base_url": base,
        "referring_site": order["referring_site"], "test": _flag(order["test"]),
        "_fivetran_deleted": "TRUE" if deleted else "FALSE", "_fivetran_synced": _SYNCED,
    }


def _fivetran_orders(folder: Path, orders: list[dict], emails: dict[str, str]) -> None:
    rows = [_fivetran_order(o, emails, False) for o in orders]
    # an order deleted in Shopify after a sync: the connector keeps it, marked
    rows.insert(len(rows) // 2, {**_fivetran_order(orders[0], emails, True), "id": "5499999999999", "name": "#999"})
    _csv(folder / "order.csv", list(rows[0]), rows)
    tags, shipping_lines = [], []
    # one set of child rows per order id, the planted copies of an order sharing them (the connector keys
    # them by the order)
    for order in {o["id"]: o for o in orders[::-1]}.values():  # the first row of each id
        tags.extend({"order_id": order["id"], "key": k, "value": v, "_fivetran_synced": _SYNCED}
                    for k, v in _landing(order["landing_site"])[1])
        if order["total_shipping"] and Decimal(order["total_shipping"]) != 0:
            shipping_lines.append({"id": f"7{order['id']}", "order_id": order["id"], "title": "Standard",
                                   "price": order["total_shipping"], "discounted_price": order["total_shipping"],
                                   "_fivetran_synced": _SYNCED})
    _csv(folder / "order_url_tag.csv", ["order_id", "key", "value", "_fivetran_synced"], tags)
    _csv(folder / "order_shipping_line.csv", ["id", "order_id", "title", "price", "discounted_price",
                                              "_fivetran_synced"], shipping_lines)


def _refund_parts(refund: dict, line_id: str) -> tuple[dict, dict | None]:
    """A refund's amount as the connector splits it: refunded lines (subtotal and tax) and, for a larger
    refund, a shipping refund as an order adjustment (negative)."""
    try:
        amount = Decimal(refund["amount"])
    except InvalidOperation:
        amount = None
    larger = amount is not None and amount > 10
    shipping, tax = (Decimal("5.00"), Decimal("1.00")) if larger else (Decimal(0), Decimal(0))
    subtotal = refund["amount"] if amount is None else f"{amount - shipping - tax:.2f}"
    line = {"id": f"3{refund['id']}", "refund_id": refund["id"], "order_line_id": line_id, "quantity": "1",
            "subtotal": subtotal, "total_tax": f"{tax:.2f}", "restock_type": "return"}
    adjustment = None
    if shipping:
        adjustment = {"id": f"4{refund['id']}", "order_id": refund["order_id"], "refund_id": refund["id"],
                      "amount": f"{-shipping:.2f}", "tax_amount": "0.00", "kind": "shipping_refund",
                      "reason": "Shipping refund"}
    return line, adjustment


def _fivetran_refunds(folder: Path, refunds: list[dict], first_line: dict[str, str]) -> None:
    rows, lines, adjustments = [], [], []
    for refund in refunds:
        rows.append({"id": refund["id"], "order_id": refund["order_id"],
                     "created_at": _utc(refund["created_at"], True), "processed_at": _utc(refund["created_at"], True),
                     "note": "", "restock": "TRUE", "_fivetran_synced": _SYNCED})
        line, adjustment = _refund_parts(refund, first_line.get(refund["order_id"], ""))
        lines.append(line)
        if adjustment:
            adjustments.append(adjustment)
    _csv(folder / "refund.csv", ["id", "order_id", "created_at", "processed_at", "note", "restock",
                                 "_fivetran_synced"], rows)
    _csv(folder / "order_line_refund.csv", ["id", "refund_id", "order_line_id", "quantity", "subtotal",
                                            "total_tax", "restock_type"], lines)
    _csv(folder / "order_adjustment.csv", ["id", "order_id", "refund_id", "amount", "tax_amount", "kind",
                                           "reason"], adjustments)


def _fivetran_customers(folder: Path, customers: list[dict], emails: dict[str, str]) -> None:
    rows, addresses = [], []
    for c in customers:
        subscribed = c["accepts_marketing"] == "true"
        rows.append({"id": c["id"], "email": emails.get(c["email_hash"], ""),
                     "created_at": _utc(c["created_at"], True), "updated_at": _utc(c["created_at"], True),
                     "accepts_marketing": _flag(c["accepts_marketing"]),
                     "email_marketing_consent_state": "subscribed" if subscribed else "not_subscribed",
                     "state": "enabled", "_fivetran_synced": _SYNCED})
        if c["country"]:
            addresses.append({"id": f"2{c['id']}", "customer_id": c["id"], "country": c["country"],
                              "is_default": "TRUE", "_fivetran_synced": _SYNCED})
    _csv(folder / "customer.csv", list(rows[0]), rows)
    _csv(folder / "customer_address.csv", ["id", "customer_id", "country", "is_default", "_fivetran_synced"],
         addresses)


def _write_fivetran(folder: Path, tables: dict[str, list[dict]], emails: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _fivetran_orders(folder, tables["raw_shopify_orders"], emails)
    lines = tables["raw_shopify_order_lines"]
    _csv(folder / "order_line.csv", ["id", "order_id", "product_id", "variant_id", "sku", "title", "name",
                                     "quantity", "price", "total_discount", "_fivetran_synced"],
         [{**{k: line[k] for k in ("id", "order_id", "product_id", "variant_id", "sku", "title", "quantity",
                                   "price", "total_discount")}, "name": line["title"], "_fivetran_synced": _SYNCED}
          for line in lines])
    first_line: dict[str, str] = {}
    for line in lines:
        first_line.setdefault(line["order_id"], line["id"])
    _fivetran_refunds(folder, tables["raw_shopify_refunds"], first_line)
    _fivetran_customers(folder, tables["raw_shopify_customers"], emails)
    _csv(folder / "product.csv", ["id", "title", "handle", "product_type", "vendor", "status", "created_at",
                                  "_fivetran_deleted", "_fivetran_synced"],
         [{**{k: p[k] for k in ("id", "title", "product_type", "vendor", "status")},
           "handle": p["title"].lower().replace(" ", "-"), "created_at": _utc(p["created_at"], True),
           "_fivetran_deleted": "FALSE", "_fivetran_synced": _SYNCED} for p in tables["raw_shopify_products"]])
    _csv(folder / "product_variant.csv", ["id", "product_id", "title", "sku", "price", "compare_at_price",
                                          "_fivetran_synced"],
         [{**v, "_fivetran_synced": _SYNCED} for v in tables["raw_shopify_variants"]])
