"""The tables of Fivetran's Shopify connector (`fivetran_shopify/`, one CSV per table, named after it) as the
six raw-contract tables. Column names are the connector's (docs: fivetran.com/docs/connectors/applications/
shopify, and the column lists of the dbt package fivetran/dbt_shopify_source); headers match case-blind,
so a Snowflake export's upper-case names work, and a UTF-8 byte-order mark is skipped.

What each contract column is made of (a derivation is named where the connector keeps the value elsewhere):
- orders: `order.csv` (`id`, `name`, `created_at`, `customer_id`, `currency` (the shop's; the buyer's is
  presentment_currency, not read), `subtotal_price`, `total_discounts`, `total_tax`, `total_price`,
  `financial_status`, `cancelled_at`, `source_name`, `referring_site`, `test`); `email` hashed as the
  other sources hash it; `total_shipping` = the shop-money amount of `total_shipping_price_set`, or
  without that column the sum of `order_shipping_line.csv` `price` over the order's shipping lines;
  `landing_site` = the path of `landing_site_base_url` and, from `order_url_tag.csv` where present, its
  query (`key=value` pairs in the file's order: the connector keeps the landing URL's parameters there);
- order lines: `order_line.csv` (`id`, `order_id`, `product_id`, `variant_id`, `sku`, `title`,
  `quantity`, `price`, `total_discount`);
- refunds: `refund.csv` (`id`, `order_id`, `created_at`, else `processed_at`); `amount` = the refunded
  lines' `subtotal` + `total_tax` (`order_line_refund.csv`) - the refund's adjustments' `amount` +
  `tax_amount` (`order_adjustment.csv`: a shipping refund or a refund discrepancy, written negative), as
  the dbt package derives it;
- customers: `customer.csv` (`id`, `created_at`); `email` hashed; `accepts_marketing` = whether
  `email_marketing_consent_state` is `subscribed` (the connector's `accepts_marketing` where that column
  is absent); `country` = the customer's default address in `customer_address.csv` (`is_default`), empty
  without that file (a warning says so);
- products: `product.csv` (`id`, `title`, `product_type`, `vendor`, `status`, `created_at`); variants:
  `product_variant.csv` (`id`, `product_id`, `title`, `sku`, `price`, `compare_at_price`).
Rows the connector marks deleted (`_fivetran_deleted` true, on order, customer and product) are left out,
with a warning naming their lines. A timestamp in the connector's form without an offset
(`2020-09-11 13:26:15.000`: Fivetran writes UTC) gets `Z`; any other text is passed on for staging to
judge. `shop.csv`, where present, is checked against the shop settings (`currency`, `iana_timezone`).
A file or column a derivation needs that is missing, or an amount it sums that is not a number, is an
error naming the file, the column and the line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from sales_insights.config import ShopConfig
from sales_insights.connectors.shopify_graphql import check_shop
from sales_insights.errors import SalesInsightsError, format_rows
from sales_insights.pipeline.raw_lines import ends_with_line_break, has_extra_lines, record_line_ranges
from sales_insights.pipeline.shopify_layouts import FIVETRAN_DIR, publish
from sales_insights.sql import sql_identifier, sql_string

# The connector's tables the mapping reads, with the columns it needs of each.
REQUIRED = {
    "order": ("id", "name", "created_at", "customer_id", "email", "currency", "subtotal_price", "total_discounts",
              "total_tax", "total_price", "financial_status", "cancelled_at", "source_name",
              "landing_site_base_url", "referring_site", "test"),
    "order_line": ("id", "order_id", "product_id", "variant_id", "sku", "title", "quantity", "price",
                   "total_discount"),
    "refund": ("id", "order_id", "created_at"),
    "order_line_refund": ("refund_id", "subtotal", "total_tax"),
    "order_adjustment": ("refund_id", "amount", "tax_amount"),
    "customer": ("id", "created_at", "email"),
    "product": ("id", "title", "product_type", "vendor", "status", "created_at"),
    "product_variant": ("id", "product_id", "title", "sku", "price", "compare_at_price"),
}
OPTIONAL = {
    "order_shipping_line": ("order_id", "price"),
    "order_url_tag": ("order_id", "key", "value"),
    "customer_address": ("customer_id", "country", "is_default"),
    "shop": ("currency", "iana_timezone"),
}
_DELETABLE = ("order", "customer", "product", "shop")
_AMOUNT = r"^\s*-?[0-9]+([.][0-9]{1,6})?\s*$"


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    return [h.strip().lower() for h in header]


def _line_breaks(path: Path) -> int:
    breaks = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 23):
            breaks += chunk.count(b"\n")
    return breaks


def _read(con: duckdb.DuckDBPyConnection, folder: Path, name: str, needed: tuple[str, ...]) -> list[str]:
    """Load `<name>.csv` as text into temp table ft_<name>, with `_line`, the line each row starts on."""
    path = folder / f"{name}.csv"
    header = _header(path)
    missing = [c for c in needed if c not in header]
    if missing:
        raise SalesInsightsError(f"{path}: its header (line 1) lacks column(s) {', '.join(missing)}, which the "
                                 f"Fivetran mapping reads; it has {', '.join(header) or 'none'}")
    columns = "{" + ", ".join(f"{sql_string(h)}: 'VARCHAR'" for h in header) + "}"
    reader = (f"read_csv({sql_string(str(path))}, header = true, auto_detect = false, columns = {columns}, "
              "delim = ',', quote = '\"', escape = '\"', strict_mode = true)")
    table = f"ft_{name}"
    try:
        con.execute(f"create or replace temp table {table} as select * from {reader}")
    except duckdb.Error as exc:
        raise SalesInsightsError(f"{path}: could not be read as CSV: {exc}") from exc
    records = con.execute(f"select count(*) from {table}").fetchone()[0]
    breaks = _line_breaks(path)
    con.execute(f"alter table {table} add column _line bigint")
    con.execute(f"update {table} set _line = rowid + 2")
    if has_extra_lines(breaks, records, ends_with_line_break(path)):
        ranges, _ = record_line_ranges(path, len(header))
        for r in ranges:
            con.execute(f"update {table} set _line = _line + ? where _line between ? and ?",
                        [r.extra_lines, r.from_line, r.to_line])
    return header


def _drop_deleted(con: duckdb.DuckDBPyConnection, name: str, header: list[str], warnings: list[str]) -> None:
    if "_fivetran_deleted" not in header:
        return
    table = f"ft_{name}"
    lines = [r[0] for r in con.execute(
        f"select _line from {table} where lower(trim(_fivetran_deleted)) = 'true' order by _line").fetchall()]
    if lines:
        con.execute(f"delete from {table} where lower(trim(_fivetran_deleted)) = 'true'")
        warnings.append(f"{FIVETRAN_DIR}/{name}.csv: {len(lines)} row(s) the connector marks deleted "
                        f"(_fivetran_deleted) left out, at line(s) {format_rows(lines)}")


def _check_amounts(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...]) -> None:
    """An amount that a derivation sums must be a number: the error names the file, column and line."""
    for column in columns:
        bad = con.execute(
            f"select _line, {sql_identifier(column)} from ft_{name} where {sql_identifier(column)} is not null "
            f"and not regexp_full_match({sql_identifier(column)}, {sql_string(_AMOUNT)}) order by _line limit 1"
        ).fetchone()
        if bad:
            raise SalesInsightsError(f"{FIVETRAN_DIR}/{name}.csv line {bad[0]}, column {column}: {bad[1]!r} is not "
                                     "an amount, and the refund or shipping it adds to cannot be derived")


def _instant(column: str) -> str:
    """SQL: the connector's UTC timestamp without an offset, with one (`Z`); other text as it is."""
    return (f"case when regexp_full_match(trim({column}), "
            f"'[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.][0-9]+)?)?') "
            f"then trim({column}) || 'Z' else {column} end")


