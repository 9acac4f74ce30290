"""`sales-insights extract --since DATE`: the GA4 and Shopify MCP connectors land their data as dated extract
files. For every day from DATE to the end date, each connector writes a folder with the raw tool responses
(JSON lines, for audit) and the contract CSVs of that day; re-extracting a day replaces its folder whole,
so nothing is ever counted twice. Tables that are not dated (customers, products, variants) are replaced
as a snapshot. Then `current/` is rebuilt from every day and the snapshot: the contract CSVs that
`sales-insights build --data-dir <extract dir>/current` reads.

Shopify (Admin API shape, cursor paging):
  get_orders(created_at_min, created_at_max, first, after) -> {"orders": [...], "pageInfo": {...}}
  get_customers(first, after) -> {"customers": [...], "pageInfo": {...}}
  get_products(first, after) -> {"products": [... with "variants"], "pageInfo": {...}}
GA4 (the Data API's runReport, offset paging):
  run_report(property_id, date_ranges, dimensions, metrics, dimension_filter, limit, offset)
GA4 reports are aggregates, not events: the GA4 extract is the report-level funnel table
`ga4_funnel_report` (sessions, and sessions with add_to_cart / begin_checkout / purchase, by date, channel,
device and landing page), not raw_ga4_events. See the README's "MCP extracts" for what it can and cannot
give the funnel."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sales_insights.config import GA4_PROPERTY_VARIABLE, mcp_server_variables
from sales_insights.connectors.mcp_client import (
    McpAuthError,
    McpError,
    McpSchemaError,
    RetryPolicy,
    ServerSpec,
    ToolSession,
    run_session,
    server_spec,
)
from sales_insights.pipeline.locks import exclusive_lock
from sales_insights.quality.raw_contract import GA4_FUNNEL_REPORT, TABLES_BY_NAME

SHOPIFY_DATED = ("raw_shopify_orders", "raw_shopify_order_lines", "raw_shopify_refunds")
SHOPIFY_SNAPSHOT = ("raw_shopify_customers", "raw_shopify_products", "raw_shopify_variants")
GA4_REPORT = GA4_FUNNEL_REPORT.name
GA4_REPORT_COLUMNS = tuple(GA4_FUNNEL_REPORT.column_names)
GA4_DIMENSIONS = ("date", "sessionDefaultChannelGroup", "deviceCategory", "landingPage")
GA4_STEP_EVENTS = ("add_to_cart", "begin_checkout", "purchase")
# The tools each connector calls; `status --check-mcp` and every extract check that the server has them.
REQUIRED_TOOLS = {"ga4": ("run_report",), "shopify": ("get_orders", "get_customers", "get_products")}
SHOPIFY_PAGE_SIZE = 250
GA4_PAGE_SIZE = 10_000
# A paging loop stops with an error beyond this many pages of one tool (a server whose paging never ends).
MAX_PAGES = 100_000


@dataclass
class ConnectorResult:
    connector: str
    days: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    calls: int = 0
    retries: int = 0


@dataclass(frozen=True)
class ExtractResult:
    extract_dir: Path
    current_dir: Path
    since: date
    until: date
    connectors: tuple[ConnectorResult, ...]


# ---- Shopify --------------------------------------------------------------------------------------------

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


def _email_hash(email) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest() if email else ""


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
            "email_hash": _email_hash(order.get("email")),
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


def _customer_rows(customer: dict, page: int, index: int) -> dict[str, list[dict]]:
    tool = "get_customers"
    _field(customer, "id", tool, page, index)
    consent = _object(customer.get("email_marketing_consent"), "email_marketing_consent", tool, page, index).get(
        "state")
    accepts = customer.get("accepts_marketing") if consent is None else consent == "subscribed"
    return {"raw_shopify_customers": [{
        "id": _field(customer, "id", tool, page, index),
        "created_at": _field(customer, "created_at", tool, page, index),
        "email_hash": _email_hash(customer.get("email")),
        "accepts_marketing": _boolean(bool(accepts)),
        "country": _object(customer.get("default_address"), "default_address", tool, page, index).get("country")
        or "",
    }]}


def _product_rows(product: dict, page: int, index: int) -> dict[str, list[dict]]:
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


def _add(target: dict[str, list[dict]], rows: dict[str, list[dict]]) -> None:
    for table, table_rows in rows.items():
        target.setdefault(table, []).extend(table_rows)


@dataclass
class _Landing:
    """What one connector fetched, before anything is written: per folder (a day, or the snapshot) the
    contract rows of each table and the raw records they came from."""

    tables: dict[str, dict[str, list[dict]]] = field(default_factory=dict)
    audit: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, folder: str, rows: dict[str, list[dict]], audit_line: dict) -> None:
        _add(self.tables.setdefault(folder, {}), rows)
        self.audit.setdefault(folder, []).append(audit_line)


async def _extract_shopify(session: ToolSession, since: date, until: date, page_size: int,
                           result: ConnectorResult) -> _Landing:
    landing = _Landing({d: {t: [] for t in SHOPIFY_DATED} for d in _days(since, until)},
                       {d: [] for d in _days(since, until)})
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
    for tool, key, mapper in (("get_customers", "customers", _customer_rows),
                              ("get_products", "products", _product_rows)):
        async for audit, page, index, record in _cursor_pages(session, tool, key, {}, result, page_size):
            landing.add("snapshot", mapper(record, page, index), audit)
    return landing


# ---- GA4 ------------------------------------------------------------------------------------------------

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


async def _extract_ga4(session: ToolSession, property_id: str, since: date, until: date, page_size: int,
                       result: ConnectorResult) -> _Landing:
    totals = await _run_report(session, property_id, since, until, GA4_DIMENSIONS, ("sessions",), None, result,
                               page_size)
    steps = await _run_report(
        session, property_id, since, until, (*GA4_DIMENSIONS, "eventName"), ("sessions",),
        {"filter": {"field_name": "eventName", "in_list_filter": {"values": list(GA4_STEP_EVENTS)}}},
        result, page_size)
    table: dict[tuple, dict] = {}
    audit: dict[str, list[dict]] = {d: [] for d in _days(since, until)}
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
    landing = _Landing({d: {GA4_REPORT: []} for d in _days(since, until)}, audit)
    for key in sorted(table):
        if key[0] not in landing.tables:
            raise McpSchemaError(f"the ga4 MCP server's run_report: a row dated {key[0]}, outside {since} to {until}")
        # report_date as GA4 writes it (YYYYMMDD, the contract's type); the folder is the ISO date
        landing.tables[key[0]][GA4_REPORT].append(dict(zip(
            GA4_REPORT_COLUMNS, (key[0].replace("-", ""), *key[1:], *table[key].values()), strict=True)))
    return landing


# ---- files ----------------------------------------------------------------------------------------------

def _days(since: date, until: date) -> list[str]:
    return [(since + timedelta(days=n)).isoformat() for n in range((until - since).days + 1)]


def _write_csv(path: Path, table: str, rows: Iterable[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=TABLES_BY_NAME[table].column_names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _staged(target: Path, fill: Callable[[Path], None]) -> Path:
    """A new version of folder `target`, written beside it (hidden) by `fill`; readable by everyone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        os.chmod(staging, 0o755)
        fill(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _swap_in(staging: Path, target: Path) -> None:
    """Put a staged folder in the place of `target`. The old folder is moved aside first and put back if the
    move of the new one fails; one that a crash left aside is put back by `_recover`."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _recover(directory: Path) -> None:
    """After a crash: put back a folder left aside whose place is empty, and remove unfinished ones."""
    if not directory.is_dir():
        return
    for path in sorted(directory.iterdir()):
        match = re.fullmatch(r"\.(.+)\.(old|new)-\w+", path.name)
        if not match or not path.is_dir():
            continue
        target = directory / match.group(1)
        if match.group(2) == "old" and not target.exists():
            os.replace(path, target)
        else:
            shutil.rmtree(path, ignore_errors=True)


# Personal fields of the raw records: the audit file keeps a hash of an email, and none of the rest.
_PERSONAL = {"first_name", "last_name", "name_on_card", "phone", "address1", "address2", "zip", "latitude",
             "longitude", "company", "note", "browser_ip"}


def _scrub(value):
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            if key == "email":
                out["email_sha256"] = _email_hash(inner) if isinstance(inner, str) else None
            elif key not in _PERSONAL:
                out[key] = _scrub(inner)
        return out
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _folder_filler(tables: dict[str, list[dict]], audit: list[dict]) -> Callable[[Path], None]:
    def fill(folder: Path) -> None:
        with (folder / "responses.jsonl").open("w", encoding="utf-8") as handle:
            for line in audit:
                handle.write(json.dumps(_scrub(line), sort_keys=True) + "\n")
        for table, rows in tables.items():
            _write_csv(folder / f"{table}.csv", table, rows)

    return fill


def day_folders(connector_dir: Path) -> list[Path]:
    return sorted(p for p in connector_dir.glob("????-??-??") if p.is_dir())


def assemble_current(extract_dir: Path) -> Path:
    """current/: every day's CSVs of each dated table concatenated in day order, and the snapshot's tables.
    An order found in two day folders (its day moved, say the store changed its time zone) is kept once,
    from the newest folder, with its lines and refunds."""
    def fill(folder: Path) -> None:
        days = day_folders(extract_dir / "shopify")
        order_day = {row["id"]: day.name for day in days for row in _read_csv(day / "raw_shopify_orders.csv")}
        for table in SHOPIFY_DATED:
            if not days:
                continue
            key = "id" if table == "raw_shopify_orders" else "order_id"
            _write_csv(folder / f"{table}.csv", table, (row for day in days for row in _read_csv(day / f"{table}.csv")
                                                        if order_day.get(row[key]) == day.name))
        ga4_days = day_folders(extract_dir / "ga4")
        if ga4_days:
            _write_csv(folder / f"{GA4_REPORT}.csv", GA4_REPORT,
                       (row for day in ga4_days for row in _read_csv(day / f"{GA4_REPORT}.csv")))
        snapshot = extract_dir / "shopify" / "snapshot"
        for table in SHOPIFY_SNAPSHOT:
            if (snapshot / f"{table}.csv").exists():
                shutil.copyfile(snapshot / f"{table}.csv", folder / f"{table}.csv")

    current = extract_dir / "current"
    _swap_in(_staged(current, fill), current)
    return current


def _read_csv(path: Path):
    if not path.exists():
        return
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _write_landings(extract_dir: Path, fetched: list) -> None:
    """Stage every folder of every connector, then swap them in, then rebuild current/. A failure while
    staging changes nothing; one while swapping leaves each day old or new, whole, and current/ as it was."""
    staged: list[tuple[Path, Path]] = []
    try:
        for connector, landing, _ in fetched:
            for name, tables in landing.tables.items():
                target = extract_dir / connector / name
                staged.append((_staged(target, _folder_filler(tables, landing.audit.get(name, []))), target))
        while staged:
            staging, target = staged[0]
            _swap_in(staging, target)
            staged.pop(0)
    finally:
        for staging, _ in staged:
            shutil.rmtree(staging, ignore_errors=True)
    assemble_current(extract_dir)


def check_connectors(retry: RetryPolicy | None = None) -> list[dict]:
    """Per connector: is its server configured, can a session be opened, does it have the tools we call."""
    checks = []
    for connector, tools in REQUIRED_TOOLS.items():
        try:
            spec = server_spec(connector)
        except McpError as exc:
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
            checks.append({"connector": connector, "state": "ready", "server": spec.describe(),
                           "detail": "tools " + ", ".join(t for t in found if t in tools)})
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
            _recover(folder)
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
        if connector == "shopify":
            def extract(session, size=size, result=result):
                return _extract_shopify(session, since, until, size, result)
        else:
            property_id = os.environ.get(GA4_PROPERTY_VARIABLE, "")
            if not property_id:
                raise McpError(f"the ga4 connector needs {GA4_PROPERTY_VARIABLE} (the GA4 property to report on)")

            def extract(session, size=size, result=result, property_id=property_id):
                return _extract_ga4(session, property_id, since, until, size, result)

        async def work(session, connector=connector, extract=extract, result=result):
            await session.require_tools(REQUIRED_TOOLS[connector])
            landing = await extract(session)
            result.calls, result.retries = session.calls, session.retries
            return landing

        fetched.append((connector, run_session(spec, work, retry), result))
    # Everything was fetched before anything is written: an extract that fails while fetching changes no file.
    try:
        _write_landings(extract_dir, fetched)
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
