"""The MCP connectors against a local MCP server (tests/mcp_fake_server.py) over a real MCP session: stdio and
streamable HTTP, paging, a transient failure, a malformed response, refused credentials, and extracts that
are dated, idempotent and equal to the CSVs the recorded responses were made from."""

from __future__ import annotations

import csv
import json
import shlex
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import PROJECT_DIR
from sales_insights.cli import main
from sales_insights.config import load_settings
from sales_insights.connectors.extract import run_extract
from sales_insights.connectors.ga4_report import GA4_REPORT_COLUMNS
from sales_insights.connectors.landing import SHOPIFY_DATED, SHOPIFY_SNAPSHOT
from sales_insights.connectors.mcp_client import (
    McpAuthError,
    McpSchemaError,
    McpToolError,
    McpUnreachable,
    RetryPolicy,
    ServerSpec,
    server_spec,
)
from sales_insights.devtools.shopify_layout_writer import read_graphql_objects

SERVER = PROJECT_DIR / "tests" / "mcp_fake_server.py"
FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01)
SINCE, UNTIL = date(2025, 6, 1), date(2025, 8, 29)  # the 90 days of the clean generated store
# its last orders, placed on the evening of 29 August in New York, are of 30 August in UTC: the days the
# Shopify connector lands orders in
UTC_UNTIL = date(2025, 8, 30)
CLEAN_VISITORS = 1500  # conftest.clean_generated

# GA4 runReport rows as the Data API gives them (date as YYYYMMDD); the steps report also has a page_view
# row, which the connector's filter on eventName leaves out.
GA4_SESSIONS = [
    {"date": "20250601", "sessionDefaultChannelGroup": "Organic Search", "deviceCategory": "mobile",
     "landingPage": "/", "sessions": 40},
    {"date": "20250601", "sessionDefaultChannelGroup": "Direct", "deviceCategory": "desktop",
     "landingPage": "/collections/summer-sale", "sessions": 25},
    {"date": "20250602", "sessionDefaultChannelGroup": "Organic Search", "deviceCategory": "mobile",
     "landingPage": "/", "sessions": 38},
    {"date": "20250715", "sessionDefaultChannelGroup": "Email", "deviceCategory": "tablet",
     "landingPage": "/products/trail-running-shoes", "sessions": 7},
    {"date": "20250829", "sessionDefaultChannelGroup": "Direct", "deviceCategory": "desktop", "landingPage": "/",
     "sessions": 12},
]
GA4_STEPS = [
    {"date": "20250601", "sessionDefaultChannelGroup": "Organic Search", "deviceCategory": "mobile",
     "landingPage": "/", "eventName": e, "sessions": n} for e, n in (("add_to_cart", 6), ("begin_checkout", 3),
                                                                       ("purchase", 2), ("page_view", 40))
] + [
    {"date": "20250829", "sessionDefaultChannelGroup": "Direct", "deviceCategory": "desktop", "landingPage": "/",
     "eventName": "add_to_cart", "sessions": 1},
]
GA4_EXPECTED = [
    ["20250601", "Direct", "desktop", "/collections/summer-sale", "25", "0", "0", "0"],
    ["20250601", "Organic Search", "mobile", "/", "40", "6", "3", "2"],
    ["20250602", "Organic Search", "mobile", "/", "38", "0", "0", "0"],
    ["20250715", "Email", "tablet", "/products/trail-running-shoes", "7", "0", "0", "0"],
    ["20250829", "Direct", "desktop", "/", "12", "1", "0", "0"],
]


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def record_shopify(data_dir: Path, out: Path, visitors: int) -> None:
    """Recorded answers of the default profile's tools (Admin GraphQL objects) made from the contract CSVs of a
    generated store."""
    out.mkdir(parents=True, exist_ok=True)
    for name, records in (*read_graphql_objects(data_dir, visitors).items(), ("ga4_sessions", GA4_SESSIONS),
                          ("ga4_steps", GA4_STEPS)):
        (out / f"{name}.json").write_text(json.dumps(records), encoding="utf-8")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, clean_generated):
    out = tmp_path_factory.mktemp("recorded")
    record_shopify(clean_generated, out, CLEAN_VISITORS)
    return out


