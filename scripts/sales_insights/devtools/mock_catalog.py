"""The fixed pieces of the mock store: its products, traffic channels and landing pages.

Kept apart from the generator so the planted opportunities are easy to find and to test:
- PAIR_ANCHOR / PAIR_ADDON: a product pair bought together far above chance (cross-sell);
- the "Everyday Backpack" and its "Pro" version: a cheaper and a dearer substitute (upsell);
- LEAKY_LANDING_PAGE: a busy landing page that converts badly;
- LEAKY_DEVICE: a device whose checkout step leaks.

`store_catalog(n)` gives a catalog of n products: the fixed ones and, past them, a long tail of generated
products whose popularity falls as a power of their rank, as a real store's sales do.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SHOP_HOST = "https://shop.example.com"
FREE_SHIPPING_THRESHOLD_CENTS = 7500
SHIPPING_FEE_CENTS = 695
US_TAX_RATE = 0.08


@dataclass(frozen=True)
class Product:
    id: int
    title: str
    product_type: str
    vendor: str
    price_cents: int
    popularity: float
    sizes: tuple[str, ...] = ("Default Title",)
    status: str = "active"
    sku_stem: str = ""

    @property
    def handle(self) -> str:
        return self.title.lower().replace(" ", "-")

    @property
    def sku_prefix(self) -> str:
        """The start of its variants' SKUs: its own stem, or the first letters of its handle."""
        return self.sku_stem or self.handle.replace("-", "")[:8].upper()


_BASE_ID = 8_100_000_000

PRODUCTS: tuple[Product, ...] = (
    Product(_BASE_ID + 1, "Trail Running Shoes", "Footwear", "Northpeak", 12900, 3.0, ("8", "9", "10", "11")),
    Product(_BASE_ID + 2, "Merino Running Socks", "Accessories", "Northpeak", 1900, 0.6, ("S", "M", "L")),
    Product(_BASE_ID + 3, "Everyday Backpack", "Bags", "Carryall", 5900, 4.0),
    Product(_BASE_ID + 4, "Everyday Backpack Pro", "Bags", "Carryall", 9900, 1.5),
    Product(_BASE_ID + 5, "Organic Cotton Tee", "Apparel", "Loomwell", 2800, 8.0, ("S", "M", "L", "XL")),
    Product(_BASE_ID + 6, "Heavyweight Hoodie", "Apparel", "Loomwell", 6400, 5.0, ("S", "M", "L", "XL")),
    Product(_BASE_ID + 7, "Canvas Cap", "Accessories", "Loomwell", 2400, 3.5),
    Product(_BASE_ID + 8, "Insulated Bottle", "Home", "Brewline", 3200, 4.5),
    Product(_BASE_ID + 9, "Ceramic Pour-Over Set", "Home", "Brewline", 4800, 2.0),
    Product(_BASE_ID + 10, "Single Origin Coffee", "Grocery", "Brewline", 1800, 6.0),
    Product(_BASE_ID + 11, "Rain Shell Jacket", "Apparel", "Northpeak", 14900, 2.0, ("S", "M", "L", "XL")),
    Product(_BASE_ID + 12, "Fleece Gloves", "Accessories", "Northpeak", 2900, 2.5, ("S/M", "L/XL")),
    Product(_BASE_ID + 13, "Wool Beanie", "Accessories", "Loomwell", 2600, 3.0),
    Product(_BASE_ID + 14, "Linen Throw", "Home", "Hearthly", 7900, 1.5),
    Product(_BASE_ID + 15, "Soy Candle", "Home", "Hearthly", 2200, 4.0),
    Product(_BASE_ID + 16, "Leather Wallet", "Accessories", "Carryall", 4500, 2.5),
    Product(_BASE_ID + 17, "Travel Duffel", "Bags", "Carryall", 11900, 1.2),
    Product(_BASE_ID + 18, "Gift Card", "Gift Cards", "Shop", 5000, 1.0),
    Product(_BASE_ID + 19, "Sample Sale Tee", "Apparel", "Loomwell", 1500, 0.0, ("M",), "archived"),
    Product(_BASE_ID + 20, "Winter Parka (preorder)", "Apparel", "Northpeak", 24900, 0.0, ("M", "L"), "draft"),
)