def _sum_text(expression: str) -> str:
    """SQL: a sum of amounts as text with as many decimals as its parts had (at least two): nothing rounded."""
    return (f"regexp_replace(cast(cast({expression} as decimal(38, 6)) as varchar), "
            r"'([.][0-9]{2}[0-9]*?)0+$', '\1')")


def _email_hash(column: str) -> str:
    return f"case when trim(coalesce({column}, '')) <> '' then sha256(lower(trim({column}))) end"


def _location(name: str) -> str:
    return f"{sql_string(f'{FIVETRAN_DIR}/{name}.csv line ')} || _line"


def _shipping(con: duckdb.DuckDBPyConnection, headers: dict[str, list[str]]) -> tuple[str, str]:
    """(SQL of the order's shipping amount over `o` and `s`, the CTE `s` it joins)."""
    by_lines = "select null::varchar as order_id, null::decimal(38, 6) as shipping where false"
    if "order_shipping_line" in headers:
        _check_amounts(con, "order_shipping_line", ("price",))
        by_lines = ("select trim(order_id) as order_id, sum(cast(trim(price) as decimal(38, 6))) as shipping "
                    "from ft_order_shipping_line where price is not null group by all")
    if "total_shipping_price_set" in headers["order"]:
        bad = con.execute(
            "select _line, total_shipping_price_set from ft_order where trim(coalesce(total_shipping_price_set, '')) "
            "<> '' and not (json_valid(total_shipping_price_set) and regexp_full_match(coalesce(json_extract_string("
            f"total_shipping_price_set, '$.shop_money.amount'), ''), {sql_string(_AMOUNT)})) order by _line limit 1"
        ).fetchone()
        if bad:
            raise SalesInsightsError(f"{FIVETRAN_DIR}/order.csv line {bad[0]}, column total_shipping_price_set: "
                                     f"{bad[1]!r} is not a MoneyBag with a shop_money amount")
        amount = ("coalesce(nullif(json_extract_string(o.total_shipping_price_set, '$.shop_money.amount'), ''), "
                  f"{_sum_text('s.shipping')})")
    elif "order_shipping_line" in headers:
        amount = f"{_sum_text('coalesce(s.shipping, 0)')}"
    else:
        raise SalesInsightsError(f"{FIVETRAN_DIR}/order.csv: has no total_shipping_price_set column and there is no "
                                 "order_shipping_line.csv: the orders' shipping cannot be derived")
    return amount, by_lines


