"""Shopify data as Shopify and its connectors deliver it, loaded into the six raw-contract tables.

A data directory holds its Shopify data one way, its layout:
- flat: the six raw_shopify_*.csv files of the raw-data contract (pipeline.load reads them);
- bulk: `shopify_bulk/`, the JSONL results of Bulk Operation queries (orders.jsonl, customers.jsonl,
  products.jsonl, and optionally shop.json), mapped by connectors.shopify_graphql, the project's one
  mapping of Shopify's Admin GraphQL objects;
- fivetran: `fivetran_shopify/`, the tables of Fivetran's Shopify connector as CSV files
  (pipeline.fivetran_shopify).

Whatever the layout, the result is the raw tables of the contract with every value as text, for staging to
type and judge as it does the flat files, and one row per raw row in meta.raw_row_locations naming where
the row was read ("shopify_bulk/orders.jsonl line 17", "fivetran_shopify/refund.csv line 5"), which
staging.stg_rejected_rows shows for a rejected row. A layout is loaded whole each time (only the flat
files have an append path).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from sales_insights.config import ShopConfig
from sales_insights.connectors.shopify_graphql import (
    attach_children,
    check_shop,
    customer_row,
    nodes,
    order_rows,
    product_rows,
)
from sales_insights.errors import SalesInsightsError
from sales_insights.quality.raw_contract import TABLES, Table
from sales_insights.sql import sql_identifier

BULK_DIR = "shopify_bulk"
FIVETRAN_DIR = "fivetran_shopify"
LOCATIONS_TABLE = "meta.raw_row_locations"
SHOPIFY_TABLES: tuple[Table, ...] = tuple(t for t in TABLES if t.source == "shopify")
_LAYOUT_NAMES = {"flat": "raw_shopify_*.csv", "bulk": f"{BULK_DIR}/", "fivetran": f"{FIVETRAN_DIR}/"}
BULK_FILES = {"orders": "orders.jsonl", "customers": "customers.jsonl", "products": "products.jsonl"}


def shopify_layout(data_dir: Path) -> str:
    """"flat", "bulk" or "fivetran": how data_dir holds its Shopify data ("flat" when it holds none, so the
    contract's files are asked for). Raises when it holds more than one."""
    present = [layout for layout, there in (
        ("flat", any((data_dir / t.file_name).is_file() for t in SHOPIFY_TABLES)),
        ("bulk", (data_dir / BULK_DIR).is_dir()),
        ("fivetran", (data_dir / FIVETRAN_DIR).is_dir()),
    ) if there]
    if len(present) > 1:
        raise SalesInsightsError(
            f"{data_dir}: has Shopify data as {' and as '.join(_LAYOUT_NAMES[p] for p in present)}; Shopify comes "
            "one way only (the six raw_shopify_*.csv files, a Bulk Operation's JSONL in shopify_bulk/, or "
            "Fivetran's tables in fivetran_shopify/): keep one"
        )
    return present[0] if present else "flat"


def ensure_locations_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists meta")
    con.execute(f"create table if not exists {LOCATIONS_TABLE} "
                "(table_name varchar, record_line bigint, source_location varchar)")


def drop_locations(con: duckdb.DuckDBPyConnection, table_names: list[str]) -> None:
    ensure_locations_table(con)
    for name in table_names:
        con.execute(f"delete from {LOCATIONS_TABLE} where table_name = ?", [name])


def publish(con: duckdb.DuckDBPyConnection, schema: str, staged: dict[str, str], where: Path) -> dict[str, int]:
    """Write each Shopify raw table from `staged[name]`, a relation with the contract's columns (text), the
    row's `_location` and its `_order` (the order the rows take in the raw table, so a row's record line is
    its place); record the locations. Returns the rows per table."""
    drop_locations(con, [t.name for t in SHOPIFY_TABLES])
    counts = {}
    for table in SHOPIFY_TABLES:
        source = staged[table.name]
        columns = ", ".join(f"cast({sql_identifier(c)} as varchar) as {sql_identifier(c)}" for c in table.column_names)
        target = f"{sql_identifier(schema)}.{sql_identifier(table.name)}"
        con.execute(f"create or replace table {target} as select {columns} from {source} order by _order")
        con.execute(f"insert into {LOCATIONS_TABLE} select ?, row_number() over (order by _order) + 1, _location "
                    f"from {source}", [table.name]).fetchall()
        counts[table.name] = con.execute(f"select count(*) from {target}").fetchall()[0][0]
        if counts[table.name] == 0 and not table.may_be_empty:
            raise SalesInsightsError(f"{where}: holds no {table.name.removeprefix('raw_shopify_')}; the build needs "
                                     "at least one")
    return counts


# --------------------------------------------------------------------------------------------------
# bulk: a Bulk Operation's JSONL


def _jsonl(path: Path, label: str) -> list[tuple[str, dict]]:
    """(where, object) per line of a JSONL file; where is "<label> line N"."""
    if not path.is_file():
        raise SalesInsightsError(f"{path}: file not found; {BULK_DIR}/ needs {', '.join(BULK_FILES.values())} "
                                 "(the README gives the Bulk Operation query of each)")
    records = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            where = f"{label} line {number}"
            if not text.strip():
                raise SalesInsightsError(f"{path}: line {number} is blank; a Bulk Operation writes one object a line")
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SalesInsightsError(f"{path}: line {number} is not JSON ({exc.msg} at column {exc.colno})") \
                    from exc
            if not isinstance(obj, dict):
                raise SalesInsightsError(f"{path}: line {number} is not a JSON object")
            records.append((where, obj))
    return records


def _roots(folder: Path, kind: str) -> list[tuple[str, dict, dict[int, str]]]:
    """The root objects of a bulk file with their line, and the line of every object (by id())."""
    label = f"{BULK_DIR}/{BULK_FILES[kind]}"
    records = _jsonl(folder / BULK_FILES[kind], label)
    where_of = {id(obj): where for where, obj in records}
    return [(where_of[id(root)], root, where_of) for root in attach_children(records)]


class _Rows:
    """Rows of the six tables in the making, each with where it was read and its place."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {t.name: [] for t in SHOPIFY_TABLES}

    def add(self, table: str, row: dict, where: str) -> None:
        rows = self.rows[table]
        rows.append({**{k: (v if v != "" else None) for k, v in row.items()}, "_location": where,
                     "_order": len(rows)})

    def stage(self, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
        staged = {}
        for table in SHOPIFY_TABLES:
            columns = [*table.column_names, "_location", "_order"]
            frame = pd.DataFrame(self.rows[table.name], columns=columns, dtype=object)
            frame["_order"] = frame["_order"].astype("int64")
            name = f"_bulk_{table.name}"
            con.register(name, frame)
            staged[table.name] = name
        return staged


def load_bulk(con: duckdb.DuckDBPyConnection, folder: Path, schema: str, shop: ShopConfig) -> dict[str, int]:
    """Load `shopify_bulk/` into the raw tables; returns the rows per table."""
    shop_file = folder / "shop.json"
    if shop_file.is_file():
        try:
            shop_object = json.loads(shop_file.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise SalesInsightsError(f"{shop_file}: not JSON ({exc.msg} at line {exc.lineno})") from exc
        # the query's whole answer ({"data": {"shop": ...}}), its data, or the shop object itself
        for key in ("data", "shop"):
            if isinstance(shop_object, dict) and isinstance(shop_object.get(key), dict):
                shop_object = shop_object[key]
        check_shop(shop_object, f"{BULK_DIR}/shop.json", shop.currency, shop.reporting_timezone)
    rows = _Rows()
    for where, order, where_of in _roots(folder, "orders"):
        order_row, lines, refunds = order_rows(order, where, shop.currency)
        rows.add("raw_shopify_orders", order_row, where)
        for item, line in zip(nodes(order, "lineItems", where), lines, strict=True):
            rows.add("raw_shopify_order_lines", line, where_of.get(id(item), where))
        for refund in refunds:
            rows.add("raw_shopify_refunds", refund, where)
    for where, customer, _ in _roots(folder, "customers"):
        rows.add("raw_shopify_customers", customer_row(customer, where), where)
    for where, product, where_of in _roots(folder, "products"):
        product_row, variants = product_rows(product, where)
        rows.add("raw_shopify_products", product_row, where)
        for item, variant in zip(nodes(product, "variants", where), variants, strict=True):
            rows.add("raw_shopify_variants", variant, where_of.get(id(item), where))
    staged = rows.stage(con)
    try:
        return publish(con, schema, staged, folder)
    finally:
        for name in staged.values():
            con.unregister(name)
