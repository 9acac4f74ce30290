"""Shopify Admin GraphQL objects (2026-07 shapes, as in Shopify's GraphQL Admin reference) map to the raw-data
contract's rows: numeric ids from gids, shop-currency amounts as written, enums in the contract's words, the
email hashed; a missing or misshapen field is an error naming where."""

from __future__ import annotations

import hashlib

import pytest

from sales_insights.connectors.shopify_graphql import (
    GraphQLShapeError,
    attach_children,
    check_shop,
    customer_row,
    order_rows,
    product_rows,
)
from sales_insights.quality.raw_contract import TABLES_BY_NAME


def bag(shop: str, presentment: str | None = None, shop_currency: str = "EUR", buyer_currency: str = "USD") -> dict:
    return {"shopMoney": {"amount": shop, "currencyCode": shop_currency},
            "presentmentMoney": {"amount": presentment or shop, "currencyCode": buyer_currency}}


# An order placed in USD on a EUR shop: every amount is counted in euros (shopMoney).
ORDER = {
    "id": "gid://shopify/Order/5501", "name": "#1042", "createdAt": "2026-03-01T09:15:00Z",
    "cancelledAt": None, "test": False, "currencyCode": "EUR", "presentmentCurrencyCode": "USD",
    "displayFinancialStatus": "PARTIALLY_REFUNDED", "sourceName": "web", "email": " Ada@Example.com ",
    "customer": {"id": "gid://shopify/Customer/77"},
    "subtotalPriceSet": bag("90.00", "97.20"), "totalDiscountsSet": bag("10.00", "10.80"),
    "totalTaxSet": bag("17.10", "18.47"), "totalShippingPriceSet": bag("4.90", "5.29"),
    "totalPriceSet": bag("112.00", "120.96"),
    "customerJourneySummary": {"lastVisit": {
        "landingPage": "https://shop.example.com/collections/sale?utm_source=news&utm_medium=email",
        "referrerUrl": "https://news.example.org/spring"}},
    "lineItems": {"nodes": [
        {"id": "gid://shopify/LineItem/9001", "title": "Linen shirt", "quantity": 2, "sku": "LS-M",
         "product": {"id": "gid://shopify/Product/300"}, "variant": {"id": "gid://shopify/ProductVariant/3001"},
         "originalUnitPriceSet": bag("50.00", "54.00"), "totalDiscountSet": bag("10.00", "10.80")},
        {"id": "gid://shopify/LineItem/9002", "title": "Gift wrap", "quantity": 1, "sku": None,
         "product": None, "variant": None,
         "originalUnitPriceSet": bag("0.00"), "totalDiscountSet": bag("0.00")},
    ]},
    "refunds": [{"id": "gid://shopify/Refund/800", "createdAt": "2026-03-04T12:00:00Z",
                 "totalRefundedSet": bag("45.00", "48.60")}],
}


def test_an_order_maps_to_its_order_lines_and_refunds_in_the_shop_currency():
    order, lines, refunds = order_rows(ORDER, "orders.jsonl line 1", "EUR")
    assert order == {
        "id": "5501", "name": "#1042", "created_at": "2026-03-01T09:15:00Z", "customer_id": "77",
        "email_hash": hashlib.sha256(b"ada@example.com").hexdigest(), "currency": "EUR",
        "subtotal_price": "90.00", "total_discounts": "10.00", "total_tax": "17.10", "total_shipping": "4.90",
        "total_price": "112.00", "financial_status": "partially_refunded", "cancelled_at": "",
        "source_name": "web", "landing_site": "/collections/sale?utm_source=news&utm_medium=email",
        "referring_site": "https://news.example.org/spring", "test": "false",
    }
    assert lines == [
        {"id": "9001", "order_id": "5501", "product_id": "300", "variant_id": "3001", "sku": "LS-M",
         "title": "Linen shirt", "quantity": "2", "price": "50.00", "total_discount": "10.00"},
        {"id": "9002", "order_id": "5501", "product_id": "", "variant_id": "", "sku": "", "title": "Gift wrap",
         "quantity": "1", "price": "0.00", "total_discount": "0.00"},
    ]
    assert refunds == [{"id": "800", "order_id": "5501", "created_at": "2026-03-04T12:00:00Z", "amount": "45.00"}]
    # exactly the contract's columns, nothing else
    for table, rows in (("raw_shopify_orders", [order]), ("raw_shopify_order_lines", lines),
                        ("raw_shopify_refunds", refunds)):
        assert all(list(r) == TABLES_BY_NAME[table].column_names for r in rows), table


