"""Deterministic mock data in the raw-data contract: GA4 events and the Shopify tables.

The behaviour is simulated per visitor and per session with numpy arrays (no Python loop per row), and
DuckDB turns the arrays into contract-shaped text and writes the CSVs. The same seed and settings give
byte-identical files.

What the data holds, on purpose:
- visitors with a device, a country and an acquisition channel, who come back at a rate and stop
  coming back at some point (heterogeneous, so there are one-time and repeat buyers);
- a funnel that drops off step by step, with rates that differ by device, channel and landing page,
  and the planted opportunities of `catalog` (a leaky mobile checkout, a busy landing page that converts
  badly, a product pair bought together, a cheap and a dear substitute);
- Shopify orders for the purchases, with guests, refunds, cancelled, test, pending and draft orders;
  GA4 missing some purchases, duplicated events, events written out of order and late, sessions that
  cross midnight, a checkout logged before its add-to-cart, purchases without a checkout event;
- GA4's own quirks: no source on a direct session's events (and on all but a session's first events),
  purchases with the transaction id '(not set)', sessions without session_start or without page_view,
  a session_start sharing its first page_view's timestamp, ga_session_id values that two visitors share;
- when `bad_rows` is on, a few rows that break the contract, for the rejects table to catch.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from sales_insights.config import duckdb_memory_limit
from sales_insights.devtools import catalog_mess
from sales_insights.devtools import mock_catalog as catalog
from sales_insights.devtools.ga4_export_writer import write_export
from sales_insights.devtools.shopify_layout_writer import write_layout
from sales_insights.pipeline.ga4_export import EXPORT_DIR
from sales_insights.pipeline.shopify_layouts import BULK_DIR, FIVETRAN_DIR
from sales_insights.quality.raw_contract import GENERATOR_FILE, PLANTED_LOSSES, TABLES, TABLES_BY_NAME
from sales_insights.sql import sql_string

DAY_US = 86_400_000_000
SECOND_US = 1_000_000

# Base conversion of each funnel step before the device, channel, page and visitor multipliers.
BASE_ADD_TO_CART = 0.085
BASE_BEGIN_CHECKOUT = 0.45
BASE_PURCHASE = 0.60
RETURNING_MULTIPLIER = 1.3

GA4_MISSED_PURCHASE_SHARE = 0.08  # purchases the browser never reported (ad blockers, consent)
DUPLICATE_EVENT_SHARE = 0.003
LATE_EVENT_SHARE = 0.01
# Quirks of real GA4 data (drawn from a random stream of their own, so the simulation is the same with or
# without them): purchases whose tag sent no transaction id (GA4 writes '(not set)'; 240 of 343 in
# Google's sample export), sessions whose session_start was never collected, and sessions whose
# ga_session_id (the session's start in seconds) is another visitor's too.
NOT_SET_TRANSACTION_SHARE = 0.04
NO_SESSION_START_SHARE = 0.02
SHARED_SESSION_ID_SHARE = 0.01
GUEST_SHARE = 0.15
NON_WEB_ORDER_SHARE = 0.03


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 42
    users: int = 100_000
    days: int = 365
    start: date = date(2025, 6, 1)
    currency: str = "USD"
    store_timezone: str = "America/New_York"
    bad_rows: bool = True
    # False: no effect anywhere (every device, channel, landing page and visit converts alike, no
    # product pair is planted and the two backpacks are not substitutes), the null data set the
    # experiment tests must find nothing in.
    planted: bool = True
    # With planted on, which opportunities: None is the mock store, every one of
    # mock_catalog.OPPORTUNITIES on its background of channels, pages, devices and returning visitors that
    # convert differently; a tuple of them plants only those, each at its mock size, in a store where
    # nothing else differs (the stores of devtools.shortlist_trials, whose answers are known).
    opportunities: tuple[str, ...] | None = None
    # How the GA4 events are written: csv (raw_ga4_events.csv, the raw-data contract's flat shape), export
    # (GA4's BigQuery export: ga4_export/events_YYYYMMDD.parquet) or export-json (its newline-delimited JSON,
    # gzipped and sharded as an export job to Cloud Storage writes it).
    ga4_format: str = "csv"
    # How the Shopify tables are written: flat (the six raw_shopify_*.csv of the raw-data contract), bulk (a
    # Bulk Operation's JSONL in shopify_bulk/) or fivetran (Fivetran's tables in fivetran_shopify/):
    # devtools.shopify_layout_writer. A bulk store gets no bad Shopify rows (its typed JSON cannot hold them).
    shopify_format: str = "flat"
    # A real catalog's shapes (devtools.catalog_mess): a product relaunched under a new id with the same
    # title, a renamed product, fee and custom lines that are not merchandise.
    messy_catalog: bool = False
    # The catalog's size: the fixed products of devtools.mock_catalog and, past them, a long tail of generated
    # ones (mock_catalog.store_catalog), and the mean number of lines of an order before the planted pair's.
    products: int = len(catalog.PRODUCTS)
    lines_per_order: float = 1.45

    @property
    def catalog(self) -> tuple[catalog.Product, ...]:
        return catalog.store_catalog(self.products)

    @property
    def background(self) -> bool:
        """Whether devices, channels, pages and returning visitors convert differently (the mock store)."""
        return self.planted and self.opportunities is None

    def plants(self, opportunity: str) -> bool:
        """Whether the store has this planted opportunity (one of mock_catalog.OPPORTUNITIES)."""
        return self.planted and (self.opportunities is None or opportunity in self.opportunities)


@dataclass(frozen=True)
class GenerationResult:
    out_dir: Path
    row_counts: dict[str, int]
    config: GeneratorConfig
    # Per raw table, the rows broken on purpose that staging will lose (reject for a reason other than being
    # an exact copy, and not with a rejected row they point at); generator.json records them, the loader
    # copies them to meta.planted_losses, and the contract gate allows them on top of its share.
    planted_losses: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# small helpers


def _group_offsets(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes laid end to end: each element's group and 0-based rank in it."""
    groups = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return groups, np.arange(len(groups)) - starts


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _diurnal_hour_weights() -> np.ndarray:
    # Visits peak in the (UTC) evening and never stop at night, so some sessions cross midnight.
    hours = np.arange(24)
    return _weights(1.0 + 1.6 * np.exp(-0.5 * ((hours - 20) / 3.5) ** 2) + 0.5 * (hours >= 23))


# --------------------------------------------------------------------------------------------------
# simulation