@pytest.fixture
def mcp_env(monkeypatch, tmp_path, recorded):
    """Both connectors pointed at the local server over stdio, extracts into tmp_path/extracts."""
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(SERVER))}"
    monkeypatch.setenv("SALES_INSIGHTS_MCP_GA4_COMMAND", command)
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_COMMAND", command)
    monkeypatch.setenv("SALES_INSIGHTS_GA4_PROPERTY_ID", "123456789")
    monkeypatch.setenv("ENABLE_MCP", "true")
    monkeypatch.setenv("SALES_INSIGHTS_EXTRACT_DIR", str(tmp_path / "extracts"))
    monkeypatch.setenv("FAKE_MCP_DATA", str(recorded))
    monkeypatch.setenv("FAKE_MCP_CALL_LOG", str(tmp_path / "calls.jsonl"))
    for name in ("FAKE_MCP_TRANSIENT", "FAKE_MCP_CREDENTIALS", "FAKE_MCP_MALFORMED"):
        monkeypatch.delenv(name, raising=False)
    return load_settings()


def _calls(tmp_path: Path) -> list[dict]:
    path = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _comparable(table: str, rows: list[dict]) -> list[tuple]:
    """Rows as sets of values, instants as instants (Shopify's API writes them in UTC, the generator in the
    store's offset)."""
    def value(key: str, text: str):
        return datetime.fromisoformat(text) if key in ("created_at", "cancelled_at") and text[:1].isdigit() else text
    return sorted(tuple(value(k, v) for k, v in row.items()) for row in rows)