def test_amounts_are_kept_as_written_and_an_unlisted_status_is_left_for_staging_to_reject():
    """An amount with three decimals is not rounded (staging rejects it for the currency); EXPIRED is not a
    contract status and is passed on, lower-cased, to be rejected with its reason rather than guessed."""
    order = {**ORDER, "totalTaxSet": bag("17.105"), "displayFinancialStatus": "EXPIRED", "lineItems": None,
             "refunds": []}
    row, lines, refunds = order_rows(order, "here", "EUR")
    assert (row["total_tax"], row["financial_status"], lines, refunds) == ("17.105", "expired", [], [])


def test_edges_and_the_deprecated_attribution_fields_are_read_too():
    """A store on an older API version, or a server asking for edges, gives the same rows."""
    older = {k: v for k, v in ORDER.items() if k != "customerJourneySummary"}
    older |= {"landingPageUrl": "https://shop.example.com/collections/sale?utm_source=news&utm_medium=email",
              "referrerUrl": "https://news.example.org/spring",
              "lineItems": {"edges": [{"cursor": "a", "node": n} for n in ORDER["lineItems"]["nodes"]]}}
    assert order_rows(older, "here", "EUR") == order_rows(ORDER, "here", "EUR")


@pytest.mark.parametrize(("change", "message"), [
    ({"id": "5501"}, "orders.jsonl line 3: `id` is not a Order global id"),
    ({"id": "gid://shopify/Customer/5501"}, "`id` is not a Order global id"),
    ({"totalPriceSet": None}, "(order 5501): `totalPriceSet` is missing"),
    ({"totalPriceSet": {"presentmentMoney": {"amount": "1.00", "currencyCode": "USD"}}},
     "`totalPriceSet.shopMoney` is missing"),
    ({"totalPriceSet": bag("1,120.00")}, "`totalPriceSet.shopMoney.amount` is not a decimal amount: '1,120.00'"),
    ({"totalPriceSet": bag("112.00", shop_currency="USD")}, "`totalPriceSet.shopMoney.currencyCode` is 'USD', but "
                                                            "the shop currency is EUR"),
    ({"createdAt": "2026-03-01 09:15:00"}, "`createdAt` is not an ISO-8601 instant with a UTC offset"),
    ({"test": "false"}, "`test` is not true or false"),
    ({"lineItems": [{"id": "gid://shopify/LineItem/1", "title": "x", "quantity": 1}]},
     "line item 1: `originalUnitPriceSet` is missing"),
    ({"refunds": {"nodes": []}}, "`refunds` is not a list"),
])
def test_a_field_the_mapping_needs_is_an_error_naming_where_and_what(change, message):
    with pytest.raises(GraphQLShapeError) as caught:
        order_rows({**ORDER, **change}, "orders.jsonl line 3", "EUR")
    assert message in str(caught.value)