# The long tail: titles are an adjective, a material and a noun (all combinations distinct: 7,200 of
# them), the noun gives the product type; popularity is TAIL_TOP_POPULARITY * rank ** -TAIL_EXPONENT, so
# the tail's best seller sells like a mid-list fixed product and its last ones a few times a year.
_TAIL_ADJECTIVES = ("Classic", "Everyday", "Compact", "Vintage", "Modern", "Rugged", "Soft", "Slim", "Bold",
                    "Light", "Heritage", "Urban", "Coastal", "Alpine", "Studio", "Field", "Weekend", "Summit",
                    "Harbor", "Prairie")
_TAIL_MATERIALS = ("Cotton", "Linen", "Wool", "Canvas", "Leather", "Bamboo", "Ceramic", "Oak", "Steel", "Denim",
                   "Cork", "Glass", "Hemp", "Suede", "Copper", "Walnut", "Fleece", "Nylon")
_TAIL_NOUNS = (("Tee", "Apparel"), ("Shirt", "Apparel"), ("Scarf", "Accessories"), ("Belt", "Accessories"),
               ("Tote", "Bags"), ("Pouch", "Bags"), ("Mug", "Home"), ("Bowl", "Home"), ("Lamp", "Home"),
               ("Blanket", "Home"), ("Sneaker", "Footwear"), ("Slipper", "Footwear"), ("Notebook", "Stationery"),
               ("Pen", "Stationery"), ("Tea Blend", "Grocery"), ("Granola", "Grocery"), ("Planter", "Garden"),
               ("Trowel", "Garden"), ("Candle", "Home"), ("Wallet", "Accessories"))
_TAIL_BASE_ID = _BASE_ID + 100_000
TAIL_TOP_POPULARITY = 3.0
TAIL_EXPONENT = 0.8


@lru_cache(maxsize=8)
def store_catalog(products: int) -> tuple[Product, ...]:
    """The store's catalog of `products` products (at least the fixed ones): PRODUCTS, then the long tail.
    The tail is the same for every store of its size (its own random numbers, not the store's seed)."""
    extra = products - len(PRODUCTS)
    if extra <= 0:
        return PRODUCTS
    capacity = len(_TAIL_ADJECTIVES) * len(_TAIL_MATERIALS) * len(_TAIL_NOUNS)
    if extra > capacity:
        raise ValueError(f"products {products:,}: the generated catalog holds at most {len(PRODUCTS) + capacity:,}")
    rng = np.random.default_rng(20_261_204)
    # Every (adjective, material, noun) once, in a shuffled order, so neighbours in rank differ in kind.
    combos = rng.permutation(capacity)[:extra]
    prices = np.round(np.exp(rng.normal(np.log(3500), 0.7, extra)) / 100) * 100 - 100
    tail = []
    for rank, combo in enumerate(combos, start=1):
        adjective, rest = divmod(int(combo), len(_TAIL_MATERIALS) * len(_TAIL_NOUNS))
        material, noun = divmod(rest, len(_TAIL_NOUNS))
        name, product_type = _TAIL_NOUNS[noun]
        sizes = ("S", "M", "L") if product_type in ("Apparel", "Footwear") else ("Default Title",)
        tail.append(Product(
            _TAIL_BASE_ID + rank, f"{_TAIL_ADJECTIVES[adjective]} {_TAIL_MATERIALS[material]} {name}", product_type,
            _TAIL_ADJECTIVES[adjective] + " Goods", int(max(prices[rank - 1], 400)),
            TAIL_TOP_POPULARITY * rank ** -TAIL_EXPONENT, sizes, sku_stem=f"T{rank:05d}"))
    return PRODUCTS + tuple(tail)


