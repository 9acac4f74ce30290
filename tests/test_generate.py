"""The mock generator: deterministic, in the raw-data contract, and carrying the planted signals."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date

import duckdb
import pytest

from sales_insights.devtools import mock_catalog as catalog
from sales_insights.devtools.generate import GeneratorConfig, generate
from sales_insights.quality.raw_contract import TABLES
from sales_insights.quality.validate import lost_rows


def _digest(directory) -> dict[str, str]:
    return {t.name: hashlib.sha256((directory / t.file_name).read_bytes()).hexdigest() for t in TABLES}


@pytest.fixture(scope="module")
def con(small_generated):
    con = duckdb.connect()
    for t in TABLES:
        con.execute(
            f"create view {t.name} as select * from read_csv('{small_generated / t.file_name}', "
            "all_varchar = true, header = true)"
        )
    yield con
    con.close()


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    config = GeneratorConfig(seed=3, users=800, days=40)
    generate(tmp_path / "a", config)
    generate(tmp_path / "b", config)
    generate(tmp_path / "c", GeneratorConfig(seed=4, users=800, days=40))
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["raw_ga4_events"] != _digest(tmp_path / "c")["raw_ga4_events"]


def test_every_file_has_exactly_the_contract_header(small_generated):
    for t in TABLES:
        with (small_generated / t.file_name).open(newline="") as handle:
            assert next(csv.reader(handle)) == t.column_names, t.name


def test_values_follow_the_contract_types_except_the_planted_bad_rows(con):
    bad_events = con.execute(
        "select count(*) from raw_ga4_events where try_cast(event_timestamp as bigint) is null "
        "or try_strptime(event_date, '%Y%m%d') is null or device_category not in ('desktop', 'mobile', 'tablet')"
    ).fetchone()[0]
    total = con.execute("select count(*) from raw_ga4_events").fetchone()[0]
    assert 1 <= bad_events <= total * 0.001
    assert con.execute(
        "select count(*) from raw_shopify_orders where try_cast(created_at as timestamptz) is null "
        "or try_cast(total_price as decimal(18, 2)) is null or test not in ('true', 'false')"
    ).fetchone()[0] == 0
    assert con.execute(
        "select count(*) from raw_shopify_orders where not regexp_matches(created_at, '[+-][0-9]{2}:[0-9]{2}$')"
    ).fetchone()[0] == 0


def test_clean_data_has_no_contract_breaks(clean_generated):
    con = duckdb.connect()
    path = clean_generated / "raw_shopify_order_lines.csv"
    assert con.execute(
        f"select count(*) from read_csv('{path}', all_varchar = true) where quantity::int <= 0"
    ).fetchone()[0] == 0
    orders = clean_generated / "raw_shopify_orders.csv"
    assert con.execute(
        f"select count(*) - count(distinct id) + count(*) filter (currency <> 'USD') "
        f"from read_csv('{orders}', all_varchar = true)"
    ).fetchone()[0] == 0


def _sessions(con):
    return """
        select
            user_pseudo_id, ga_session_id, any_value(device_category) as device,
            max(event_name = 'add_to_cart')::int as atc,
            max(event_name = 'begin_checkout')::int as bc,
            max(event_name = 'purchase')::int as pu,
            arg_min(regexp_extract(page_location, 'https?://[^/]+([^?]*)', 1), event_timestamp::bigint)
                filter (event_name = 'page_view') as landing
        from raw_ga4_events
        where try_cast(event_timestamp as bigint) is not null
        group by all
    """


def test_the_funnel_drops_step_by_step_and_mobile_checkout_leaks(con):
    rows = con.execute(f"""
        with s as ({_sessions(con)})
        select device, count(*), sum(atc), sum(bc), sum(pu) from s group by 1
    """).fetchall()
    # (the planted bad device value is not a device)
    by_device = {r[0]: r[1:] for r in rows if r[0] in catalog.DEVICES}
    assert set(by_device) == set(catalog.DEVICES)
    for sessions, atc, bc, pu in by_device.values():
        assert sessions > atc > bc > pu > 0
    completion = {d: v[3] / v[2] for d, v in by_device.items()}
    assert completion[catalog.LEAKY_DEVICE] < 0.7 * completion["desktop"]


def test_the_busy_sale_landing_page_converts_badly(con):
    share, page_rate, site_rate = con.execute(f"""
        with s as ({_sessions(con)})
        select
            avg((landing = '{catalog.LEAKY_LANDING_PAGE}')::int),
            avg(atc) filter (landing = '{catalog.LEAKY_LANDING_PAGE}'),
            avg(atc)
        from s
    """).fetchone()
    assert share > 0.1  # busy
    assert page_rate < 0.5 * site_rate  # converts badly


def test_the_planted_product_pair_is_bought_together_far_above_chance(con):
    lift = con.execute(f"""
        with baskets as (
            select order_id,
                max(product_id = '{catalog.PAIR_ANCHOR.id}')::int as a,
                max(product_id = '{catalog.PAIR_ADDON.id}')::int as b
            from raw_shopify_order_lines group by 1
        )
        select (sum(a * b) / count(*)) / ((sum(a) / count(*)) * (sum(b) / count(*))) from baskets
    """).fetchone()[0]
    assert lift > 3


def test_a_large_catalog_has_a_long_tail_of_distinct_products(tmp_path):
    products = catalog.store_catalog(3_000)
    assert products[:len(catalog.PRODUCTS)] == catalog.PRODUCTS and len(products) == 3_000
    for key in ("id", "title", "handle"):
        assert len({getattr(p, key) for p in products}) == 3_000, key
    # (the two backpacks' SKUs share a stem, as a real store's do; the tail's are its own)
    assert len({p.sku_prefix for p in products[len(catalog.PRODUCTS):]}) == 3_000 - len(catalog.PRODUCTS)
    tail = [p.popularity for p in products[len(catalog.PRODUCTS):]]
    assert tail == sorted(tail, reverse=True) and tail[0] / tail[-1] > 500
    with pytest.raises(ValueError, match="at most"):
        catalog.store_catalog(10_000)
    with pytest.raises(ValueError, match="the fewest"):
        generate(tmp_path / "few", GeneratorConfig(users=100, days=2, products=5))
    # sold by the store: a few products hold much of the lines, most sell a few times
    out = generate(tmp_path / "tail", GeneratorConfig(users=20_000, days=90, products=3_000, lines_per_order=2.5,
                                                      bad_rows=False))
    file = out.out_dir / "raw_shopify_order_lines.csv"
    lines = duckdb.connect().execute(f"""
        select count(*) as products, max(lines) as top, count(*) filter (where lines <= 2) as rare,
            sum(lines) as lines, (select count(distinct order_id) from read_csv('{file}'))
        from (select product_id, count(*) as lines from read_csv('{file}') group by 1)""").fetchone()
    sold, top, rare, n_lines, orders = lines
    assert sold > 500 and rare > sold / 3 and top > 20 * n_lines / sold
    assert 2.2 < n_lines / orders < 2.8


def test_orders_have_the_realistic_edge_cases(con):
    counts = con.execute("""
        select
            count(*) filter (customer_id is null),
            count(*) filter (cancelled_at is not null),
            count(*) filter (test = 'true'),
            count(*) filter (financial_status in ('refunded', 'partially_refunded')),
            count(*) filter (source_name <> 'web')
        from raw_shopify_orders
    """).fetchone()
    assert all(c > 0 for c in counts), counts
    repeaters = con.execute("""
        select count(*) from (
            select customer_id from raw_shopify_orders where customer_id is not null
            group by 1 having count(*) > 1
        )
    """).fetchone()[0]
    assert repeaters >= 20
    assert con.execute("select count(*) from raw_shopify_refunds").fetchone()[0] > 0


def test_ga4_misses_some_purchases_and_duplicates_and_reorders_events(con):
    missed = con.execute("""
        select count(*) from raw_shopify_orders as o
        where o.source_name = 'web'
            and o.id not in (select transaction_id from raw_ga4_events where transaction_id is not null)
    """).fetchone()[0]
    assert missed > 0
    duplicates = con.execute(
        "select count(*) - count(distinct columns(*)) from raw_ga4_events"
    ).fetchone()[0]
    assert duplicates > 0
    out_of_order = con.execute("""
        select count(*) from (
            select try_cast(event_timestamp as bigint) as ts,
                lag(try_cast(event_timestamp as bigint)) over () as previous_ts
            from raw_ga4_events
        ) where ts < previous_ts
    """).fetchone()[0]
    assert out_of_order > 0


def test_some_sessions_cross_midnight(con):
    crossing = con.execute("""
        select count(*) from (
            select user_pseudo_id, ga_session_id
            from raw_ga4_events where try_cast(event_timestamp as bigint) is not null
            group by all having count(distinct event_date) > 1
        )
    """).fetchone()[0]
    assert crossing > 0


def test_checkout_before_cart_and_purchase_without_checkout_occur(con):
    swapped, express = con.execute("""
        with s as (
            select user_pseudo_id, ga_session_id,
                min(event_timestamp::bigint) filter (event_name = 'add_to_cart') as atc,
                min(event_timestamp::bigint) filter (event_name = 'begin_checkout') as bc,
                count(*) filter (event_name = 'purchase') as pu
            from raw_ga4_events where try_cast(event_timestamp as bigint) is not null
            group by all
        )
        select count(*) filter (bc < atc), count(*) filter (pu > 0 and bc is null) from s
    """).fetchone()
    assert swapped > 0
    assert express > 0


def test_committed_seeds_are_what_the_generator_makes_from_their_settings(tmp_path):
    from conftest import PROJECT_DIR
    from sales_insights.devtools.generate import read_generated_config

    seeds = PROJECT_DIR / "seeds" / "mock"
    settings = read_generated_config(seeds)
    assert settings is not None
    config = GeneratorConfig(**{**settings, "start": date.fromisoformat(settings["start"])})
    generate(tmp_path, config)
    assert _digest(tmp_path) == _digest(seeds), "regenerate: sales-insights generate --out seeds/mock ..."


def test_staging_loses_exactly_the_rows_the_generator_broke_on_purpose(planted_store):
    """generator.json's planted_losses, which the contract gate allows on top of its share, are the rows
    staging loses: no more (the gate would hide a real loss) and no fewer (a planted row got through)."""
    warehouse, _ = planted_store
    recorded = json.loads((warehouse.parent / "data" / "generator.json").read_text())["planted_losses"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lost, error = lost_rows(con)
        planted = dict(con.execute("select source_table, rows from meta.planted_losses").fetchall())
    assert error is None
    assert lost == planted == {table: rows for table, rows in recorded.items() if rows}
    assert set(planted) == {"raw_ga4_events", "raw_shopify_orders", "raw_shopify_order_lines", "raw_shopify_refunds"}


def _views(directory) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"create view {t.name} as select * from read_csv('{directory / t.file_name}', "
                    "all_varchar = true, header = true)")
    return con


def _planted_signals(con) -> dict[str, float]:
    """The size of each planted signal in a store: the sale page's add-to-cart rate over the other pages',
    mobile's purchase completion over desktop's, the pair's lift, and the orders holding both backpacks."""
    page, device = con.execute(f"""
        with s as ({_sessions(con)})
        select
            avg(atc) filter (landing = '{catalog.LEAKY_LANDING_PAGE}')
                / avg(atc) filter (landing <> '{catalog.LEAKY_LANDING_PAGE}'),
            (sum(pu) filter (device = '{catalog.LEAKY_DEVICE}') / sum(bc) filter (device = '{catalog.LEAKY_DEVICE}'))
                / (sum(pu) filter (device = 'desktop') / sum(bc) filter (device = 'desktop'))
        from s
    """).fetchone()
    lift, both_backpacks = con.execute(f"""
        with baskets as (
            select order_id,
                max(product_id = '{catalog.PAIR_ANCHOR.id}')::int as a,
                max(product_id = '{catalog.PAIR_ADDON.id}')::int as b,
                (max(product_id = '{catalog.UPSELL_CHEAP.id}') and max(product_id = '{catalog.UPSELL_DEAR.id}'))::int
                    as backpacks
            from raw_shopify_order_lines group by 1
        )
        select (sum(a * b) / count(*)) / ((sum(a) / count(*)) * (sum(b) / count(*))), sum(backpacks) from baskets
    """).fetchone()
    return {"page": page, "device": device, "pair_lift": lift, "both_backpacks": both_backpacks}


def test_a_trial_store_plants_only_the_opportunities_it_names(tmp_path):
    base = {"users": 20_000, "days": 180, "bad_rows": False}
    signals = {}
    for name, opportunities in {"page": ("landing_page",), "pair": ("cross_sell", "upsell_substitute")}.items():
        generate(tmp_path / name, GeneratorConfig(seed=5, opportunities=opportunities, **base))
        with _views(tmp_path / name) as con:
            signals[name] = _planted_signals(con)
    page_only, pair_only = signals["page"], signals["pair"]
    # the sale page converts at 0.3 times the rest; nothing else differs
    assert page_only["page"] < 0.45 and 0.8 < page_only["device"] < 1.25
    assert page_only["pair_lift"] < 1.5 and page_only["both_backpacks"] > 0
    # the pair and the substitutes, and converting pages and devices alike
    assert pair_only["pair_lift"] > 3 and pair_only["both_backpacks"] == 0
    assert 0.8 < pair_only["page"] < 1.25 and 0.8 < pair_only["device"] < 1.25
    with pytest.raises(ValueError, match="opportunities free_lunch"):
        generate(tmp_path / "unknown", GeneratorConfig(opportunities=("free_lunch",), **base))