def _landing(headers: dict[str, list[str]]) -> tuple[str, str]:
    """(SQL of the landing page, path and query, over `o` and `t`; the CTE `t` of each order's URL tags)."""
    tags = "select null::varchar as order_id, null::varchar as query where false"
    if "order_url_tag" in headers:
        tags = ("select trim(order_id) as order_id, string_agg(key || '=' || coalesce(value, ''), '&' order by _line) "
                "as query from ft_order_url_tag where key is not null group by all")
    base = "o.landing_site_base_url"
    path = f"regexp_extract({base}, '^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)', 1)"
    query = f"nullif(regexp_extract({base}, '[?]([^#]*)', 1), '')"
    return (f"case when trim(coalesce({base}, '')) <> '' then coalesce(nullif({path}, ''), '/') "
            f"|| coalesce('?' || coalesce({query}, t.query), '') end"), tags


def _orders(con: duckdb.DuckDBPyConnection, headers: dict[str, list[str]]) -> str:
    shipping, by_lines = _shipping(con, headers)
    landing, tags = _landing(headers)
    con.execute(f"""
        create or replace temp view ft_orders as
        with s as ({by_lines}), t as ({tags})
        select o.id, o.name, {_instant('o.created_at')} as created_at, o.customer_id,
            {_email_hash('o.email')} as email_hash, o.currency, o.subtotal_price, o.total_discounts, o.total_tax,
            {shipping} as total_shipping, o.total_price, o.financial_status,
            {_instant('o.cancelled_at')} as cancelled_at, o.source_name, {landing} as landing_site,
            o.referring_site, o.test, {_location('order')} as _location, o._line as _order
        from ft_order as o
        left join s on s.order_id = trim(o.id)
        left join t on t.order_id = trim(o.id)
    """)
    return "ft_orders"


def _refunds(con: duckdb.DuckDBPyConnection, headers: dict[str, list[str]]) -> str:
    _check_amounts(con, "order_line_refund", ("subtotal", "total_tax"))
    _check_amounts(con, "order_adjustment", ("amount", "tax_amount"))
    when = ("coalesce(nullif(trim(r.created_at), ''), r.processed_at)" if "processed_at" in headers["refund"]
            else "r.created_at")
    con.execute(f"""
        create or replace temp view ft_refunds as
        with refunded_lines as (
            select trim(refund_id) as refund_id,
                sum(coalesce(cast(trim(subtotal) as decimal(38, 6)), 0)
                    + coalesce(cast(trim(total_tax) as decimal(38, 6)), 0)) as amount
            from ft_order_line_refund group by all
        ),
        adjustments as (
            select trim(refund_id) as refund_id,
                sum(coalesce(cast(trim(amount) as decimal(38, 6)), 0)
                    + coalesce(cast(trim(tax_amount) as decimal(38, 6)), 0)) as amount
            from ft_order_adjustment where trim(coalesce(refund_id, '')) <> '' group by all
        )
        select r.id, r.order_id, {_instant(when)} as created_at,
            {_sum_text('coalesce(l.amount, 0) - coalesce(a.amount, 0)')} as amount,
            {_location('refund')} as _location, r._line as _order
        from ft_refund as r
        left join refunded_lines as l on l.refund_id = trim(r.id)
        left join adjustments as a on a.refund_id = trim(r.id)
    """)
    return "ft_refunds"