@dataclass
class _Sessions:
    user: np.ndarray
    number: np.ndarray
    start_us: np.ndarray
    channel: np.ndarray
    landing: np.ndarray
    has_page_view: np.ndarray
    view_item: np.ndarray
    add_to_cart: np.ndarray
    begin_checkout: np.ndarray
    purchase: np.ndarray
    cart_product: np.ndarray  # index into the store's catalog (GeneratorConfig.catalog)


def _simulate_users(rng: np.random.Generator, cfg: GeneratorConfig, start_us: int) -> dict[str, np.ndarray]:
    n = cfg.users
    period_us = cfg.days * DAY_US
    # Acquisition grows over the period (the last day brings ~1.6x the first day's new visitors).
    growth = np.log(1.6)
    x = np.log1p(rng.random(n) * (np.exp(growth) - 1)) / growth
    return {
        "device": rng.choice(len(catalog.DEVICES), n, p=_weights(catalog.DEVICE_WEIGHTS)),
        "country": rng.choice(len(catalog.COUNTRIES), n, p=_weights(catalog.COUNTRY_WEIGHTS)),
        "channel": rng.choice(len(catalog.CHANNELS), n, p=_weights([c.weight for c in catalog.CHANNELS])),
        "first_us": start_us + (x * period_us).astype(np.int64),
        # visits per day and the chance of never coming back after a visit (BG/NBD-like heterogeneity)
        "visit_rate": rng.gamma(shape=0.8, scale=1 / 12, size=n),
        "p_drop": rng.beta(1.0, 2.2, size=n),
        "propensity": rng.lognormal(mean=-0.32, sigma=0.8, size=n),
        "guest": rng.random(n) < GUEST_SHARE,
        "client_id": rng.integers(100_000_000, 2_000_000_000, size=n),
    }


