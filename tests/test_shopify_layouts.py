"""Shopify's data in each layout the loader reads (the flat contract CSVs, a Bulk Operation's JSONL, Fivetran's
tables): one generated store written in each loads to the same raw rows and builds to the same marts, and
bad input in a layout is a clear error naming its file and line."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import bad_row_share
from sales_insights.config import ShopConfig, load_settings
from sales_insights.devtools.generate import GeneratorConfig, generate
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.build import build
from sales_insights.pipeline.data_source import DataSource
from sales_insights.pipeline.load import load_data_dir
from sales_insights.pipeline.shopify_layouts import SHOPIFY_TABLES

LAYOUTS = ("flat", "bulk", "fivetran")
STORE = {"seed": 11, "users": 1500, "days": 90, "bad_rows": False}
USD_UTC = ShopConfig(currency="USD", reporting_timezone="UTC", free_shipping_threshold=75)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    """The same small store written in each Shopify layout."""
    root = tmp_path_factory.mktemp("layouts")
    for layout in LAYOUTS:
        generate(root / layout, GeneratorConfig(**STORE, shopify_format=layout))
    return {layout: root / layout for layout in LAYOUTS}


def _load(data_dir: Path, shop: ShopConfig = USD_UTC):
    con = duckdb.connect()
    return load_data_dir(con, data_dir, shop=shop), con


def _rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Each Shopify raw table's rows in order, instants as instants and flags in lower case (the layouts write
    them in their own forms; staging reads all of them alike)."""
    rows = {}
    for table in SHOPIFY_TABLES:
        columns = [f"try_cast({c} as timestamptz)" if c in ("created_at", "cancelled_at")
                   else f"lower({c})" if c in ("test", "accepts_marketing") else c for c in table.column_names]
        rows[table.name] = con.execute(f"select {', '.join(columns)} from raw.{table.name}").fetchall()
    return rows