def test_extract_lands_dated_files_equal_to_the_csvs_the_responses_came_from(mcp_env, clean_generated, tmp_path):
    result = run_extract(mcp_env, SINCE, UTC_UNTIL, retry=FAST, page_sizes={"shopify": 60, "ga4": 2})
    shopify, ga4 = {r.connector: r for r in result.connectors}["shopify"], {
        r.connector: r for r in result.connectors}["ga4"]
    current = result.current_dir
    # Every Shopify table equals the generator's CSV (all its orders fall in the 90 days).
    for table in (*SHOPIFY_DATED, *SHOPIFY_SNAPSHOT):
        extracted, original = _rows(current / f"{table}.csv"), _rows(clean_generated / f"{table}.csv")
        assert list(extracted[0]) == list(original[0]), table
        assert _comparable(table, extracted) == _comparable(table, original), table
        assert shopify.rows[table] == len(original)
    # Paged: 60 orders a page, 2 report rows a page; every page asked for once.
    orders = len(_rows(clean_generated / "raw_shopify_orders.csv"))
    calls = _calls(tmp_path)
    assert [c["arguments"]["after"] for c in calls if c["tool"] == "get_orders"] == [None] + [
        f"offset:{60 * n}" for n in range(1, -(-orders // 60))]
    # (5 rows of sessions; 4 step rows, as the page_view row is filtered out)
    assert [c["arguments"]["offset"] for c in calls if c["tool"] == "run_report"] == [0, 2, 4] + [0, 2]
    assert shopify.retries == 0 and ga4.pages == 5
    # GA4: the report-level funnel table, one row per date x channel x device x landing page.
    report = _rows(current / "ga4_funnel_report.csv")
    assert list(report[0]) == list(GA4_REPORT_COLUMNS)
    assert [list(r.values()) for r in report] == GA4_EXPECTED
    # One folder per day (also days without data: re-extracting them clears them), with the raw records.
    days = sorted(p.name for p in (result.extract_dir / "shopify").iterdir() if p.name[0].isdigit())
    assert len(days) == 91 and days[0] == "2025-06-01" and days[-1] == "2025-08-30"
    day = next(d for d in days if _rows(result.extract_dir / "shopify" / d / "raw_shopify_orders.csv"))
    audit = [json.loads(line) for line in (result.extract_dir / "shopify" / day / "responses.jsonl").open()]
    day_orders = _rows(result.extract_dir / "shopify" / day / "raw_shopify_orders.csv")
    assert [a["record"]["id"] for a in audit] == [f"gid://shopify/Order/{o['id']}" for o in day_orders]
    assert all(a["tool"] == "get_orders" and a["record"]["createdAt"][:10] == day for a in audit)
    assert {c["arguments"]["query"] for c in calls if c["tool"] == "get_orders"} == {
        "created_at:>=2025-06-01T00:00:00Z created_at:<=2025-08-30T23:59:59Z"}


def test_re_extracting_days_replaces_them_and_never_duplicates(mcp_env, recorded, tmp_path, monkeypatch):
    run_extract(mcp_env, SINCE, UNTIL, retry=FAST, connectors=("shopify",))
    before = _rows(mcp_env.extract_dir / "current" / "raw_shopify_orders.csv")
    # The same days again: the same files.
    run_extract(mcp_env, date(2025, 8, 1), UNTIL, retry=FAST, connectors=("shopify",))
    assert _rows(mcp_env.extract_dir / "current" / "raw_shopify_orders.csv") == before
    # An order of 20 August is gone from the source (deleted in Shopify): re-extracting the day drops it.
    orders = json.loads((recorded / "orders.json").read_text())
    gone = next(o for o in orders if o["createdAt"].startswith("2025-08-20"))
    changed = tmp_path / "changed"
    changed.mkdir()
    for f in recorded.iterdir():
        (changed / f.name).write_text(f.read_text())
    (changed / "orders.json").write_text(json.dumps([o for o in orders if o["id"] != gone["id"]]))
    monkeypatch.setenv("FAKE_MCP_DATA", str(changed))
    run_extract(mcp_env, date(2025, 8, 20), date(2025, 8, 20), retry=FAST, connectors=("shopify",))
    after = _rows(mcp_env.extract_dir / "current" / "raw_shopify_orders.csv")
    gone_id = gone["id"].rsplit("/", 1)[1]
    assert [o["id"] for o in after] == [o["id"] for o in before if o["id"] != gone_id]
    lines = _rows(mcp_env.extract_dir / "current" / "raw_shopify_order_lines.csv")
    assert not [line for line in lines if line["order_id"] == gone_id]


def test_a_transient_failure_is_retried_with_backoff(mcp_env, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_MCP_TRANSIENT", "2")
    result = run_extract(mcp_env, SINCE, date(2025, 6, 2), retry=FAST, connectors=("ga4",))
    assert result.connectors[0].retries == 2
    calls = _calls(tmp_path)
    assert len(calls) == 2 + result.connectors[0].pages and calls[0] == calls[1] == calls[2]
    # More failures than attempts: a clear error, nothing written.
    monkeypatch.setenv("FAKE_MCP_TRANSIENT", "10")
    with pytest.raises(McpToolError, match=r"ga4 MCP server .* \(tool run_report\) kept failing: "
                                                      r"Error executing tool run_report: 503 UNAVAILABLE"):
        run_extract(mcp_env, SINCE, date(2025, 6, 2), retry=FAST, connectors=("ga4",))


def _snapshot_files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
            and not p.name.startswith(".extract.lock")}


def test_refused_credentials_fail_at_once_naming_the_server(mcp_env, tmp_path, monkeypatch):
    run_extract(mcp_env, SINCE, date(2025, 6, 10), retry=FAST, connectors=("shopify",))
    before = _snapshot_files(mcp_env.extract_dir)
    (tmp_path / "calls.jsonl").unlink()
    monkeypatch.setenv("FAKE_MCP_CREDENTIALS", "expired")
    with pytest.raises(McpAuthError, match=r"shopify MCP server at `python.*` \(stdio\) \(tool get_orders\) "
                                           r"refused the credentials: .*401 UNAUTHENTICATED"):
        run_extract(mcp_env, SINCE, UNTIL, retry=FAST, connectors=("shopify",))
    assert len(_calls(tmp_path)) == 1  # not retried
    assert _snapshot_files(mcp_env.extract_dir) == before and len(before) > 10


def test_error_numbers_inside_a_message_do_not_decide_its_kind(mcp_env):
    from sales_insights.connectors.mcp_client import _AUTH, _TRANSIENT, _message

    assert _AUTH.search(_message("Error executing tool get_orders: 401 UNAUTHENTICATED: bad credentials"))
    assert _AUTH.search("HTTP 403 Forbidden") and _TRANSIENT.search("status: 503")
    assert _TRANSIENT.search(_message("Error executing tool run_report: 429 Too many requests"))
    assert not _AUTH.search(_message("Error executing tool run_report: offset 403 is out of range"))
    assert not _TRANSIENT.search(_message("Error executing tool get_orders: order 500 not found"))


@pytest.mark.parametrize("kind, connector, message", [
    ("get_orders", "shopify", r"would be incomplete, so none is written: the records of its get_orders \(page 1\) "
                              r"lack createdAt, test, displayFinancialStatus, .*, refunds, lineItems"),
    ("customer_type", "shopify", r"get_orders response, page 1: record 0 \(order \d+\): `customer` is not an object"),
    ("bad_created_at", "shopify", r"get_orders response, page 1: record 0 \(order \d+\): `createdAt` is not an "
                                  r"ISO-8601 instant with a UTC offset: '20/08/2025 10:00'"),
    ("repeat_cursor", "shopify", r"get_customers response, page 2: the cursor 'abc' came back"),
    ("run_report", "ga4", r"run_report response, page 1: row 0 does not have 4 dimension"),
    ("ignore_offset", "ga4", r"run_report: \d+ row\(s\) came twice \(does the server ignore `offset`\?\)"),
])
def test_a_malformed_response_names_the_tool_page_and_field_and_writes_nothing(mcp_env, monkeypatch, kind,
                                                                             connector, message):
    run_extract(mcp_env, SINCE, date(2025, 6, 10), retry=FAST, connectors=(connector,), page_sizes={"ga4": 2})
    before = _snapshot_files(mcp_env.extract_dir)
    monkeypatch.setenv("FAKE_MCP_MALFORMED", kind)
    with pytest.raises(McpSchemaError, match=message):
        run_extract(mcp_env, SINCE, UNTIL, retry=FAST, connectors=(connector,), page_sizes={"ga4": 2})
    assert _snapshot_files(mcp_env.extract_dir) == before


def test_an_unreachable_server_is_a_clear_error(mcp_env, monkeypatch):
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_COMMAND", "/nonexistent/shopify-mcp --api-key shpat_s3cr3t")
    expected = r"cannot reach the shopify MCP server at `shopify-mcp` \(stdio\)"
    with pytest.raises(McpUnreachable, match=expected) as error:
        run_extract(mcp_env, SINCE, UNTIL, retry=FAST, connectors=("shopify",))
    assert "shpat_s3cr3t" not in str(error.value)
    monkeypatch.delenv("SALES_INSIGHTS_MCP_SHOPIFY_COMMAND")
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_URL", f"http://127.0.0.1:{_free_port()}/mcp")
    with pytest.raises(McpUnreachable, match=r"cannot reach the shopify MCP server at http://127.0.0.1:\d+/mcp"):
        run_extract(mcp_env, SINCE, UNTIL, retry=FAST, connectors=("shopify",))


def test_credentials_never_reach_a_message():
    spec = ServerSpec("shopify", url="https://apiuser:pa55word@mcp.example.com/mcp?shop=x&key=s3cr3tkey",
                      token="shpat_abc123", env={"SHOPIFY_ACCESS_TOKEN": "shpat_env456", "DB_PASSWD": "hunter22",
                                                 "HOME": "/root"})
    assert spec.describe() == "https://mcp.example.com/mcp"
    assert "pa55word" not in repr(spec) and "s3cr3tkey" not in repr(spec)
    text = spec.redact("failed with shpat_abc123 and shpat_env456 and pa55word and key=s3cr3tkey in /root, "
                       "hunter22, apiuser")
    assert text == "failed with *** and *** and *** and key=*** in /root, ***, ***"
    nested = ServerSpec("shopify", command=("mcp", "--token", "abcd1234", "API_KEY=abcd"))
    assert nested.redact("abcd1234 then abcd") == "*** then ***"
    assert server_spec("ga4", {}) is None
    with pytest.raises(Exception, match="both set"):
        server_spec("ga4", {"SALES_INSIGHTS_MCP_GA4_COMMAND": "x", "SALES_INSIGHTS_MCP_GA4_URL": "http://h/mcp"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _http_server(port: int, env: dict):
    proc = subprocess.Popen([sys.executable, str(SERVER), "--http", str(port)], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            proc.kill()
            pytest.fail("the local MCP server did not start: " + proc.stderr.read().decode()[-2000:])
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def http_server(recorded):
    env = {"FAKE_MCP_DATA": str(recorded), "FAKE_MCP_HTTP_TOKEN": "tok-good-123", "PATH": "/usr/bin:/bin"}
    with _http_server(_free_port(), env) as url:
        yield url


def test_streamable_http_with_a_bearer_token(mcp_env, http_server, clean_generated, monkeypatch):
    monkeypatch.delenv("SALES_INSIGHTS_MCP_SHOPIFY_COMMAND")
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_URL", http_server)
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_TOKEN", "tok-good-123")
    result = run_extract(mcp_env, SINCE, UTC_UNTIL, retry=FAST, connectors=("shopify",), page_sizes={"shopify": 100})
    assert result.connectors[0].rows["raw_shopify_orders"] == len(_rows(clean_generated / "raw_shopify_orders.csv"))
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_TOKEN", "tok-wrong-999")
    with pytest.raises(McpAuthError, match=r"shopify MCP server at http://127.0.0.1:\d+/mcp refused") as error:
        run_extract(mcp_env, SINCE, UNTIL, retry=FAST, connectors=("shopify",))
    assert "tok-wrong-999" not in str(error.value)


def test_http_503_of_the_transport_is_retried(mcp_env, recorded, monkeypatch):
    port = _free_port()
    env = {"FAKE_MCP_DATA": str(recorded), "FAKE_MCP_HTTP_TOKEN": "tok-good-123", "FAKE_MCP_HTTP_503": "2",
           "PATH": "/usr/bin:/bin"}
    with _http_server(port, env) as url:
        monkeypatch.delenv("SALES_INSIGHTS_MCP_GA4_COMMAND")
        monkeypatch.setenv("SALES_INSIGHTS_MCP_GA4_URL", url)
        monkeypatch.setenv("SALES_INSIGHTS_MCP_GA4_TOKEN", "tok-good-123")
        result = run_extract(mcp_env, SINCE, UNTIL, retry=FAST, connectors=("ga4",))
    assert result.connectors[0].retries == 2
    assert [list(r.values()) for r in _rows(result.current_dir / "ga4_funnel_report.csv")] == GA4_EXPECTED


def test_current_keeps_an_order_found_in_two_days_once(mcp_env):
    run_extract(mcp_env, SINCE, date(2025, 6, 30), retry=FAST, connectors=("shopify",))
    shopify = mcp_env.extract_dir / "shopify"
    day = next(d for d in sorted(shopify.glob("2025-06-*")) if _rows(d / "raw_shopify_orders.csv"))
    # the same order also in a later day's folder (as if the store's time zone had moved it)
    later = shopify / "2025-06-30"
    for table in SHOPIFY_DATED:
        rows = _rows(later / f"{table}.csv")
        key = "id" if table == "raw_shopify_orders" else "order_id"
        moved = [r for r in _rows(day / f"{table}.csv") if r[key] == _rows(day / "raw_shopify_orders.csv")[0]["id"]]
        with (later / f"{table}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list((rows or moved)[0]) if rows or moved else ["id"])
            writer.writeheader()
            writer.writerows(rows + moved)
    from sales_insights.connectors.landing import assemble_current

    current = assemble_current(mcp_env.extract_dir)
    ids = [o["id"] for o in _rows(current / "raw_shopify_orders.csv")]
    assert len(ids) == len(set(ids))
    lines = _rows(current / "raw_shopify_order_lines.csv")
    assert len(lines) == len({line["id"] for line in lines})


def test_a_crash_between_the_two_renames_is_recovered(mcp_env, tmp_path):
    run_extract(mcp_env, SINCE, date(2025, 6, 3), retry=FAST, connectors=("shopify",))
    shopify = mcp_env.extract_dir / "shopify"
    (shopify / "2025-06-02").rename(shopify / ".2025-06-02.old-4242")  # the old folder moved aside, then a crash
    (shopify / ".2025-06-03.new-abcd").mkdir()  # an unfinished new folder
    run_extract(mcp_env, date(2025, 6, 3), date(2025, 6, 3), retry=FAST, connectors=("shopify",))
    assert (shopify / "2025-06-02" / "raw_shopify_orders.csv").is_file()
    assert not [p.name for p in shopify.iterdir() if p.name.startswith(".")]


def test_status_checks_each_server_and_its_tools(mcp_env, monkeypatch, tmp_path):
    other = tmp_path / "other_server.py"
    monkeypatch.setenv("SALES_INSIGHTS_MCP_SHOPIFY_COMMAND", f"{shlex.quote(sys.executable)} {shlex.quote(str(other))}")
    other.write_text(
        "from mcp.server.mcpserver import MCPServer\n"
        "server = MCPServer('other')\n"
        "@server.tool()\n"
        "def get_orders(first: int = 1) -> dict:\n"
        "    return {}\n"
        "server.run()\n")
    result = CliRunner().invoke(main, ["status", "--check-mcp", "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["connector"]: c for c in json.loads(result.output)["mcp_servers"]}
    assert checks["ga4"]["state"] == "ready" and checks["ga4"]["detail"] == "tools run_report"
    assert checks["shopify"]["state"] == "missing tools"
    assert "has no tool get_customers, get_products (it has: get_orders)" in checks["shopify"]["detail"]
    monkeypatch.setenv("SALES_INSIGHTS_MCP_GA4_COMMAND", "/nonexistent/ga4-mcp")
    text = CliRunner().invoke(main, ["status", "--check-mcp"]).output
    assert "MCP ga4:      unreachable at `ga4-mcp` (stdio): cannot reach the ga4 MCP server" in text
    # without --check-mcp no server is started
    assert json.loads(CliRunner().invoke(main, ["status", "--json"]).output)["mcp_servers"] is None


def test_the_extract_command(mcp_env, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(main, ["extract", "--since", "2025-08-01", "--until", "2025-08-29"])
    assert result.exit_code == 0, result.output
    assert "shopify: 29 days" in result.output and "ga4: 29 days" in result.output
    assert f"contract CSVs of every day extracted: {mcp_env.extract_dir / 'current'}" in result.output
    monkeypatch.delenv("SALES_INSIGHTS_MCP_GA4_COMMAND")
    result = runner.invoke(main, ["extract", "--since", "2025-08-01"])
    assert result.exit_code == 1
    assert "the ga4 connector is not configured: set SALES_INSIGHTS_MCP_GA4_COMMAND or SALES_INSIGHTS_MCP_GA4_URL" \
        in result.output
    monkeypatch.setenv("ENABLE_MCP", "false")
    result = runner.invoke(main, ["extract", "--since", "2025-08-01"])
    assert result.exit_code == 1 and "ENABLE_MCP is not true: the MCP connectors are off" in result.output
