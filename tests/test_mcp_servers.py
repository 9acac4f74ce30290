"""The connectors against public MCP servers as they are published, run as processes over stdio, with only
the upstream API faked: the Shopify connector against npm shopify-mcp and @junis/shopify-mcp (pinned in
tests/mcp_servers, installed by `make mcp-servers`) talking to a local stand-in for the Admin GraphQL
endpoint (tests/shopify_admin_fake.py), and the GA4 connector against Google's analytics-mcp (PyPI) with its
Data API client replaced (tests/ga4_analytics_mcp_server.py). Neither Shopify server can deliver all the raw
contract needs, and the connector says what each lacks instead of landing a smaller revenue."""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil
import sys
from datetime import date

import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.cli import main
from sales_insights.config import load_settings
from sales_insights.connectors.extract import run_extract
from sales_insights.connectors.mcp_client import RetryPolicy
from sales_insights.connectors.shopify_extract import McpIncomplete
from sales_insights.connectors.shopify_profiles import PROFILE_VARIABLE, load_profile
from sales_insights.devtools.shopify_layout_writer import read_graphql_objects
from sales_insights.errors import SalesInsightsError
from shopify_admin_fake import AdminApi
from test_mcp import GA4_EXPECTED, GA4_SESSIONS, GA4_STEPS, SINCE, UNTIL

MODULES = PROJECT_DIR / "tests" / "mcp_servers" / "node_modules"
SERVERS = {"shopify-mcp": "shopify-mcp/dist/index.js", "junis-shopify-mcp": "@junis/shopify-mcp/dist/index.js"}
TOKEN = "shpat_fake_0123456789"


@pytest.fixture(scope="module")
def admin_api(tmp_path_factory, clean_generated):
    if shutil.which("node") is None or not all((MODULES / s).is_file() for s in SERVERS.values()):
        pytest.skip("the public MCP servers are not installed (make mcp-servers needs Node.js and npm)")
    api = AdminApi(read_graphql_objects(clean_generated, 1500), tmp_path_factory.mktemp("admin-api")).start()
    yield api
    api.stop()


@pytest.fixture
def point_at(monkeypatch, tmp_path, admin_api):
    """The Shopify connector pointed at a public server (by its profile name) that talks to the fake API."""
    def point(profile: str):
        server = MODULES / SERVERS[profile]
        monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_COMMAND",
                           f"node {server} --accessToken={TOKEN} --domain=127.0.0.1:{admin_api.port}")
        monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_PROFILE", profile)
        monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(admin_api.cert))
        monkeypatch.setenv("ENABLE_MCP", "true")
        monkeypatch.setenv("SALES_INSIGHTS_EXTRACT_DIR", str(tmp_path / "extracts"))
        admin_api.requests.clear()
        return load_settings()
    return point


@pytest.mark.parametrize(("profile", "asked", "gaps", "lacking"), [
    ("shopify-mcp", r"query GetOrders\(\$first: Int!, \$query: String\)",
     r"has no paging and no date filter.*at most 10 line items",
     "test, totalDiscountsSet, refunds, lineItems[].originalUnitPriceSet, lineItems[].totalDiscountSet"),
    ("junis-shopify-mcp", r"orders\(\s*first: \$first\s*after: \$after",
     r"current totals \(after refunds, returns and edits\).*at most 50 line items and 5 refunds",
     "test, subtotalPriceSet, totalDiscountsSet, totalTaxSet, totalPriceSet, lineItems[].originalUnitPriceSet, "
     "lineItems[].totalDiscountSet"),
])
def test_a_public_server_that_cannot_deliver_everything_blocks_the_extract(point_at, admin_api, profile, asked,
                                                                           gaps, lacking):
    settings = point_at(profile)
    with pytest.raises(McpIncomplete) as error:
        run_extract(settings, date(2025, 6, 1), date(2025, 8, 30), connectors=("shopify",),
                    retry=RetryPolicy(attempts=1))
    message = str(error.value)
    assert re.search(gaps, message) and f"lack {lacking}" in message, message
    assert TOKEN not in message
    assert not (settings.extract_dir / "current").exists() and not (settings.extract_dir / "shopify").exists()
    # the real server asked the API, with its own query and the token it was given
    assert admin_api.requests and all(r["path"] == "/admin/api/2026-01/graphql.json" and r["token"] == TOKEN
                                      for r in admin_api.requests)
    assert re.search(asked, admin_api.requests[0]["query"])


def test_junis_pages_with_the_search_query_the_connector_sends(point_at, admin_api):
    settings = point_at("junis-shopify-mcp")
    with pytest.raises(McpIncomplete):
        run_extract(settings, date(2025, 7, 1), date(2025, 7, 31), connectors=("shopify",),
                    retry=RetryPolicy(attempts=1), page_sizes={"shopify": 5})
    variables = admin_api.requests[0]["variables"]
    assert variables["first"] == 5 and variables["query"] == \
        "created_at:>=2025-07-01T00:00:00Z created_at:<=2025-07-31T23:59:59Z"


