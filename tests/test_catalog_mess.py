"""A store with a real catalog's mess (generate --messy-catalog: a product relaunched under a new id with the
same title, a renamed product, fee and custom lines) builds with every test passing; products are known by
their ids, so the two products that share a title are two candidates, and no experiment targets a line that
is not merchandise, while those lines stay in the orders' revenue. Its catalog has a long tail (2,500
products, most sold a few times), where pairs are tested by the thousand and each product keeps a few."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from conftest import build_generated_store, built_once
from sales_insights.devtools import catalog_mess
from sales_insights.devtools import mock_catalog as catalog
from sales_insights.devtools.generate import GeneratorConfig

# without planted bad rows, so that every raw order and line is in staging
MESSY = GeneratorConfig(seed=29, users=60_000, days=180, messy_catalog=True, bad_rows=False, products=2_500,
                        lines_per_order=2.0)


@pytest.fixture(scope="module")
def messy_store(tmp_path_factory):
    """The messy store, generated and built (dbt build and every contract check) once."""
    root = built_once(tmp_path_factory, "messy", lambda root: build_generated_store(root, MESSY))
    return root / "data", root / "warehouse.duckdb"


def _query(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_two_products_with_one_title_are_two_candidates(messy_store):
    _, warehouse = messy_store
    anchor = catalog.PAIR_ANCHOR
    rows = _query(warehouse, "select target, target_key from marts.fct_experiment_shortlist "
                             "where experiment_type = 'cross_sell'")
    # each pair in the direction worth more; the add-on and its relaunch are both found with the anchor
    by_pair = {frozenset(key.replace("product:", "").split("->")): target for target, key in rows}
    for addon in (catalog.PAIR_ADDON.id, catalog_mess.RELAUNCHED_ID):
        target = by_pair[frozenset({str(anchor.id), str(addon)})]
        assert f"{catalog.PAIR_ADDON.title} (#{addon})" in target and anchor.title in target
    ids = _query(warehouse, "select count(*), count(distinct experiment_id) from marts.fct_experiment_shortlist")
    assert ids[0][0] == ids[0][1]


def test_no_experiment_targets_a_line_that_is_not_merchandise(messy_store):
    _, warehouse = messy_store
    keys = [k for (k,) in _query(warehouse, "select target_key from marts.fct_experiment_shortlist")]
    assert keys and not [k for k in keys if str(catalog_mess.FEE_PRODUCT_ID) in k or "None" in k]
    lines = dict(_query(warehouse, "select product_id is null, count(*) from intermediate.int_merchandise_lines "
                                   "group by 1"))
    assert lines == {False: lines[False]}  # no custom line among the merchandise
    assert _query(warehouse, f"select count(*) from intermediate.int_merchandise_lines "
                             f"where product_id = {catalog_mess.FEE_PRODUCT_ID}") == [(0,)]


def test_fee_and_custom_lines_stay_in_the_revenue(messy_store):
    data, warehouse = messy_store
    fees = _query(warehouse, f"select count(*) from staging.stg_shopify__order_lines "
                             f"where product_id = {catalog_mess.FEE_PRODUCT_ID}")[0][0]
    custom = _query(warehouse, "select count(*) from staging.stg_shopify__order_lines where product_id is null")[0][0]
    assert fees > 50 and custom > 30
    # an order's subtotal, which the revenue marts count, holds its fee and custom lines
    fee_id = catalog_mess.FEE_PRODUCT_ID
    mismatched = _query(warehouse, f"""
        with lines as (
            select order_id, sum(price * quantity - total_discount) as lines_total,
                count(*) filter (where product_id is null or product_id = {fee_id}) as other_lines
            from staging.stg_shopify__order_lines group by order_id
        )
        select count(*) filter (where lines.lines_total <> orders.subtotal_price),
            count(*) filter (where lines.other_lines > 0)
        from marts.fct_orders as orders inner join lines on lines.order_id = orders.order_id
    """)
    assert mismatched[0][0] == 0 and mismatched[0][1] == fees + custom - _both(warehouse)
    raw = _query(warehouse, "select sum(cast(total_price as decimal(18, 2))) from raw.raw_shopify_orders")[0][0]
    marts = _query(warehouse, "select sum(order_total_price) from marts.fct_orders")[0][0]
    assert Decimal(str(marts)) == Decimal(str(raw))


def _both(warehouse) -> int:
    """Orders with both a fee and a custom line."""
    return _query(warehouse, f"""
        select count(*) from (
            select order_id from staging.stg_shopify__order_lines
            group by order_id having count(*) filter (where product_id = {catalog_mess.FEE_PRODUCT_ID}) > 0
                and count(*) filter (where product_id is null) > 0)""")[0][0]


def test_a_renamed_product_is_shown_by_its_current_title(messy_store):
    _, warehouse = messy_store
    old_titles = _query(warehouse, f"select count(*) from staging.stg_shopify__order_lines "
                                   f"where product_id = {catalog_mess.RENAMED.id} and "
                                   f"product_title = '{catalog_mess.RENAMED_OLD_TITLE}'")
    assert old_titles[0][0] > 0
    labels = _query(warehouse, f"select product_label from intermediate.int_product_labels "
                               f"where product_id = {catalog_mess.RENAMED.id}")
    assert labels == [(catalog_mess.RENAMED.title,)]


def test_a_long_tail_is_tested_pair_by_pair_and_each_product_keeps_a_few(messy_store):
    _, warehouse = messy_store
    sold, rare = _query(warehouse, """
        select count(*), count(*) filter (where orders < 10) from (
            select product_id, count(distinct order_id) as orders from intermediate.int_merchandise_lines
            group by product_id)""")[0]
    assert sold > 500 and rare > sold / 2  # the tail: most products sell fewer than ten times
    listed = _query(warehouse, "select count(*) from calculations.calc_experiment_product_pairs")[0][0]
    families = dict(_query(warehouse, """
        select experiment_type, max(tests_in_family) from marts.fct_experiment_shortlist
        where experiment_type in ('cross_sell', 'upsell_substitute') group by 1"""))
    # one test per unordered pair, corrected over all of them, though fewer are kept
    assert families["cross_sell"] == listed / 2
    substitutes = _query(warehouse, """
        select count(*), min(cheaper_orders * dearer_orders / orders_with_products)
        from calculations.calc_experiment_substitutes""")[0]
    assert families["upsell_substitute"] == substitutes[0] and substitutes[1] >= 5
    # the planted substitutes are found among them
    planted = f"product:{catalog.UPSELL_CHEAP.id}->product:{catalog.UPSELL_DEAR.id}"
    assert _query(warehouse, f"select is_significant from marts.fct_experiment_shortlist "
                             f"where target_key = '{planted}'") == [(True,)]
    # a product bought with many others keeps at most cross_sell_max_pairs_per_product (3) of them
    most_listed = _query(warehouse, """
        select max(n) from (select count(*) as n from calculations.calc_experiment_product_pairs
            group by product_a_id)""")[0][0]
    most_kept = _query(warehouse, """
        select max(n) from (
            select count(*) as n from marts.fct_experiment_shortlist
            where experiment_type in ('cross_sell', 'upsell_substitute')
            group by split_part(target_key, '->', 1), experiment_type)""")[0][0]
    assert most_listed > 10 and 1 <= most_kept <= 3
