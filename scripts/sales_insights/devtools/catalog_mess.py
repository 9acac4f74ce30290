"""What a real catalog holds that a tidy one does not, written into the mock store's Shopify tables when the
generator's `messy_catalog` is on (issue 29's shapes, after the UCI Online Retail history):

- a product relaunched under a new id with the same title: the cross-sell add-on (PAIR_ADDON) is sold as a
  new product from the middle of the period on, so one title names two products, both bought with the
  anchor;
- a product renamed: the Organic Cotton Tee's lines before the middle of the period carry its old title;
- lines that are not merchandise: a payment fee (a product of type Fee, SKU FEE) on every 25th order and a
  custom line (no product, as Shopify's custom items: gift wrapping) on every 40th, each added to its
  order's subtotal and total, as Shopify counts them.

Everything is decided by the rows themselves (their order and dates), so the same store gives the same
mess; nothing else of the simulation changes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd

from sales_insights.devtools import mock_catalog as catalog

RELAUNCHED_ID = catalog.PAIR_ADDON.id + 1_000
RENAMED = catalog.PRODUCTS[4]
RENAMED_OLD_TITLE = "Organic Tee"
FEE_PRODUCT_ID = catalog.PRODUCTS[-1].id + 1
FEE = {"title": "Payment fee", "sku": "FEE", "price": Decimal("1.50"), "every": 25}
CUSTOM = {"title": "Gift wrapping", "price": Decimal("4.00"), "every": 40}


def _midpoint(orders: pd.DataFrame) -> datetime:
    instants = pd.to_datetime(orders["created_at"], utc=True, errors="coerce").dropna()
    return instants.min() + (instants.max() - instants.min()) / 2


def _relaunch(frames: dict[str, pd.DataFrame], after: pd.Series) -> None:
    """The add-on sold as a new product (same title, type and variants) from the midpoint on."""
    products, variants, lines = (frames[t] for t in ("raw_shopify_products", "raw_shopify_variants",
                                                      "raw_shopify_order_lines"))
    old = str(catalog.PAIR_ADDON.id)
    copy = products[products["id"] == old].copy()
    copy["id"] = str(RELAUNCHED_ID)
    frames["raw_shopify_products"] = pd.concat([products, copy], ignore_index=True)
    new_variants = variants[variants["product_id"] == old].copy()
    new_variants["id"] = [str(RELAUNCHED_ID * 10 + int(v) - int(old) * 10) for v in new_variants["id"]]
    new_variants["product_id"] = str(RELAUNCHED_ID)
    frames["raw_shopify_variants"] = pd.concat([variants, new_variants], ignore_index=True)
    moved = (lines["product_id"] == old) & after
    lines.loc[moved, "variant_id"] = [str(RELAUNCHED_ID * 10 + int(v) - int(old) * 10)
                                      for v in lines.loc[moved, "variant_id"]]
    lines.loc[moved, "product_id"] = str(RELAUNCHED_ID)


def _extra_lines(frames: dict[str, pd.DataFrame]) -> None:
    """Fee and custom lines on every n-th order, added to the order's subtotal and total."""
    orders, lines = frames["raw_shopify_orders"], frames["raw_shopify_order_lines"]
    next_id = int(lines["id"].astype("int64").max())
    added = []
    for position, index in enumerate(orders.index):
        for kind in (FEE, CUSTOM):
            if position % kind["every"] != kind["every"] - 1:
                continue
            next_id += 1
            fee = kind is FEE
            added.append({"id": str(next_id), "order_id": orders.at[index, "id"],
                          "product_id": str(FEE_PRODUCT_ID) if fee else None,
                          "variant_id": str(FEE_PRODUCT_ID * 10) if fee else None,
                          "sku": FEE["sku"] if fee else None, "title": kind["title"], "quantity": "1",
                          "price": f"{kind['price']:.2f}", "total_discount": "0.00"})
            for column in ("subtotal_price", "total_price"):
                orders.at[index, column] = f"{Decimal(orders.at[index, column]) + kind['price']:.2f}"
    frames["raw_shopify_order_lines"] = pd.concat([lines, pd.DataFrame(added)], ignore_index=True)
    created = frames["raw_shopify_products"]["created_at"].iloc[0]
    frames["raw_shopify_products"] = pd.concat([frames["raw_shopify_products"], pd.DataFrame([{
        "id": str(FEE_PRODUCT_ID), "title": FEE["title"], "product_type": "Fee", "vendor": "Shop",
        "status": "active", "created_at": created}])], ignore_index=True)
    frames["raw_shopify_variants"] = pd.concat([frames["raw_shopify_variants"], pd.DataFrame([{
        "id": str(FEE_PRODUCT_ID * 10), "product_id": str(FEE_PRODUCT_ID), "title": "Default Title",
        "sku": FEE["sku"], "price": f"{FEE['price']:.2f}", "compare_at_price": None}])], ignore_index=True)


def mess_up(frames: dict[str, pd.DataFrame]) -> None:
    """Give the Shopify frames (contract text, as the generator writes them) a real catalog's shapes."""
    orders, lines = frames["raw_shopify_orders"], frames["raw_shopify_order_lines"]
    placed = pd.to_datetime(orders.set_index("id")["created_at"], utc=True, errors="coerce")
    line_placed = lines["order_id"].map(placed)
    after = (line_placed >= _midpoint(orders)).fillna(False)
    _relaunch(frames, after)
    renamed = (lines["product_id"] == str(RENAMED.id)) & ~after
    lines.loc[renamed, "title"] = RENAMED_OLD_TITLE
    _extra_lines(frames)