PAIR_ANCHOR = PRODUCTS[0]
PAIR_ADDON = PRODUCTS[1]
PAIR_ATTACH_PROBABILITY = 0.55
UPSELL_CHEAP = PRODUCTS[2]
UPSELL_DEAR = PRODUCTS[3]

# The kinds of planted opportunity, named as the experiment types of the shortlist that should find them.
OPPORTUNITIES = ("landing_page", "funnel_step", "cross_sell", "upsell_substitute")


@dataclass(frozen=True)
class Channel:
    source: str | None
    medium: str | None
    campaign: str | None
    referrer: str | None
    weight: float
    conversion_multiplier: float


CHANNELS: tuple[Channel, ...] = (
    Channel("google", "organic", None, "https://www.google.com/", 0.26, 1.0),
    Channel("(direct)", "(none)", None, None, 0.18, 1.15),
    Channel("google", "cpc", "brand_search", "https://www.google.com/", 0.11, 1.3),
    Channel("facebook", "cpc", "prospecting_q3", "https://m.facebook.com/", 0.10, 0.6),
    Channel("instagram.com", "referral", None, "https://l.instagram.com/", 0.06, 0.7),
    Channel("newsletter", "email", "weekly_digest", None, 0.07, 1.7),
    Channel("outdoorblog.example.org", "referral", None, "https://outdoorblog.example.org/best-gear", 0.04, 0.9),
    Channel("partnerize", "affiliate", "spring_partners", None, 0.03, 1.0),
    Channel("bing", "organic", None, "https://www.bing.com/", 0.03, 1.0),
    Channel("youtube.com", "referral", None, "https://www.youtube.com/", 0.02, 0.5),
    Channel("criteo", "display", "retargeting", None, 0.04, 0.45),
    Channel(None, None, None, None, 0.06, 0.9),  # no source collected (consent, lost parameters)
)

# Channels a returning visitor comes back through (indices into CHANNELS).
RETURN_CHANNELS = (1, 0, 5, 2)
RETURN_CHANNEL_WEIGHTS = (0.45, 0.25, 0.2, 0.1)

LEAKY_LANDING_PAGE = "/collections/summer-sale"


@dataclass(frozen=True)
class LandingPage:
    path: str
    weight: float
    conversion_multiplier: float


LANDING_PAGES: tuple[LandingPage, ...] = (
    LandingPage("/", 0.30, 1.0),
    LandingPage("/collections/all", 0.10, 1.1),
    LandingPage("/collections/all/", 0.02, 1.1),  # the same page with a trailing slash
    LandingPage(LEAKY_LANDING_PAGE, 0.16, 0.3),
    LandingPage("/products/trail-running-shoes", 0.10, 1.4),
    LandingPage("/products/everyday-backpack", 0.08, 1.3),
    LandingPage("/products/organic-cotton-tee", 0.08, 1.3),
    LandingPage("/blogs/journal/packing-list", 0.10, 0.5),
    LandingPage("/pages/about", 0.06, 0.6),
)

# Device mix, and multipliers on the three funnel steps (add_to_cart, begin_checkout, purchase).
DEVICES = ("desktop", "mobile", "tablet")
DEVICE_WEIGHTS = (0.42, 0.50, 0.08)
DEVICE_STEP_MULTIPLIERS = (
    (1.10, 1.05, 1.00),
    (0.95, 0.95, 0.50),  # mobile: the checkout leaks
    (1.00, 1.00, 0.95),
)
LEAKY_DEVICE = "mobile"

COUNTRIES = ("United States", "Canada", "United Kingdom", "Germany", "Australia", "France", "Netherlands")
COUNTRY_WEIGHTS = (0.60, 0.10, 0.10, 0.07, 0.05, 0.04, 0.04)