def test_status_says_which_server_cannot_deliver_a_complete_extract(point_at, admin_api):
    point_at("shopify-mcp")
    result = CliRunner().invoke(main, ["status", "--check-mcp", "--json"])
    assert result.exit_code == 0, result.output
    shopify = next(c for c in json.loads(result.output)["mcp_servers"] if c["connector"] == "shopify")
    assert shopify["state"] == "incomplete"
    assert shopify["detail"].startswith("tools get-customers, get-orders, get-products; profile shopify-mcp "
                                        "(npm shopify-mcp 1.0.8): its get-orders has no paging")


def test_a_server_described_in_the_toml_is_a_profile_of_its_own(tmp_path):
    path = tmp_path / "sales_insights.toml"
    ours = {"server": "our Admin API server", "tools": {"orders": "list_orders", "customers": "list_customers",
                                                         "products": "list_products"},
            "arguments": {"page_size": "limit", "cursor": ""}, "gaps": ["it caps line items at 20"]}
    mcp = {"shopify": {"profile": "ours", "profiles": {"ours": ours}}}
    profile = load_profile(mcp, path, environ={})
    assert profile.tool_names == ("list_orders", "list_customers", "list_products")
    orders = profile.tool("orders")
    assert (orders.page_size, orders.cursor, orders.query, orders.records) == ("limit", None, "query", "orders")
    assert profile.gaps == ("it caps line items at 20",)
    # the environment picks another, a built-in one
    assert load_profile(mcp, path, environ={PROFILE_VARIABLE: "shopify-mcp"}).server == "npm shopify-mcp 1.0.8"
    assert load_profile({}, path, environ={}).name == "admin-graphql"
    with pytest.raises(SalesInsightsError, match=r"profile 'nope' .* is neither built in \(admin-graphql, "):
        load_profile({"shopify": {"profile": "nope"}}, path, environ={})
    with pytest.raises(SalesInsightsError, match=r"\[mcp.shopify.profiles.x\]: `tools` must name the server's tool"):
        load_profile({"shopify": {"profile": "x", "profiles": {"x": {"tools": {"orders": "a"}}}}}, path, environ={})
    with pytest.raises(SalesInsightsError, match=r"unknown key\(s\) \['tool'\]"):
        load_profile({"shopify": {"profile": "x", "profiles": {"x": {"tool": {}}}}}, path, environ={})


GA4_SERVER = PROJECT_DIR / "tests" / "ga4_analytics_mcp_server.py"


def test_the_ga4_connector_against_googles_analytics_mcp(monkeypatch, tmp_path):
    """Google's analytics-mcp, its own run_report tool and request types, only its Data API client faked."""
    data = tmp_path / "ga4"
    data.mkdir()
    (data / "ga4_sessions.json").write_text(json.dumps(GA4_SESSIONS))
    (data / "ga4_steps.json").write_text(json.dumps(GA4_STEPS))
    log = tmp_path / "requests.jsonl"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(GA4_SERVER))}"
    monkeypatch.setenv("SALES_INSIGHTS_MCP_GA4_COMMAND", command)
    monkeypatch.setenv("SALES_INSIGHTS_GA4_PROPERTY_ID", "123456789")
    monkeypatch.setenv("FAKE_GA4_DATA", str(data))
    monkeypatch.setenv("FAKE_GA4_REQUEST_LOG", str(log))
    monkeypatch.setenv("ENABLE_MCP", "true")
    monkeypatch.setenv("SALES_INSIGHTS_EXTRACT_DIR", str(tmp_path / "extracts"))
    result = run_extract(load_settings(), SINCE, UNTIL, connectors=("ga4",), page_sizes={"ga4": 2},
                         retry=RetryPolicy(attempts=1))
    with (result.current_dir / "ga4_funnel_report.csv").open(newline="") as handle:
        assert [list(r.values()) for r in csv.DictReader(handle)] == GA4_EXPECTED
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    # the server built real RunReportRequests from the connector's arguments, and paged by offset
    assert {r["property"] for r in requests} == {"properties/123456789"}
    assert [r["offset"] for r in requests] == ["0", "2", "4", "0", "2"] and {r["limit"] for r in requests} == {"2"}
    assert requests[-1]["dimension_filter"]["filter"]["in_list_filter"]["values"] == [
        "add_to_cart", "begin_checkout", "purchase"]
    assert [d["name"] for d in requests[0]["dimensions"]] == ["date", "sessionDefaultChannelGroup", "deviceCategory",
                                                             "landingPage"]