def _customers(con: duckdb.DuckDBPyConnection, headers: dict[str, list[str]], warnings: list[str]) -> str:
    header = headers["customer"]
    consent = "email_marketing_consent_state" in header
    if not consent and "accepts_marketing" not in header:
        raise SalesInsightsError(f"{FIVETRAN_DIR}/customer.csv: has neither email_marketing_consent_state nor "
                                 "accepts_marketing, so whether a customer accepts marketing cannot be read")
    legacy = "c.accepts_marketing" if "accepts_marketing" in header else "'false'"
    marketing = (f"case when c.email_marketing_consent_state is null then {legacy} "
                 "when lower(trim(c.email_marketing_consent_state)) = 'subscribed' then 'true' else 'false' end"
                 if consent else legacy)
    addresses = "select null::varchar as customer_id, null::varchar as country where false"
    if "customer_address" in headers:
        addresses = ("select trim(customer_id) as customer_id, arg_min(country, _line) as country "
                     "from ft_customer_address where lower(trim(is_default)) = 'true' group by all")
    else:
        warnings.append(f"{FIVETRAN_DIR}/: no customer_address.csv, so the customers' country is empty")
    con.execute(f"""
        create or replace temp view ft_customers as
        with a as ({addresses})
        select c.id, {_instant('c.created_at')} as created_at, {_email_hash('c.email')} as email_hash,
            {marketing} as accepts_marketing, a.country, {_location('customer')} as _location, c._line as _order
        from ft_customer as c
        left join a on a.customer_id = trim(c.id)
    """)
    return "ft_customers"


def _plain(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], instants: tuple[str, ...] = ()) -> str:
    """A table whose contract columns are the connector's columns of the same names."""
    select = ", ".join(_instant(c) + f" as {c}" if c in instants else c for c in columns)
    con.execute(f"create or replace temp view ft_{name}s as select {select}, {_location(name)} as _location, "
                f"_line as _order from ft_{name}")
    return f"ft_{name}s"


def _check_shop_file(con: duckdb.DuckDBPyConnection, shop: ShopConfig) -> None:
    rows = con.execute("select currency, iana_timezone, _line from ft_shop order by _line").fetchall()
    if len(rows) != 1:
        raise SalesInsightsError(f"{FIVETRAN_DIR}/shop.csv: holds {len(rows)} shops (not deleted); the build "
                                 "reads one shop's data")
    currency, zone, line = rows[0]
    check_shop({"currencyCode": currency, "ianaTimezone": zone}, f"{FIVETRAN_DIR}/shop.csv line {line}",
               shop.currency, shop.reporting_timezone)


def load_fivetran(con: duckdb.DuckDBPyConnection, folder: Path, schema: str, shop: ShopConfig
                  ) -> tuple[dict[str, int], list[str]]:
    """Load `fivetran_shopify/` into the raw tables; returns the rows per table and the warnings."""
    missing = [f"{name}.csv" for name in REQUIRED if not (folder / f"{name}.csv").is_file()]
    if missing:
        raise SalesInsightsError(f"{folder}: missing the connector's table(s) {', '.join(missing)}; "
                                 f"{FIVETRAN_DIR}/ needs {', '.join(f'{n}.csv' for n in REQUIRED)}")
    warnings: list[str] = []
    headers = {name: _read(con, folder, name, needed) for name, needed in REQUIRED.items()}
    headers.update({name: _read(con, folder, name, needed) for name, needed in OPTIONAL.items()
                    if (folder / f"{name}.csv").is_file()})
    for name in _DELETABLE:
        if name in headers:
            _drop_deleted(con, name, headers[name], warnings)
    if "shop" in headers:
        _check_shop_file(con, shop)
    staged = {
        "raw_shopify_orders": _orders(con, headers),
        "raw_shopify_order_lines": _plain(con, "order_line", REQUIRED["order_line"]),
        "raw_shopify_refunds": _refunds(con, headers),
        "raw_shopify_customers": _customers(con, headers, warnings),
        "raw_shopify_products": _plain(con, "product", REQUIRED["product"], ("created_at",)),
        "raw_shopify_variants": _plain(con, "product_variant", REQUIRED["product_variant"]),
    }
    return publish(con, schema, staged, folder), warnings