def _copy(store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(store, target)
    return target


def _edit_csv(path: Path, edit) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows = edit(rows)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_each_layout_loads_the_rows_of_the_flat_files(stores):
    flat_report, flat = _load(stores["flat"])
    expected = _rows(flat)
    assert all(expected[t.name] for t in SHOPIFY_TABLES if t.name != "raw_shopify_refunds")
    assert expected["raw_shopify_refunds"], "the store has refunds, so their derivation is compared"
    for layout in ("bulk", "fivetran"):
        report, con = _load(stores[layout])
        assert report.shopify_layout == layout
        assert _rows(con) == expected, layout
        assert {t: report.row_counts[t] for t in expected} == {t: flat_report.row_counts[t] for t in expected}
    # the connector's deleted order is left out, and said so with its line
    assert any("order.csv: 1 row(s) the connector marks deleted" in w and "line(s) 38" in w for w in report.warnings)


def test_fivetran_tables_carry_the_flat_files_bad_rows_to_staging(tmp_path):
    config = {"seed": 7, "users": 4000, "days": 150}
    generate(tmp_path / "flat", GeneratorConfig(**config))
    generate(tmp_path / "fivetran", GeneratorConfig(**config, shopify_format="fivetran"))
    planted = json.loads((tmp_path / "fivetran" / "generator.json").read_text())["planted_losses"]
    assert planted["raw_shopify_orders"] == 3 and planted["raw_shopify_refunds"] == 1
    assert _rows(_load(tmp_path / "fivetran")[1]) == _rows(_load(tmp_path / "flat")[1])


def test_a_bulk_store_plants_no_bad_shopify_rows(tmp_path):
    generate(tmp_path / "bulk", GeneratorConfig(seed=7, users=800, days=60, shopify_format="bulk"))
    planted = json.loads((tmp_path / "bulk" / "generator.json").read_text())["planted_losses"]
    assert planted["raw_ga4_events"] > 0
    assert all(planted[t.name] == 0 for t in SHOPIFY_TABLES)


def test_refund_amount_is_refunded_lines_plus_tax_less_adjustments(stores, tmp_path):
    store = _copy(stores["fivetran"], tmp_path)
    folder = store / "fivetran_shopify"
    order_id = next(csv.DictReader((folder / "order.csv").open(encoding="utf-8-sig")))["id"]
    _edit_csv(folder / "refund.csv", lambda rows: [*rows, {**rows[0], "id": "77", "order_id": order_id,
                                                           "created_at": "", "processed_at": "2025-07-01 10:00:00"}])
    _edit_csv(folder / "order_line_refund.csv", lambda rows: [
        *rows, {**rows[0], "id": "71", "refund_id": "77", "subtotal": "10.00", "total_tax": "0.80"},
        {**rows[0], "id": "72", "refund_id": "77", "subtotal": "5.005", "total_tax": ""}])
    # a shipping refund and a refund discrepancy, written negative as Shopify writes them
    _edit_csv(folder / "order_adjustment.csv", lambda rows: [
        *rows, {**rows[0], "id": "73", "refund_id": "77", "amount": "-4.99", "tax_amount": "-0.01"},
        {**rows[0], "id": "74", "refund_id": "77", "amount": "1.50", "tax_amount": "0"}])
    _, con = _load(store)
    # 10.00 + 0.80 + 5.005 - (-4.99 - 0.01) - (1.50 + 0) = 19.305: three decimals kept, for staging to reject
    assert con.execute("select created_at, amount from raw.raw_shopify_refunds where id = '77'").fetchall() == [
        ("2025-07-01 10:00:00Z", "19.305")]
    line = con.execute("select source_location from meta.raw_row_locations where table_name = 'raw_shopify_refunds' "
                       "order by record_line desc limit 1").fetchone()[0]
    assert line == f"fivetran_shopify/refund.csv line {len(_rows(con)['raw_shopify_refunds']) + 1}"


def test_shipping_comes_from_the_shipping_lines_without_the_moneybag_column(stores, tmp_path):
    store = _copy(stores["fivetran"], tmp_path)
    expected = _rows(_load(store)[1])["raw_shopify_orders"]
    _edit_csv(store / "fivetran_shopify" / "order.csv",
              lambda rows: [{k: v for k, v in r.items() if k != "total_shipping_price_set"} for r in rows])
    assert _rows(_load(store)[1])["raw_shopify_orders"] == expected
    (store / "fivetran_shopify" / "order_shipping_line.csv").unlink()
    with pytest.raises(SalesInsightsError, match="no total_shipping_price_set column and there is no "
                                                 "order_shipping_line.csv"):
        _load(store)


@pytest.mark.parametrize(("table", "change", "message"), [
    ("order", lambda rows: [{k: v for k, v in r.items() if k != "total_price"} for r in rows],
     r"fivetran_shopify/order.csv: its header \(line 1\) lacks column\(s\) total_price"),
    ("order_line_refund", lambda rows: [{**rows[0], "subtotal": "ten"}, *rows[1:]],
     r"fivetran_shopify/order_line_refund.csv line 2, column subtotal: 'ten' is not an amount"),
    ("order", lambda rows: [*rows[:4], {**rows[4], "total_shipping_price_set": "{\"shop_money\": 5}"}, *rows[5:]],
     r"fivetran_shopify/order.csv line 6, column total_shipping_price_set: .* not a MoneyBag"),
    ("customer", lambda rows: [{k: v for k, v in r.items() if k not in ("accepts_marketing",
                                                                     "email_marketing_consent_state")} for r in rows],
     r"customer.csv: has neither email_marketing_consent_state nor accepts_marketing"),
])
def test_fivetran_input_a_derivation_cannot_use_is_a_clear_error(stores, tmp_path, table, change, message):
    store = _copy(stores["fivetran"], tmp_path)
    _edit_csv(store / "fivetran_shopify" / f"{table}.csv", change)
    with pytest.raises(SalesInsightsError, match=message):
        _load(store)


def test_a_missing_connector_table_is_named(stores, tmp_path):
    store = _copy(stores["fivetran"], tmp_path)
    (store / "fivetran_shopify" / "order_adjustment.csv").unlink()
    with pytest.raises(SalesInsightsError, match=r"missing the connector's table\(s\) order_adjustment.csv"):
        _load(store)


def test_the_shop_file_must_be_the_shop_of_the_settings(stores, tmp_path):
    store = _copy(stores["fivetran"], tmp_path)
    shop = store / "fivetran_shopify" / "shop.csv"
    shop.write_text("ID,CURRENCY,IANA_TIMEZONE,_FIVETRAN_DELETED\n1,USD,America/New_York,FALSE\n", encoding="utf-8")
    with pytest.raises(SalesInsightsError, match=r"shop.csv line 2: the shop's time zone is 'America/New_York'"):
        _load(store)
    assert _load(store, ShopConfig("USD", "America/New_York", 75))[0].shopify_layout == "fivetran"
    bulk = _copy(stores["bulk"], tmp_path / "bulk")
    (bulk / "shopify_bulk" / "shop.json").write_text(json.dumps({"data": {"shop": {"currencyCode": "EUR",
                                                                                "ianaTimezone": "UTC"}}}))
    with pytest.raises(SalesInsightsError, match=r"shop.json: the shop's currency is 'EUR' but \[shop\] currency"):
        _load(bulk)


def _edit_lines(path: Path, edit) -> None:
    path.write_text("".join(edit(path.read_text(encoding="utf-8").splitlines(keepends=True))), encoding="utf-8")


def test_bulk_input_the_mapping_cannot_read_is_named_by_its_line(stores, tmp_path):
    store = _copy(stores["bulk"], tmp_path)
    orders = store / "shopify_bulk" / "orders.jsonl"
    original = orders.read_text(encoding="utf-8")
    child = json.loads(original.splitlines()[1])
    assert "__parentId" in child
    _edit_lines(orders, lambda lines: [*lines, json.dumps({**child, "__parentId": "gid://shopify/Order/1"}) + "\n"])
    count = original.count("\n") + 1
    with pytest.raises(SalesInsightsError, match=rf"orders.jsonl line {count}: `__parentId` 'gid://shopify/Order/1' "
                                                 "names no object of this file"):
        _load(store)
    _edit_lines(orders, lambda lines: [*lines[:2], "\n", *lines[2:-1]])
    with pytest.raises(SalesInsightsError, match="orders.jsonl: line 3 is blank"):
        _load(store)
    # GraphQL writes instants in UTC with a Z: one without an offset is not GraphQL's
    first = json.loads(original.splitlines()[0])
    orders.write_text(original.replace(first["createdAt"], first["createdAt"].removesuffix("Z"), 1), encoding="utf-8")
    with pytest.raises(SalesInsightsError, match=r"orders.jsonl line 1 \(order \d+\): `createdAt` is not an ISO"):
        _load(store)
    orders.write_text(original, encoding="utf-8")
    (store / "shopify_bulk" / "products.jsonl").unlink()
    with pytest.raises(SalesInsightsError, match="products.jsonl: file not found"):
        _load(store)


def test_a_directory_with_two_shopify_layouts_is_refused(stores, tmp_path):
    store = _copy(stores["flat"], tmp_path)
    shutil.copytree(stores["bulk"] / "shopify_bulk", store / "shopify_bulk")
    with pytest.raises(SalesInsightsError, match=r"has Shopify data as raw_shopify_\*.csv and as shopify_bulk/"):
        _load(store)
    shutil.rmtree(store / "shopify_bulk")
    (store / "raw_shopify_orders.csv").unlink()
    with pytest.raises(SalesInsightsError, match=r"missing file\(s\) raw_shopify_orders.csv, or in place of the "
                                                 "Shopify CSVs shopify_bulk/"):
        _load(store)


@pytest.fixture(scope="module")
def built(stores, tmp_path_factory) -> dict[str, Path]:
    """Each layout's store built (dbt build; its tests pass), Fivetran's with one orphan order line more."""
    root = tmp_path_factory.mktemp("layout-builds")
    fivetran = root / "fivetran-data"
    shutil.copytree(stores["fivetran"], fivetran)
    _edit_csv(fivetran / "fivetran_shopify" / "order_line.csv",
              lambda rows: [*rows, {**rows[0], "id": "99", "order_id": "12345"}])
    sources = {**stores, "fivetran": fivetran}
    warehouses = {}
    with bad_row_share("0.02"):
        for layout, data in sources.items():
            settings = load_settings({"SALES_INSIGHTS_WAREHOUSE": str(root / layout / "warehouse.duckdb")})
            result = build(settings, DataSource("directory", data, layout), settings.warehouse, contracts=False)
            warehouses[layout] = result.warehouse
    return warehouses


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts' order by 1").fetchall()]
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall() for t in tables}


def test_every_layout_builds_to_the_same_marts(built):
    expected = _marts(built["flat"])
    assert {"fct_orders", "dim_customers", "fct_customer_cohorts", "fct_cohort_clv"} <= set(expected)
    assert expected["fct_orders"] and expected["fct_customer_cohorts"]
    for layout in ("bulk", "fivetran"):
        assert _marts(built[layout]) == expected, layout


def test_a_rejected_row_of_a_layout_is_named_by_its_file_and_line(built):
    with duckdb.connect(str(built["fivetran"]), read_only=True) as con:
        rejected = con.execute("select source_location, column_name, reason from staging.stg_rejected_rows "
                               "where source_table like 'raw_shopify%'").fetchall()
        lines = con.execute("select count(*) from raw.raw_shopify_order_lines").fetchone()[0]
    assert rejected == [(f"fivetran_shopify/order_line.csv line {lines + 1}", "order_id",
                         "orphan line: no accepted order has this id")]