def test_customers_map_consent_to_accepts_marketing_and_hash_the_email():
    current = {"id": "gid://shopify/Customer/77", "createdAt": "2025-11-02T08:00:00Z",
               "defaultEmailAddress": {"emailAddress": "ada@example.com", "marketingState": "SUBSCRIBED"},
               "defaultAddress": {"country": "Germany", "countryCodeV2": "DE"}}
    older = {"id": "gid://shopify/Customer/78", "createdAt": "2024-02-01T08:00:00-05:00",
             "email": "bob@example.com", "emailMarketingConsent": {"marketingState": "UNSUBSCRIBED"}}
    no_email = {"id": "gid://shopify/Customer/79", "createdAt": "2024-02-01T08:00:00Z"}
    assert [customer_row(c, "customers.jsonl") for c in (current, older, no_email)] == [
        {"id": "77", "created_at": "2025-11-02T08:00:00Z", "email_hash": hashlib.sha256(b"ada@example.com").hexdigest(),
         "accepts_marketing": "true", "country": "Germany"},
        {"id": "78", "created_at": "2024-02-01T08:00:00-05:00",
         "email_hash": hashlib.sha256(b"bob@example.com").hexdigest(), "accepts_marketing": "false", "country": ""},
        {"id": "79", "created_at": "2024-02-01T08:00:00Z", "email_hash": "", "accepts_marketing": "false",
         "country": ""},
    ]


def test_products_map_with_their_variants_and_money_scalar_prices():
    product = {"id": "gid://shopify/Product/300", "title": "Linen shirt", "productType": "Shirts",
               "vendor": "Atelier", "status": "UNLISTED", "createdAt": "2025-01-10T00:00:00Z",
               "variants": {"nodes": [{"id": "gid://shopify/ProductVariant/3001", "title": "M", "sku": "LS-M",
                                       "price": "50.00", "compareAtPrice": None}]}}
    row, variants = product_rows(product, "products.jsonl line 1")
    assert row == {"id": "300", "title": "Linen shirt", "product_type": "Shirts", "vendor": "Atelier",
                   "status": "unlisted", "created_at": "2025-01-10T00:00:00Z"}
    assert variants == [{"id": "3001", "product_id": "300", "title": "M", "sku": "LS-M", "price": "50.00",
                         "compare_at_price": ""}]


def test_bulk_lines_attach_to_their_parents_in_any_order_and_an_orphan_names_its_line():
    lines = [
        ("products.jsonl line 1", {"id": "gid://shopify/ProductVariant/2", "title": "L",
                                   "__parentId": "gid://shopify/Product/1"}),
        ("products.jsonl line 2", {"id": "gid://shopify/Product/1", "title": "Tee"}),
        ("products.jsonl line 3", {"id": "gid://shopify/ProductVariant/3", "title": "S",
                                   "__parentId": "gid://shopify/Product/1"}),
    ]
    assert attach_children(lines) == [{"id": "gid://shopify/Product/1", "title": "Tee", "variants": [
        {"id": "gid://shopify/ProductVariant/2", "title": "L"},
        {"id": "gid://shopify/ProductVariant/3", "title": "S"}]}]
    orphan = ("products.jsonl line 4", {"id": "gid://shopify/ProductVariant/4", "__parentId": "gid://shopify/Product/9"})
    with pytest.raises(GraphQLShapeError, match=r"products.jsonl line 4: `__parentId` 'gid://shopify/Product/9' names "
                                                r"no object of this file"):
        attach_children([lines[1], orphan])


def test_the_shop_of_the_data_must_be_the_configured_one():
    check_shop({"currencyCode": "EUR", "ianaTimezone": "Europe/Berlin"}, "shop.json", "EUR", "Europe/Berlin")
    with pytest.raises(GraphQLShapeError, match="the shop's currency is 'EUR' but \\[shop\\] currency is USD"):
        check_shop({"currencyCode": "EUR", "ianaTimezone": "UTC"}, "shop.json", "USD", "UTC")
    with pytest.raises(GraphQLShapeError, match="the shop's time zone is 'Europe/Berlin' but"):
        check_shop({"currencyCode": "EUR", "ianaTimezone": "Europe/Berlin"}, "shop.json", "EUR", "UTC")