def _session_starts(
    rng: np.random.Generator, cfg: GeneratorConfig, users: dict[str, np.ndarray], start_us: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each visitor's sessions until they stop coming back: the visitor, the session's 0-based rank and its
    start, for the sessions that start within the period."""
    end_us = start_us + cfg.days * DAY_US
    n_sessions = np.minimum(rng.geometric(users["p_drop"]), 60)
    user, rank = _group_offsets(n_sessions)
    rate = np.maximum(users["visit_rate"][user], 1e-3)
    gaps_days = np.minimum(rng.exponential(1.0, size=len(user)) / rate, 10.0 * cfg.days)
    gaps_days[rank == 0] = 0.0
    cum = np.cumsum(gaps_days)
    first_of_group = np.repeat(cum[np.cumsum(n_sessions) - n_sessions], n_sessions)
    approx_us = users["first_us"][user] + ((cum - first_of_group) * DAY_US).astype(np.int64)
    # Re-draw the time of day from a daily rhythm, keeping the day.
    day_start = approx_us - (approx_us - start_us) % DAY_US
    hour = rng.choice(24, size=len(user), p=_diurnal_hour_weights())
    start = day_start + hour * 3_600 * SECOND_US + rng.integers(0, 3_600 * SECOND_US, size=len(user))
    keep = start < end_us
    return user[keep], rank[keep], start[keep]


def _funnel_steps(
    rng: np.random.Generator, cfg: GeneratorConfig, users: dict[str, np.ndarray], user: np.ndarray,
    rank: np.ndarray, channel: np.ndarray, landing: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The steps each session reaches: add to cart, begin checkout, purchase, and view item."""
    n = len(user)
    device = users["device"][user]
    if cfg.background:
        step_mult = np.asarray(catalog.DEVICE_STEP_MULTIPLIERS)[device]
        chan_mult = np.asarray([c.conversion_multiplier for c in catalog.CHANNELS])[channel]
        page_mult = np.asarray([p.conversion_multiplier for p in catalog.LANDING_PAGES])[landing]
        visitor_mult = users["propensity"][user] * np.where(rank > 0, RETURNING_MULTIPLIER, 1.0)
    else:
        step_mult, chan_mult, page_mult, visitor_mult = np.ones((n, 3)), 1.0, np.ones(n), 1.0
        if cfg.plants("funnel_step"):
            leaky = catalog.DEVICES.index(catalog.LEAKY_DEVICE)
            step_mult[device == leaky] = catalog.DEVICE_STEP_MULTIPLIERS[leaky]
        if cfg.plants("landing_page"):
            leaky = next(i for i, p in enumerate(catalog.LANDING_PAGES) if p.path == catalog.LEAKY_LANDING_PAGE)
            page_mult[landing == leaky] = catalog.LANDING_PAGES[leaky].conversion_multiplier
    p_cart = np.minimum(BASE_ADD_TO_CART * step_mult[:, 0] * chan_mult * page_mult * visitor_mult, 0.9)
    add_to_cart = rng.random(n) < p_cart
    begin_checkout = add_to_cart & (rng.random(n) < BASE_BEGIN_CHECKOUT * step_mult[:, 1])
    purchase = begin_checkout & (rng.random(n) < BASE_PURCHASE * step_mult[:, 2])
    view_item = add_to_cart | (rng.random(n) < 0.5)
    return add_to_cart, begin_checkout, purchase, view_item


def _cart_products(rng: np.random.Generator, products: tuple[catalog.Product, ...], landing: np.ndarray) -> np.ndarray:
    """Each session's product (index into the store's catalog): an active one by popularity, mostly the
    landing page's own on a product page."""
    n = len(landing)
    sellable = [i for i, p in enumerate(products) if p.status == "active"]
    popularity = _weights([products[i].popularity for i in sellable])
    cart_product = np.asarray(sellable)[rng.choice(len(sellable), n, p=popularity)]
    # A visitor who lands on a product page mostly looks at that product.
    for page_index, page in enumerate(catalog.LANDING_PAGES):
        if page.path.startswith("/products/"):
            handle = page.path.removeprefix("/products/")
            product_index = next(i for i, p in enumerate(products) if p.handle == handle)
            on_page = (landing == page_index) & (rng.random(n) < 0.7)
            cart_product[on_page] = product_index
    return cart_product


def _simulate_sessions(
    rng: np.random.Generator, cfg: GeneratorConfig, users: dict[str, np.ndarray], start_us: int
) -> _Sessions:
    user, rank, start = _session_starts(rng, cfg, users, start_us)
    n = len(user)

    returning_channel = np.asarray(catalog.RETURN_CHANNELS)[
        rng.choice(len(catalog.RETURN_CHANNELS), n, p=_weights(catalog.RETURN_CHANNEL_WEIGHTS))
    ]
    same_channel = (rank == 0) | (rng.random(n) < 0.5)
    channel = np.where(same_channel, users["channel"][user], returning_channel)
    landing = rng.choice(len(catalog.LANDING_PAGES), n, p=_weights([p.weight for p in catalog.LANDING_PAGES]))

    add_to_cart, begin_checkout, purchase, view_item = _funnel_steps(rng, cfg, users, user, rank, channel, landing)
    cart_product = _cart_products(rng, cfg.catalog, landing)

    order = np.lexsort((start, user))
    return _Sessions(
        user=user[order],
        number=rank[order] + 1,  # rank is already in time order within a visitor
        start_us=start[order],
        channel=channel[order],
        landing=landing[order],
        has_page_view=(rng.random(n) >= 0.01)[order],
        view_item=view_item[order],
        add_to_cart=add_to_cart[order],
        begin_checkout=begin_checkout[order],
        purchase=purchase[order],
        cart_product=cart_product[order],
    )


def _event_times(rng: np.random.Generator, s: _Sessions) -> dict[str, np.ndarray]:
    n = len(s.user)

    def gap(mean_seconds: float) -> np.ndarray:
        return (rng.exponential(mean_seconds, size=n) * SECOND_US).astype(np.int64) + SECOND_US

    t_view = s.start_us + gap(40)
    t_cart = t_view + gap(70)
    t_checkout = t_cart + gap(90)
    t_purchase = t_checkout + gap(150)
    # A few sessions log the checkout before the add-to-cart (open funnel counts it, closed does not).
    swap = s.begin_checkout & (rng.random(n) < 0.02)
    t_cart[swap], t_checkout[swap] = t_checkout[swap], t_cart[swap].copy()
    return {"view": t_view, "cart": t_cart, "checkout": t_checkout, "purchase": t_purchase}


# --------------------------------------------------------------------------------------------------
# orders


def _customer_ids(
    s: _Sessions, t_purchase: np.ndarray, users: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The web purchases in time order, the customers (buyers who are not guests) in order of first
    purchase, each visitor's first purchase and each visitor's customer id (-1 for none)."""
    web = np.flatnonzero(s.purchase)
    web = web[np.argsort(t_purchase[web], kind="stable")]
    buyers = np.unique(s.user[web])
    # Customer ids in order of first purchase; guests never get one.
    first_purchase_us = np.full(len(users["guest"]), np.iinfo(np.int64).max)
    np.minimum.at(first_purchase_us, s.user[web], t_purchase[web])
    customers = buyers[~users["guest"][buyers]]
    customers = customers[np.argsort(first_purchase_us[customers], kind="stable")]
    customer_id_of_user = np.full(len(users["guest"]), -1, dtype=np.int64)
    customer_id_of_user[customers] = 6_900_000_000 + np.arange(1, len(customers) + 1)
    return web, customers, first_purchase_us, customer_id_of_user


def _other_orders(
    rng: np.random.Generator, cfg: GeneratorConfig, n_web: int, customers: np.ndarray,
    first_purchase_us: np.ndarray, start_us: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Draft and point-of-sale orders from known customers, never seen by GA4: their visitor and time."""
    n_other = int(round(n_web * NON_WEB_ORDER_SHARE))
    other_users = rng.choice(customers, n_other) if len(customers) and n_other else np.empty(0, np.int64)
    other_time = np.maximum(
        first_purchase_us[other_users] + rng.integers(DAY_US, 60 * DAY_US, len(other_users)),
        start_us,
    ) if len(other_users) else np.empty(0, np.int64)
    end_us = start_us + cfg.days * DAY_US
    keep = other_time < end_us
    return other_users[keep], other_time[keep]


def _orders_in_time_order(
    rng: np.random.Generator, s: _Sessions, web: np.ndarray, t_purchase: np.ndarray,
    other_users: np.ndarray, other_time: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The web and the other orders together in time order: each order's visitor, time, session (-1 for
    none) and source name (0 web, 1 pos, 2 draft)."""
    n_web = len(web)
    order_user = np.concatenate([s.user[web], other_users])
    order_time = np.concatenate([t_purchase[web] + 3 * SECOND_US, other_time])
    order_session = np.concatenate([web, np.full(len(other_users), -1)])
    source_name = np.concatenate(
        [np.zeros(n_web, np.int8), np.where(rng.random(len(other_users)) < 0.5, 1, 2).astype(np.int8)]
    )
    chrono = np.argsort(order_time, kind="stable")
    order_user, order_time, order_session, source_name = (
        a[chrono] for a in (order_user, order_time, order_session, source_name)
    )
    return order_user, order_time, order_session, source_name


def _order_lines(
    rng: np.random.Generator, cfg: GeneratorConfig, s: _Sessions, order_session: np.ndarray,
) -> dict[str, np.ndarray]:
    """The line items of the orders, in order: each line's order (its index), product, variant rank,
    quantity, unit price and discount, in cents."""
    products = cfg.catalog
    sellable = np.asarray([i for i, p in enumerate(products) if p.status == "active"])
    popularity = _weights([products[i].popularity for i in sellable])
    n_orders = len(order_session)

    # Lines: the product put in the cart, sometimes more; the planted pair is attached often.
    extra = cfg.lines_per_order - 1
    n_lines = 1 + np.minimum(rng.poisson(extra, n_orders), max(4, int(np.ceil(4 * extra))))
    line_order, line_rank = _group_offsets(n_lines)
    line_product = sellable[rng.choice(len(sellable), len(line_order), p=popularity)]
    first = line_rank == 0
    from_session = order_session[line_order[first]]
    line_product[first] = np.where(from_session >= 0, s.cart_product[np.maximum(from_session, 0)],
                                   line_product[first])
    anchor = products.index(catalog.PAIR_ANCHOR)
    addon = products.index(catalog.PAIR_ADDON)
    has_anchor = np.zeros(n_orders, bool)
    has_anchor[line_order[line_product == anchor]] = True
    has_addon = np.zeros(n_orders, bool)
    has_addon[line_order[line_product == addon]] = True
    attach_probability = catalog.PAIR_ATTACH_PROBABILITY if cfg.plants("cross_sell") else 0.0
    attach = np.flatnonzero(has_anchor & ~has_addon & (rng.random(n_orders) < attach_probability))
    # The cheap and the dear backpack are substitutes: an order keeps one of them.
    cheap, dear = products.index(catalog.UPSELL_CHEAP), products.index(catalog.UPSELL_DEAR)
    has_cheap = np.zeros(n_orders, bool)
    has_cheap[line_order[line_product == cheap]] = True
    if cfg.plants("upsell_substitute"):
        line_product[(line_product == dear) & has_cheap[line_order]] = products.index(catalog.PRODUCTS[4])

    line_order = np.concatenate([line_order, attach])
    line_product = np.concatenate([line_product, np.full(len(attach), addon)])
    by_order = np.argsort(line_order, kind="stable")
    line_order, line_product = line_order[by_order], line_product[by_order]
    n_line_rows = len(line_order)
    sizes = np.asarray([len(p.sizes) for p in products])
    variant_rank = (rng.random(n_line_rows) * sizes[line_product]).astype(np.int64)
    price = np.asarray([p.price_cents for p in products])[line_product]
    quantity = 1 + (rng.random(n_line_rows) < 0.12) + (rng.random(n_line_rows) < 0.03)
    discounted_order = rng.random(n_orders) < 0.12
    line_discount = np.where(discounted_order[line_order], np.round(price * quantity * 0.15), 0).astype(np.int64)
    return {"order": line_order, "product": line_product, "variant_rank": variant_rank, "quantity": quantity,
            "price": price, "discount": line_discount}


def _lines_frame(line_items: dict[str, np.ndarray], order_id: np.ndarray) -> pd.DataFrame:
    """The lines table: the line items with their ids and their order's id."""
    return pd.DataFrame({
        "id": 11_000_000_000 + np.arange(len(line_items["order"])) * 3 + 1,
        "order_id": order_id[line_items["order"]],
        "product": line_items["product"],
        "variant_rank": line_items["variant_rank"],
        "quantity": line_items["quantity"],
        "price": line_items["price"],
        "discount": line_items["discount"],
    })


def _order_money(
    line_items: dict[str, np.ndarray], n_orders: int, order_user: np.ndarray, users: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The order's money in cents, from its lines: subtotal, discounts, tax, shipping and total."""
    line_order, price, quantity = line_items["order"], line_items["price"], line_items["quantity"]
    line_discount = line_items["discount"]
    subtotal = np.bincount(line_order, weights=price * quantity - line_discount, minlength=n_orders)
    subtotal = subtotal.astype(np.int64)
    discounts = np.bincount(line_order, weights=line_discount, minlength=n_orders).astype(np.int64)
    shipping = np.where(subtotal >= catalog.FREE_SHIPPING_THRESHOLD_CENTS, 0, catalog.SHIPPING_FEE_CENTS)
    us = users["country"][order_user] == catalog.COUNTRIES.index("United States")
    tax = np.where(us, np.round(subtotal * catalog.US_TAX_RATE), 0).astype(np.int64)
    total = subtotal + tax + shipping
    return {"subtotal": subtotal, "discounts": discounts, "tax": tax, "shipping": shipping, "total": total}


def _order_status(rng: np.random.Generator, n_orders: int) -> dict[str, np.ndarray]:
    """Status: cancelled, test, pending/authorized, then refunds on what was paid; with the financial
    status, the orders refunded (in part or in full) and those refunded twice."""
    u = rng.random(n_orders)
    cancelled = u < 0.02
    test = (u >= 0.02) & (u < 0.024)
    pending = (u >= 0.024) & (u < 0.034)
    refundable = ~(cancelled | test | pending)
    refunded = refundable & (rng.random(n_orders) < 0.07)
    full_refund = refunded & (rng.random(n_orders) < 0.35)
    two_refunds = refunded & ~full_refund & (rng.random(n_orders) < 0.15)
    status = np.full(n_orders, "paid", dtype=object)
    status[pending] = np.where(rng.random(int(pending.sum())) < 0.5, "pending", "authorized")
    status[cancelled] = "voided"
    status[refunded] = "partially_refunded"
    status[full_refund] = "refunded"
    return {"financial_status": status, "cancelled": cancelled, "test": test, "refunded": refunded,
            "full_refund": full_refund, "two_refunds": two_refunds}


def _refunds_of_orders(
    rng: np.random.Generator, status: dict[str, np.ndarray], total: np.ndarray, order_time: np.ndarray,
    order_id: np.ndarray,
) -> pd.DataFrame:
    """The refunds of the refunded orders (two for some), in time order: the whole total or a share of it."""
    refunded, full_refund, two_refunds = status["refunded"], status["full_refund"], status["two_refunds"]
    refund_order = np.concatenate([np.flatnonzero(refunded), np.flatnonzero(two_refunds)])
    refund_share = np.where(full_refund[refund_order], 1.0, rng.uniform(0.15, 0.45, len(refund_order)))
    refund_amount = np.maximum(np.round(total[refund_order] * refund_share), 1).astype(np.int64)
    refund_time = order_time[refund_order] + rng.integers(2 * DAY_US, 25 * DAY_US, len(refund_order))
    refund_chrono = np.argsort(refund_time, kind="stable")
    refund_order, refund_amount, refund_time = (
        a[refund_chrono] for a in (refund_order, refund_amount, refund_time)
    )
    return pd.DataFrame({
        "id": 9_800_000_000 + np.arange(len(refund_order)) * 5 + 1,
        "order_id": order_id[refund_order],
        "created_us": refund_time,
        "amount": refund_amount,
    })


def _customers_frame(
    rng: np.random.Generator, cfg: GeneratorConfig, cust_users: np.ndarray, customer_id_of_user: np.ndarray,
    first_purchase_us: np.ndarray, users: dict[str, np.ndarray], start_us: int,
) -> pd.DataFrame:
    """Customers: everyone with an id, created a little before the first order; a few never ordered."""
    cust_created = first_purchase_us[cust_users] - rng.integers(0, 20 * DAY_US, len(cust_users))
    n_idle = int(round(len(cust_users) * 0.04))
    idle_created = start_us + rng.integers(0, cfg.days * DAY_US, n_idle)
    return pd.DataFrame({
        "id": np.concatenate([customer_id_of_user[cust_users],
                              6_900_000_000 + len(cust_users) + 1 + np.arange(n_idle)]),
        "created_us": np.concatenate([cust_created, idle_created]),
        "user": np.concatenate([cust_users, np.full(n_idle, -1)]),
        "accepts_marketing": rng.random(len(cust_users) + n_idle) < 0.45,
        "country": np.concatenate([users["country"][cust_users],
                                   rng.choice(len(catalog.COUNTRIES), n_idle, p=_weights(catalog.COUNTRY_WEIGHTS))]),
    })


def _build_orders(
    rng: np.random.Generator, cfg: GeneratorConfig, s: _Sessions, t_purchase: np.ndarray,
    users: dict[str, np.ndarray], start_us: int,
) -> dict[str, pd.DataFrame]:
    web, customers, first_purchase_us, customer_id_of_user = _customer_ids(s, t_purchase, users)
    other_users, other_time = _other_orders(rng, cfg, len(web), customers, first_purchase_us, start_us)
    order_user, order_time, order_session, source_name = _orders_in_time_order(
        rng, s, web, t_purchase, other_users, other_time
    )
    n_orders = len(order_user)
    order_id = 5_500_000_000_000 + np.arange(n_orders) * 7 + 1

    line_items = _order_lines(rng, cfg, s, order_session)
    money = _order_money(line_items, n_orders, order_user, users)
    status = _order_status(rng, n_orders)
    refunds = _refunds_of_orders(rng, status, money["total"], order_time, order_id)

    customer_id = customer_id_of_user[order_user]
    session_landing = np.where(order_session >= 0, s.landing[np.maximum(order_session, 0)], -1)
    session_channel = np.where(order_session >= 0, s.channel[np.maximum(order_session, 0)], -1)
    cancelled = status["cancelled"]

    orders = pd.DataFrame({
        "id": order_id,
        "number": 1001 + np.arange(n_orders),
        "created_us": order_time,
        "customer_id": customer_id,
        "user": order_user,
        "subtotal": money["subtotal"],
        "discounts": money["discounts"],
        "tax": money["tax"],
        "shipping": money["shipping"],
        "total": money["total"],
        "financial_status": status["financial_status"].astype(str),
        "cancelled_us": np.where(cancelled, order_time + rng.integers(SECOND_US * 3600, 2 * DAY_US, n_orders), -1),
        "source_name": source_name,
        "landing": session_landing,
        "channel": session_channel,
        "test": status["test"],
        "session": order_session,
    })
    customers_df = _customers_frame(rng, cfg, customers, customer_id_of_user, first_purchase_us, users, start_us)
    return {
        "orders": orders,
        "lines": _lines_frame(line_items, order_id),
        "refunds": refunds,
        "customers": customers_df,
        "customer_id_of_user": customer_id_of_user,
        "first_purchase_us": first_purchase_us,
    }


# --------------------------------------------------------------------------------------------------
# events


def _shared_session_ids(quirks: np.random.Generator, s: _Sessions) -> np.ndarray:
    """Each session's ga_session_id: its start in seconds, except for a share of sessions that take the
    id of the session that started just before (another visitor's), as GA4 ids collide in real stores."""
    ids = s.start_us // SECOND_US
    by_start = np.argsort(s.start_us, kind="stable")
    positions = np.flatnonzero(quirks.random(max(len(by_start) - 1, 0)) < SHARED_SESSION_ID_SHARE) + 1
    take, before = by_start[positions], by_start[positions - 1]
    other_user = s.user[before] != s.user[take]
    shared = ids.copy()
    shared[take[other_user]] = ids[before[other_user]]
    # A visitor never has two sessions with one id (they would be one session).
    pairs = pd.DataFrame({"user": s.user, "id": shared})
    clash = pairs.duplicated(keep=False).to_numpy()
    shared[clash] = ids[clash]
    return shared


def _extra_page_views(rng: np.random.Generator, s: _Sessions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The page views after a session's first (more when the visitor adds to the cart): their session,
    time and page."""
    n_extra = rng.poisson(1.2 + 1.5 * s.add_to_cart)
    extra_session, extra_rank = _group_offsets(n_extra)
    extra_time = s.start_us[extra_session] + (extra_rank + 1) * (
        (rng.exponential(45, len(extra_session)) * SECOND_US).astype(np.int64) + SECOND_US
    )
    extra_page = rng.choice(len(catalog.LANDING_PAGES), len(extra_session))
    return extra_session, extra_time, extra_page


def _step_events(
    s: _Sessions, times: dict[str, np.ndarray], has_session_start: np.ndarray, express: np.ndarray,
    extra: tuple[np.ndarray, np.ndarray, np.ndarray], pu: np.ndarray,
) -> dict[str, np.ndarray]:
    """The events of every funnel step, step by step: each one's session, event code, time, page (-1 for
    none) and whether it carries the session's source."""
    extra_session, extra_time, extra_page = extra
    idx = np.arange(len(s.user))
    pv = idx[s.has_page_view]
    vi = idx[s.view_item]
    ac = idx[s.add_to_cart]
    bc = idx[s.begin_checkout & ~express]

    # event codes follow contract.FUNNEL_EVENTS
    blocks = [
        (idx[has_session_start], 0, s.start_us[has_session_start], s.landing[has_session_start], True),
        (pv, 1, s.start_us[pv], s.landing[pv], True),
        (extra_session[s.has_page_view[extra_session]], 1,
         extra_time[s.has_page_view[extra_session]], extra_page[s.has_page_view[extra_session]], False),
        (vi, 2, times["view"][vi], np.full(len(vi), -1), False),
        (ac, 3, times["cart"][ac], np.full(len(ac), -1), False),
        (bc, 4, times["checkout"][bc], np.full(len(bc), -1), False),
        (pu, 5, times["purchase"][pu], np.full(len(pu), -1), False),
    ]
    return {
        "session": np.concatenate([b[0] for b in blocks]),
        "code": np.concatenate([np.full(len(b[0]), b[1], np.int8) for b in blocks]),
        "ts": np.concatenate([b[2] for b in blocks]),
        "page": np.concatenate([b[3] for b in blocks]),
        "carries_source": np.concatenate([np.full(len(b[0]), b[4]) for b in blocks]),
    }


def _in_file_order(rng: np.random.Generator, events: pd.DataFrame) -> pd.DataFrame:
    """Exact duplicates (the same hit sent twice), then file order: by day, shuffled inside the day,
    with some events arriving a day late."""
    dup = np.flatnonzero(rng.random(len(events)) < DUPLICATE_EVENT_SHARE)
    events = pd.concat([events, events.iloc[dup]], ignore_index=True)
    late = (rng.random(len(events)) < LATE_EVENT_SHARE).astype(np.int64)
    events["rowid_"] = np.arange(len(events))
    events["sort_key"] = ((events["ts"].to_numpy() // DAY_US + late) << 32) + rng.integers(0, 2**31, len(events))
    return events


def _build_events(
    rng: np.random.Generator, s: _Sessions, times: dict[str, np.ndarray], orders: pd.DataFrame,
    customer_id_of_user: np.ndarray, first_purchase_us: np.ndarray, quirks: np.random.Generator,
) -> pd.DataFrame:
    n = len(s.user)
    has_session_start = quirks.random(n) >= NO_SESSION_START_SHARE
    ga_session_id = _shared_session_ids(quirks, s)
    # Missing purchases: the order exists in Shopify, the browser never sent the event.
    web_orders = orders[orders["session"] >= 0]
    purchase_session = web_orders["session"].to_numpy()
    sent = rng.random(len(purchase_session)) >= GA4_MISSED_PURCHASE_SHARE
    # Express checkouts skip the begin_checkout event.
    express = s.purchase & (rng.random(n) < 0.03)
    extra = _extra_page_views(rng, s)

    pu = purchase_session[sent]
    pu_rev = web_orders["total"].to_numpy()[sent]
    pu_tx = web_orders["id"].to_numpy()[sent]
    steps = _step_events(s, times, has_session_start, express, extra, pu)
    session, code, ts = steps["session"], steps["code"], steps["ts"]

    item = np.where((code == 2) | (code == 3), s.cart_product[session], -1)
    tx = np.full(len(session), -1, np.int64)
    rev = np.full(len(session), -1, np.int64)
    is_purchase = code == 5
    tx[is_purchase] = pu_tx
    rev[is_purchase] = pu_rev
    # The tag sent the purchase without its transaction id.
    not_set = is_purchase & (quirks.random(len(session)) < NOT_SET_TRANSACTION_SHARE)

    user = s.user[session]
    # Logged-in customers carry their Shopify id from their first purchase on.
    known = (customer_id_of_user[user] > 0) & (ts >= first_purchase_us[user] - 600 * SECOND_US)
    user_id = np.where(known, customer_id_of_user[user], -1)

    events = pd.DataFrame({
        "ts": ts,
        "code": code,
        "user": user,
        "session_start_s": s.start_us[session] // SECOND_US,
        "ga_session_id": ga_session_id[session],
        "not_set": not_set,
        "session_number": s.number[session],
        "page": steps["page"],
        "channel": np.where(steps["carries_source"], s.channel[session], -2),
        "item": item,
        "tx": tx,
        "rev": rev,
        "user_id": user_id,
    })
    return _in_file_order(rng, events)


# --------------------------------------------------------------------------------------------------
# writing


def _lookup_tables(con: duckdb.DuckDBPyConnection, cfg: GeneratorConfig, users: dict[str, np.ndarray]) -> None:
    channels = catalog.CHANNELS
    con.register("channels", pd.DataFrame({
        "channel": np.arange(len(channels)),
        "source": [c.source for c in channels],
        "medium": [c.medium for c in channels],
        "campaign": [c.campaign for c in channels],
        "referrer": [c.referrer for c in channels],
    }))
    con.register("pages", pd.DataFrame({
        "page": np.arange(len(catalog.LANDING_PAGES)),
        "path": [p.path for p in catalog.LANDING_PAGES],
    }))
    con.register("users", pd.DataFrame({
        "user": np.arange(len(users["device"])),
        "device": np.asarray(catalog.DEVICES)[users["device"]],
        "country": np.asarray(catalog.COUNTRIES)[users["country"]],
        "client_id": users["client_id"],
        "first_s": users["first_us"] // SECOND_US,
    }))
    products = cfg.catalog
    con.register("product_lookup", pd.DataFrame({
        "product": np.arange(len(products)),
        "product_id": [p.id for p in products],
        "title": [p.title for p in products],
        "handle": [p.handle for p in products],
    }))


def _ts_text(expr: str) -> str:
    """SQL: microseconds since epoch -> ISO-8601 with the session time zone's offset."""
    tz = f"timezone('UTC', make_timestamp({expr}))"
    return (
        f"strftime({tz}, '%Y-%m-%dT%H:%M:%S') || "
        f"case when date_part('timezone', {tz}) < 0 then '-' else '+' end || "
        f"lpad((abs(date_part('timezone', {tz})) // 3600)::varchar, 2, '0') || ':' || "
        f"lpad(((abs(date_part('timezone', {tz})) % 3600) // 60)::varchar, 2, '0')"
    )


def _money(expr: str) -> str:
    return f"(({expr})::decimal(18, 2) / 100)::decimal(18, 2)::varchar"


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> int:
    tmp = path.with_suffix(".csv.tmp")
    written = con.execute(f"copy ({query}) to ? (header, delimiter ',', quote '\"')", [str(tmp)]).fetchone()[0]
    tmp.replace(path)
    return int(written)


def _utm_query() -> str:
    return (
        "case when c.campaign is not null then '?utm_source=' || c.source || '&utm_medium=' || c.medium"
        " || '&utm_campaign=' || c.campaign else '' end"
    )


def _write_events(con, events: pd.DataFrame, path: Path, bad: dict[str, np.ndarray]) -> int:
    con.register("events", events)
    bad_ts = ",".join(str(int(i)) for i in bad.get("bad_timestamp", [])) or "-1"
    bad_dev = ",".join(str(int(i)) for i in bad.get("bad_device", [])) or "-1"
    checkout_url = f"'{catalog.SHOP_HOST}/checkouts/cn/' || md5(u.client_id || '.' || e.session_start_s)[:16]"
    query = f"""
        select
            strftime(make_timestamp(e.ts), '%Y%m%d') as event_date,
            case when e.rowid_ in ({bad_ts}) then 'not-a-number' else e.ts::varchar end as event_timestamp,
            ['session_start', 'page_view', 'view_item', 'add_to_cart', 'begin_checkout',
             'purchase'][e.code + 1] as event_name,
            u.client_id || '.' || u.first_s as user_pseudo_id,
            case when e.user_id > 0 then e.user_id::varchar end as user_id,
            e.ga_session_id::varchar as ga_session_id,
            e.session_number::varchar as ga_session_number,
            case when e.code = 0 or e.code = 1 then
                '{catalog.SHOP_HOST}' || coalesce(p.path, '/products/' || pr.handle, '/')
                || case when e.channel >= 0 then {_utm_query()} else '' end
            when e.code in (2, 3) then '{catalog.SHOP_HOST}/products/' || pr.handle
            when e.code = 4 then {checkout_url}
            when e.code = 5 then {checkout_url} || '/thank-you'
            end as page_location,
            case when e.channel >= 0 then c.referrer end as page_referrer,
            -- GA4 sends no source on a direct session's events.
            case when e.channel >= 0 and c.source is distinct from '(direct)' then c.source end as source,
            case when e.channel >= 0 and c.source is distinct from '(direct)' then c.medium end as medium,
            case when e.channel >= 0 and c.source is distinct from '(direct)' then c.campaign end as campaign,
            case when e.rowid_ in ({bad_dev}) then 'smart-tv' else u.device end as device_category,
            u.country as geo_country,
            case when e.item >= 0 then pr.product_id::varchar end as item_id,
            case when e.not_set then '(not set)' when e.tx > 0 then e.tx::varchar end as transaction_id,
            case when e.rev >= 0 then {_money('e.rev')} end as purchase_revenue,
            case when e.code = 5 then 'USD' end as currency
        from events as e
        left join users as u on u."user" = e."user"
        left join pages as p on p.page = e.page
        left join channels as c on c.channel = e.channel
        left join product_lookup as pr on pr.product = e.item
        order by e.sort_key, e.rowid_
    """
    return _copy(con, query, path)


def _orders_query(cfg: GeneratorConfig) -> str:
    """SQL: the orders in the contract's text, in time order."""
    return f"""
        select
            o.id::varchar as id,
            '#' || o.number as name,
            {_ts_text('o.created_us')} as created_at,
            case when o.customer_id > 0 then o.customer_id::varchar end as customer_id,
            sha256('shopper-' || o."user" || '@example.com') as email_hash,
            {sql_string(cfg.currency)} as currency,
            {_money('o.subtotal')} as subtotal_price,
            {_money('o.discounts')} as total_discounts,
            {_money('o.tax')} as total_tax,
            {_money('o.shipping')} as total_shipping,
            {_money('o.total')} as total_price,
            o.financial_status,
            case when o.cancelled_us > 0 then {_ts_text('o.cancelled_us')} end as cancelled_at,
            ['web', 'pos', 'shopify_draft_order'][o.source_name + 1] as source_name,
            case when o.landing >= 0 then coalesce(p.path, '/') || {_utm_query()} end as landing_site,
            c.referrer as referring_site,
            case when o.test then 'true' else 'false' end as test
        from orders as o
        left join pages as p on p.page = o.landing
        left join channels as c on c.channel = o.channel
        order by o.created_us, o.id
    """


def _order_lines_query() -> str:
    """SQL: the order lines in the contract's text, with their product's ids, SKU and title."""
    return f"""
        select
            l.id::varchar as id,
            l.order_id::varchar as order_id,
            pr.product_id::varchar as product_id,
            (pr.product_id * 10 + l.variant_rank)::varchar as variant_id,
            upper(left(replace(pr.handle, '-', ''), 8)) || '-' || l.variant_rank as sku,
            pr.title,
            l.quantity::varchar as quantity,
            {_money('l.price')} as price,
            {_money('l.discount')} as total_discount
        from lines as l
        left join product_lookup as pr on pr.product = l.product
        order by l.id
    """


def _write_shopify(con, cfg: GeneratorConfig, built: dict, users: dict, path_of, bad: bool,
                   rng: np.random.Generator, planted: dict[str, int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    orders, lines, refunds, customers = built["orders"], built["lines"], built["refunds"], built["customers"]
    con.register("orders", orders)
    con.register("lines", lines)
    con.register("refunds", refunds)
    con.register("customers", customers)

    refunds_sql = f"""
        select id::varchar as id, order_id::varchar as order_id, {_ts_text('created_us')} as created_at,
            {_money('amount')} as amount
        from refunds order by created_us, id
    """
    customers_sql = f"""
        select
            id::varchar as id,
            {_ts_text('created_us')} as created_at,
            sha256('shopper-' || "user" || '@example.com') as email_hash,
            case when accepts_marketing then 'true' else 'false' end as accepts_marketing,
            ['{"', '".join(catalog.COUNTRIES)}'][country + 1] as country
        from customers order by created_us, id
    """
    frames = {
        "raw_shopify_orders": con.sql(_orders_query(cfg)).df(),
        "raw_shopify_order_lines": con.sql(_order_lines_query()).df(),
        "raw_shopify_refunds": con.sql(refunds_sql).df(),
        "raw_shopify_customers": con.sql(customers_sql).df(),
        "raw_shopify_products": _products_frame(cfg),
        "raw_shopify_variants": _variants_frame(cfg),
    }
    if cfg.messy_catalog:
        catalog_mess.mess_up(frames)
    if bad:
        planted.update(_plant_bad_shopify_rows(frames, rng))
    for name, frame in frames.items():
        frame = frame[TABLES_BY_NAME[name].column_names]
        con.register("frame", frame)
        counts[name] = _copy(con, "select * from frame", path_of(name))
        con.unregister("frame")
    return counts


def _products_frame(cfg: GeneratorConfig) -> pd.DataFrame:
    rows = []
    for i, p in enumerate(cfg.catalog):
        created = datetime(cfg.start.year, cfg.start.month, cfg.start.day, tzinfo=UTC)
        created_text = (created.replace(day=1) if i % 2 else created).strftime("%Y-%m-%dT09:00:00-04:00")
        rows.append({
            "id": str(p.id), "title": p.title, "product_type": p.product_type, "vendor": p.vendor,
            "status": p.status, "created_at": created_text,
        })
    return pd.DataFrame(rows)


def _variants_frame(cfg: GeneratorConfig) -> pd.DataFrame:
    rows = []
    for p in cfg.catalog:
        for rank, size in enumerate(p.sizes):
            rows.append({
                "id": str(p.id * 10 + rank), "product_id": str(p.id), "title": size,
                "sku": f"{p.sku_prefix}-{rank}",
                "price": f"{p.price_cents / 100:.2f}",
                "compare_at_price": f"{p.price_cents * 1.25 / 100:.2f}" if p.product_type == "Apparel" else None,
            })
    return pd.DataFrame(rows)


def _plant_bad_shopify_rows(frames: dict[str, pd.DataFrame], rng: np.random.Generator) -> dict[str, int]:
    """Break a few rows of the Shopify frames; per table, the rows staging will lose for it (see
    GenerationResult.planted_losses)."""
    orders = frames["raw_shopify_orders"]
    n = len(orders)
    picks = rng.choice(n, size=min(3, n), replace=False)
    # 1. an order in another currency than the shop's
    orders.loc[picks[0], "currency"] = "EUR"
    # 2. the same order id twice with different content, and 3. an exact duplicate row
    conflicting = orders.loc[[picks[1]]].copy()
    conflicting["total_price"] = f"{float(conflicting['total_price'].iloc[0]) + 10:.2f}"
    exact = orders.loc[[picks[2]]].copy()
    frames["raw_shopify_orders"] = pd.concat([orders, conflicting, exact], ignore_index=True)

    lines = frames["raw_shopify_order_lines"]
    # 4. a negative quantity, and 5. a line whose order does not exist
    good_orders = set(orders["id"]) - {orders.loc[p, "id"] for p in picks[:2]}
    candidates = np.flatnonzero(lines["order_id"].isin(good_orders).to_numpy())
    neg = candidates[rng.integers(0, len(candidates))]
    lines.loc[neg, "quantity"] = "-1"
    orphan = lines.loc[[candidates[0]]].copy()
    orphan["id"] = str(int(lines["id"].astype("int64").max()) + 3)
    orphan["order_id"] = "1"
    frames["raw_shopify_order_lines"] = pd.concat([lines, orphan], ignore_index=True)

    # 6. a refund whose date cannot be read
    refunds = frames["raw_shopify_refunds"]
    if len(refunds):
        refunds.loc[len(refunds) - 1, "created_at"] = "last tuesday"
    # 7. a customer sent twice, identical
    customers = frames["raw_shopify_customers"]
    frames["raw_shopify_customers"] = pd.concat([customers, customers.iloc[[0]]], ignore_index=True)
    # The exact copies (3, 7) are kept once, and the lines and refunds of the broken orders go with them:
    # staging loses the other order (1) and both rows of the conflicting id (2), the lines 4 and 5, refund 6.
    return {"raw_shopify_orders": 3, "raw_shopify_order_lines": 2, "raw_shopify_refunds": 1 if len(refunds) else 0}


def config_as_dict(cfg: GeneratorConfig) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(cfg).items()}


GA4_FORMATS = ("csv", "export", "export-json")
SHOPIFY_FORMATS = ("flat", "bulk", "fivetran")
# Rows of one gzipped JSON shard of a day table (an export job to Cloud Storage shards large tables).
JSON_SHARD_ROWS = 100_000


def read_generated_config(out_dir: Path) -> dict | None:
    """The settings a complete generated set in out_dir was made with, or None."""
    meta = Path(out_dir) / GENERATOR_FILE
    if not meta.is_file():
        return None
    settings = json.loads(meta.read_text()).get("generator") or {}
    events = "raw_ga4_events"
    shopify = settings.get("shopify_format", "flat")
    files = [t.file_name for t in TABLES if (t.name != events or settings.get("ga4_format", "csv") == "csv")
             and (t.source != "shopify" or shopify == "flat")]
    if not all((Path(out_dir) / f).is_file() for f in files):
        return None
    if settings.get("ga4_format", "csv") != "csv" and not (Path(out_dir) / EXPORT_DIR).is_dir():
        return None
    if shopify != "flat" and not (Path(out_dir) / (BULK_DIR if shopify == "bulk" else FIVETRAN_DIR)).is_dir():
        return None
    return settings


def _check_config(cfg: GeneratorConfig) -> None:
    if cfg.ga4_format not in GA4_FORMATS:
        raise ValueError(f"ga4_format {cfg.ga4_format!r}: one of {', '.join(GA4_FORMATS)}")
    if cfg.shopify_format not in SHOPIFY_FORMATS:
        raise ValueError(f"shopify_format {cfg.shopify_format!r}: one of {', '.join(SHOPIFY_FORMATS)}")
    if cfg.products < len(catalog.PRODUCTS):
        raise ValueError(f"products {cfg.products}: the mock store's own {len(catalog.PRODUCTS)} are the fewest")
    unknown = sorted(set(cfg.opportunities or ()) - set(catalog.OPPORTUNITIES))
    if unknown:
        raise ValueError(f"opportunities {', '.join(unknown)}: each one of {', '.join(catalog.OPPORTUNITIES)}")
    if cfg.lines_per_order < 1:
        raise ValueError(f"lines_per_order {cfg.lines_per_order}: an order has at least one line")


def generate(out_dir: Path | str, config: GeneratorConfig | None = None) -> GenerationResult:
    """Write the seven raw-contract CSVs (and a generator.json of the settings) into out_dir."""
    cfg = config or GeneratorConfig()
    _check_config(cfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # generator.json is written last: its presence says the whole set is complete.
    (out / GENERATOR_FILE).unlink(missing_ok=True)
    rng = np.random.default_rng(cfg.seed)
    start_us = int(datetime(cfg.start.year, cfg.start.month, cfg.start.day, tzinfo=UTC).timestamp()) * SECOND_US

    users = _simulate_users(rng, cfg, start_us)
    sessions = _simulate_sessions(rng, cfg, users, start_us)
    times = _event_times(rng, sessions)
    built = _build_orders(rng, cfg, sessions, times["purchase"], users, start_us)
    events = _build_events(rng, sessions, times, built["orders"], built["customer_id_of_user"],
                           built["first_purchase_us"], np.random.default_rng([cfg.seed, 21]))

    bad: dict[str, np.ndarray] = {}
    planted: dict[str, int] = {}
    if cfg.bad_rows:
        n_bad = max(1, len(events) // 200_000)
        picks = rng.choice(len(events), size=2 * n_bad, replace=False)
        bad = {"bad_timestamp": picks[:n_bad], "bad_device": picks[n_bad:]}
        planted["raw_ga4_events"] = 2 * n_bad

    # The events are written in file order by one sort of every row: bounded, so a large store spills to
    # disk instead of holding the whole file's text in memory.
    spill = out / ".generate.tmp"
    con = duckdb.connect(config={"memory_limit": duckdb_memory_limit(), "temp_directory": str(spill)})
    try:
        con.execute(f"set TimeZone = {sql_string(cfg.store_timezone)}")
        con.execute("set preserve_insertion_order = true")
        _lookup_tables(con, cfg, users)
        counts = {"raw_ga4_events": _write_events(con, events, out / "raw_ga4_events.csv", bad)}
        counts.update(_write_shopify(con, cfg, built, users, lambda name: out / f"{name}.csv",
                                     cfg.bad_rows and cfg.shopify_format != "bulk", rng, planted))
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    shutil.rmtree(out / EXPORT_DIR, ignore_errors=True)
    if cfg.ga4_format != "csv":
        fmt = "parquet" if cfg.ga4_format == "export" else "json"
        write_export(out / "raw_ga4_events.csv", out / EXPORT_DIR, fmt, shard_rows=JSON_SHARD_ROWS)
        (out / "raw_ga4_events.csv").unlink()
    for folder in (BULK_DIR, FIVETRAN_DIR):
        shutil.rmtree(out / folder, ignore_errors=True)
    if cfg.shopify_format != "flat":
        write_layout(out, cfg.shopify_format, cfg.users)

    losses = {t.name: planted.get(t.name, 0) for t in TABLES}
    (out / GENERATOR_FILE).write_text(
        json.dumps({"generator": config_as_dict(cfg), "row_counts": {t.name: counts[t.name] for t in TABLES},
                    PLANTED_LOSSES: losses}, indent=2) + "\n"
    )
    return GenerationResult(out, counts, cfg, losses)
