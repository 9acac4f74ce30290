"""The raw-data contract (shared/RAW_CONTRACT.md) as data.

Every part of the project that needs to know the raw tables reads them from here: the mock generator
(column order), the loader (header checks), the dbt seed configuration (a test keeps it in step) and the
Great Expectations source suites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Column:
    name: str
    # string | integer | decimal | timestamp | boolean | yyyymmdd
    type: str
    nullable: bool
    accepted_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    name: str
    source: str  # the dbt source (ga4 or shopify)
    columns: tuple[Column, ...]
    key: str | None = None
    may_be_empty: bool = False
    references: dict[str, str] = field(default_factory=dict)  # column -> "table.column"

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        # Every contract column must be present in the header, nullable or not.
        return self.column_names


def _c(name: str, type_: str, nullable: bool = False, accepted: tuple[str, ...] = ()) -> Column:
    return Column(name, type_, nullable, accepted)


# The binding contract, in the repository (a copy of the one the team agreed on).
CONTRACT_DOC = Path(__file__).resolve().parents[3] / "docs" / "RAW_CONTRACT.md"

# What a good value of each contract type is, in words (the contract suites and the seeds' docs say it).
TYPE_WORDS = {
    "string": "text",
    "integer": "an integer written as plain digits",
    "decimal": "a plain decimal amount with at most 2 decimals",
    "timestamp": "an ISO-8601 timestamp with a time and a UTC offset",
    "boolean": "true or false",
    "yyyymmdd": "a date written YYYYMMDD",
}

FUNNEL_EVENTS = ("session_start", "page_view", "view_item", "add_to_cart", "begin_checkout", "purchase")
DEVICE_CATEGORIES = ("desktop", "mobile", "tablet")
FINANCIAL_STATUSES = (
    "pending",
    "authorized",
    "paid",
    "partially_paid",
    "partially_refunded",
    "refunded",
    "voided",
)
PRODUCT_STATUSES = ("active", "draft", "archived")

TABLES: tuple[Table, ...] = (
    Table(
        "raw_ga4_events",
        "ga4",
        (
            _c("event_date", "yyyymmdd"),
            _c("event_timestamp", "integer"),
            _c("event_name", "string"),
            _c("user_pseudo_id", "string"),
            _c("user_id", "string", True),
            _c("ga_session_id", "integer"),
            _c("ga_session_number", "integer", True),
            _c("page_location", "string", True),
            _c("page_referrer", "string", True),
            _c("source", "string", True),
            _c("medium", "string", True),
            _c("campaign", "string", True),
            _c("device_category", "string", False, DEVICE_CATEGORIES),
            _c("geo_country", "string", True),
            _c("item_id", "string", True),
            _c("transaction_id", "string", True),
            _c("purchase_revenue", "decimal", True),
            _c("currency", "string", True),
        ),
    ),
    Table(
        "raw_shopify_orders",
        "shopify",
        (
            _c("id", "integer"),
            _c("name", "string"),
            _c("created_at", "timestamp"),
            _c("customer_id", "integer", True),
            _c("email_hash", "string", True),
            _c("currency", "string"),
            _c("subtotal_price", "decimal"),
            _c("total_discounts", "decimal"),
            _c("total_tax", "decimal"),
            _c("total_shipping", "decimal"),
            _c("total_price", "decimal"),
            _c("financial_status", "string", False, FINANCIAL_STATUSES),
            _c("cancelled_at", "timestamp", True),
            _c("source_name", "string", True),
            _c("landing_site", "string", True),
            _c("referring_site", "string", True),
            _c("test", "boolean"),
        ),
        key="id",
    ),
    Table(
        "raw_shopify_order_lines",
        "shopify",
        (
            _c("id", "integer"),
            _c("order_id", "integer"),
            _c("product_id", "integer", True),
            _c("variant_id", "integer", True),
            _c("sku", "string", True),
            _c("title", "string"),
            _c("quantity", "integer"),
            _c("price", "decimal"),
            _c("total_discount", "decimal"),
        ),
        key="id",
        references={"order_id": "raw_shopify_orders.id"},
    ),
    Table(
        "raw_shopify_refunds",
        "shopify",
        (
            _c("id", "integer"),
            _c("order_id", "integer"),
            _c("created_at", "timestamp"),
            _c("amount", "decimal"),
        ),
        key="id",
        may_be_empty=True,
        references={"order_id": "raw_shopify_orders.id"},
    ),
    Table(
        "raw_shopify_customers",
        "shopify",
        (
            _c("id", "integer"),
            _c("created_at", "timestamp"),
            _c("email_hash", "string", True),
            _c("accepts_marketing", "boolean"),
            _c("country", "string", True),
        ),
        key="id",
    ),
    Table(
        "raw_shopify_products",
        "shopify",
        (
            _c("id", "integer"),
            _c("title", "string"),
            _c("product_type", "string", True),
            _c("vendor", "string", True),
            _c("status", "string", False, PRODUCT_STATUSES),
            _c("created_at", "timestamp"),
        ),
        key="id",
    ),
    Table(
        "raw_shopify_variants",
        "shopify",
        (
            _c("id", "integer"),
            _c("product_id", "integer"),
            _c("title", "string"),
            _c("sku", "string", True),
            _c("price", "decimal"),
            _c("compare_at_price", "decimal", True),
        ),
        key="id",
        references={"product_id": "raw_shopify_products.id"},
    ),
)

# GA4 at report grain: what the GA4 Data API (and so the GA4 MCP connector) can give instead of events. A
# data directory holds either raw_ga4_events.csv or ga4_funnel_report.csv; the build loads the other empty.
# Not in the shared contract: the project's addition, documented in docs/RAW_CONTRACT.md.
# The file a generator run writes beside its CSVs, last: its settings, row counts and, under PLANTED_LOSSES,
# the rows per raw table it broke on purpose that staging will lose.
GENERATOR_FILE = "generator.json"
PLANTED_LOSSES = "planted_losses"


GA4_FUNNEL_REPORT = Table(
    "ga4_funnel_report",
    "ga4",
    (
        _c("report_date", "yyyymmdd"),
        _c("channel_group", "string"),
        _c("device_category", "string", False, DEVICE_CATEGORIES),
        _c("landing_page", "string"),
        _c("sessions", "integer"),
        _c("add_to_cart_sessions", "integer"),
        _c("begin_checkout_sessions", "integer"),
        _c("purchase_sessions", "integer"),
    ),
)
# The GA4 table of each grain.
GA4_GRAIN_TABLES = {"events": "raw_ga4_events", "report": GA4_FUNNEL_REPORT.name}

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in (*TABLES, GA4_FUNNEL_REPORT)}


def table(name: str) -> Table:
    return TABLES_BY_NAME[name]


def seed_properties_yaml(contract_doc: Path = CONTRACT_DOC) -> str:
    """seeds/mock/_mock__seeds.yml: the mock seeds load every column as text, like the raw loader; each
    column is described by the meaning docs/RAW_CONTRACT.md gives it and its contract type."""
    meanings = contract_meanings(contract_doc)
    lines = [
        "# Generated from scripts/sales_insights/quality/raw_contract.py (tests keep the two in step).",
        "# Every column loads as text: typing and row checks happen in the staging models, as for raw data.",
        "version: 2",
        "",
        "seeds:",
    ]
    for t in (*TABLES, GA4_FUNNEL_REPORT):
        what = ("GA4 at report grain, empty in the mock store (its GA4 data are events, raw_ga4_events); as text"
                if t is GA4_FUNNEL_REPORT else f"Mock {t.name} from `sales-insights generate` (raw-data contract, as "
                "text)")
        lines += [
            f"  - name: {t.name}",
            f"    description: {what}.",
            "    config:",
            "      column_types:",
        ]
        lines += [f"        {c}: string" for c in t.column_names]
        lines.append("    columns:")
        for c in t.columns:
            described = column_description(t, c, meanings.get((t.name, c.name), ""))
            lines += [f"      - name: {c.name}", f'        description: "{described}"']
    return "\n".join(lines) + "\n"




def contract_meanings(path: Path) -> dict[tuple[str, str], str]:
    """(table, column) -> the `meaning` cell of the column tables of docs/RAW_CONTRACT.md."""
    meanings, table = {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            table = line[3:].strip()
        elif table and line.startswith("| ") and not line.startswith(("| column", "|---")):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 4:
                meanings[(table, cells[0])] = cells[3].replace("`", "'").replace('"', "'")
    return meanings


def column_description(table: Table, column: Column, meaning: str = "") -> str:
    """What the raw-data contract says of a column, in words: its meaning, then type and rules."""
    parts = [f"type {TYPE_WORDS[column.type]}", "may be empty" if column.nullable else "required"]
    if column.name == table.key:
        parts.append("the table's key")
    if column.accepted_values:
        parts.append("one of " + ", ".join(column.accepted_values))
    if column.name in table.references:
        parts.append(f"points at {table.references[column.name]}")
    rules = "Contract: " + "; ".join(parts) + ". Loaded as text."
    return f"{meaning[0].upper()}{meaning[1:]}. {rules}" if meaning else rules
