"""GA4's BigQuery export as files (a data directory's ga4_export/): loaded as it is, flattened in dbt, and
read with GA4's own semantics. A store built from its export files gives the marts of the same events
built from the flat CSV; a hand-made export pins each semantic; bad exports are refused by name."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import bad_row_share
from sales_insights.config import load_settings
from sales_insights.devtools.ga4_export_writer import write_export
from sales_insights.devtools.generate import GeneratorConfig, generate, read_generated_config
from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.build import build
from sales_insights.pipeline.data_source import DataSource
from sales_insights.pipeline.load import load_data_dir

pytestmark = pytest.mark.dbt

SHOPIFY = ("raw_shopify_orders", "raw_shopify_order_lines", "raw_shopify_refunds", "raw_shopify_customers",
           "raw_shopify_products", "raw_shopify_variants")


def _build(data_dir: Path, warehouse: Path):
    return build(load_settings(), DataSource("directory", data_dir, "test"), warehouse)


def _as_export(csv_store: Path, out: Path, fmt: str, shard_rows: int = 0) -> Path:
    """A copy of a generated store whose GA4 events are export files instead of raw_ga4_events.csv (with the
    generator's record of the rows it broke on purpose, which the contract gate allows)."""
    out.mkdir(parents=True)
    for name in SHOPIFY:
        shutil.copy(csv_store / f"{name}.csv", out)
    shutil.copy(csv_store / "generator.json", out)
    write_export(csv_store / "raw_ga4_events.csv", out / "ga4_export", fmt, shard_rows)
    return out


def _tables(con: duckdb.DuckDBPyConnection, database: str, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ? order by 1",
        [database, schema]).fetchall()]


# ---- the same events in both layouts -------------------------------------------------------------------

@pytest.fixture(scope="module")
def three_layouts(tmp_path_factory):
    """One generated store (bad rows and GA4's quirks included) built from raw_ga4_events.csv, from daily
    Parquet tables and from gzipped JSON shards."""
    root = tmp_path_factory.mktemp("layouts")
    csv_store = root / "csv"
    generate(csv_store, GeneratorConfig(seed=23, users=1500, days=60))
    stores = {
        "csv": csv_store,
        "parquet": _as_export(csv_store, root / "parquet", "parquet"),
        "json": _as_export(csv_store, root / "json", "json", shard_rows=40),
    }
    return {name: _build(path, root / f"{name}.duckdb") for name, path in stores.items()}, stores


def test_the_export_files_give_exactly_the_marts_of_the_flat_csv(three_layouts):
    builds, stores = three_layouts
    json_files = sorted(p.name for p in (stores["json"] / "ga4_export").iterdir())
    # the layout really is the export's: shards, and intraday tables (one replaced, one used)
    assert any(name.endswith("-000000000001.json.gz") for name in json_files)
    assert len({name.split("-")[0] for name in json_files if name.startswith("events_intraday_")}) == 2
    con = duckdb.connect()
    for name, result in builds.items():
        con.execute(f"attach '{result.warehouse}' as {name} (read_only)")
    marts = _tables(con, "csv", "marts")
    assert len(marts) >= 19
    for layout in ("parquet", "json"):
        assert _tables(con, layout, "marts") == marts
        for mart in marts:
            rows = con.execute(f"select count(*) from csv.marts.{mart}").fetchone()[0]
            for a, b in (("csv", layout), (layout, "csv")):
                extra = con.execute(
                    f"select count(*) from (select * from {a}.marts.{mart} except all select * from {b}.marts.{mart})"
                ).fetchone()[0]
                assert extra == 0, f"{mart}: {extra} of {rows} rows of the {a} build are not in the {b} build"
        # every raw event accounted for alike: the same rejects, by reason
        reasons = ("select reason, count(*) from {}.staging.stg_rejected_rows where source_table = 'raw_ga4_events' "
                   "group by reason order by reason")
        csv_reasons = dict(con.execute(reasons.format("csv")).fetchall())
        export_reasons = dict(con.execute(reasons.format(layout)).fetchall())
        # Parquet's INT64 cannot hold a timestamp that is not a number: it arrives missing instead.
        if layout == "parquet":
            moved = csv_reasons.pop("not an integer (microseconds since the epoch)")
            assert export_reasons.pop("missing required value") == moved
        assert export_reasons == csv_reasons


def test_on_export_data_no_not_set_purchase_is_a_transaction_and_sourceless_sessions_are_direct(three_layouts):
    builds, _ = three_layouts
    with duckdb.connect(str(builds["json"].warehouse), read_only=True) as con:
        not_set = con.execute(
            "select count(*) from raw.ga4_export_events where ecommerce.transaction_id = '(not set)'").fetchone()[0]
        assert not_set > 0
        assert con.execute("select count(*) from intermediate.int_ga4_transactions "
                           "where transaction_id in ('(not set)', '')").fetchone()[0] == 0
        assert con.execute("select sum(ga4_purchases_without_transaction) from marts.fct_ga4_shopify_reconciliation"
                           ).fetchone()[0] == not_set - con.execute(
            "select count(*) from staging.stg_rejected_rows where raw_record like '%(not set)%'").fetchone()[0]
        sourceless = con.execute("""
            select count(*) from marts.fct_sessions as s
            where not exists (select 1 from staging.stg_ga4__events as e
                              where e.session_key = s.session_key and e.source is not null)
        """).fetchone()[0]
        assert sourceless > 0
        assert con.execute("select count(*) from marts.fct_sessions where source = '(direct)' and medium = '(none)' "
                           "and channel_group = 'Direct'").fetchone()[0] >= sourceless
        assert con.execute("select count(*) from marts.fct_sessions where source is null").fetchone()[0] == 0


# ---- GA4's semantics, by hand -------------------------------------------------------------------------

T0 = 1_751_371_200_000_000  # 2025-07-01T12:00:00Z in microseconds


def _param(key, value):
    field = "int_value" if isinstance(value, int) else "string_value"
    # BigQuery's JSON export writes INT64 as a string
    return {"key": key, "value": {field: str(value) if field == "int_value" else value}}


def _hit(user, session, name, offset_s, *, params=(), **fields):
    record = {
        "event_date": "20250701", "event_timestamp": str(T0 + offset_s * 1_000_000), "event_name": name,
        "user_pseudo_id": user,
        "event_params": [_param("ga_session_id", session), *[_param(k, v) for k, v in params]],
        "device": {"category": "desktop"}, "geo": {"country": "Canada"},
        # the user's first touch: never a session's source
        "traffic_source": {"name": "(organic)", "medium": "organic", "source": "google"},
        "items": [],
    }
    record.update(fields)
    return record


def _write_json(path: Path, records: list[dict]) -> None:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


@pytest.fixture(scope="module")
def handmade_export(tmp_path_factory, clean_generated):
    """Six sessions written as GA4 exports them, beside the Shopify tables of a generated store. Their
    meaning is in the comments; the store never sends begin_checkout."""
    data = tmp_path_factory.mktemp("handmade_export") / "data"
    data.mkdir()
    for name in SHOPIFY:
        shutil.copy(clean_generated / f"{name}.csv", data)
    with duckdb.connect() as con:
        order_id = con.execute(
            f"select id from read_csv('{data / 'raw_shopify_orders.csv'}', all_varchar = true) "
            "where test = 'false' and cancelled_at is null and currency = 'USD' order by id limit 1").fetchone()[0]
    page = "https://shop.example.com"
    day = [
        # 1 (line 1): direct, no source on any event; no ga_session_number; the landing page is the page
        # view first in GA4's batch order (batch_event_index), not the one first in the file
        _hit("u1", 101, "session_start", 0, batch_page_id="1", batch_ordering_id="1", batch_event_index="1"),
        _hit("u1", 101, "page_view", 0, params=[("page_location", f"{page}/second")],
             batch_page_id="1", batch_ordering_id="1", batch_event_index="3"),
        _hit("u1", 101, "page_view", 0, params=[("page_location", f"{page}/first/")],
             batch_page_id="1", batch_ordering_id="1", batch_event_index="2"),
        # a two-item add_to_cart, the second item's price unreadable; then, at the same instant and with no
        # batch fields, another add_to_cart alike in every flat column but not in its items: not a copy
        _hit("u1", 101, "add_to_cart", 10, items=[
            {"item_id": "P1", "item_name": "Tee", "price": 20.5, "quantity": "2"},
            {"item_id": "P2", "item_name": "Cap", "price": "about ten", "quantity": "1"}]),
        _hit("u1", 101, "add_to_cart", 10, items=[
            {"item_id": "P1", "item_name": "Tee", "price": 20.5, "quantity": "4"},
            {"item_id": "P3", "item_name": "Sock", "price": 5, "quantity": "1"}]),
        # a purchase whose tag sent no transaction id
        _hit("u1", 101, "purchase", 20, params=[("currency", "USD")],
             ecommerce={"transaction_id": "(not set)", "purchase_revenue": 41.0}),
        # 2: source only in collected_traffic_source; a purchase of a real order
        _hit("u2", 202, "page_view", 0, params=[("page_location", f"{page}/"), ("ga_session_number", 1)],
             collected_traffic_source={"manual_source": "newsletter", "manual_medium": "email",
                                       "manual_campaign_name": "weekly"}),
        _hit("u2", 202, "purchase", 30, params=[("ga_session_number", 1)],
             ecommerce={"transaction_id": order_id, "purchase_revenue": 10.0}),
        # 3: source only in session_traffic_source_last_click
        _hit("u3", 303, "page_view", 0, params=[("page_location", f"{page}/"), ("ga_session_number", 2)],
             session_traffic_source_last_click={"manual_campaign": {"source": "google", "medium": "cpc",
                                                                    "campaign_name": "brand"}}),
        # 4: the event's own source wins over collected_traffic_source
        _hit("u4", 404, "page_view", 0, params=[("page_location", f"{page}/"), ("source", "bing"),
                                                 ("medium", "organic")],
             collected_traffic_source={"manual_source": "other", "manual_medium": "referral"}),
        # 5: a gclid alone is google / cpc
        _hit("u5", 505, "page_view", 0, params=[("page_location", f"{page}/")],
             collected_traffic_source={"gclid": "abc123"}),
        # lines 12 and 13: cannot be sessionized
        {k: v for k, v in _hit("u9", 909, "page_view", 5).items() if k != "user_pseudo_id"},
        _hit("u9", 909, "page_view", 6, event_params=[]),
    ]
    folder = data / "ga4_export"
    folder.mkdir()
    _write_json(folder / "events_20250701.json", day)
    # replaced by the daily table above: never loaded
    _write_json(folder / "events_intraday_20250701.json", [_hit("ghost", 1, "page_view", 1)])
    # 6: the next day only as an intraday table (the day is not complete): loaded
    _write_json(folder / "events_intraday_20250702-000000000000.json.gz", [
        _hit("u6", 606, "page_view", 86_400, event_date="20250702",
             params=[("page_location", f"{page}/"), ("source", "facebook"), ("medium", "cpc")]),
    ])
    with bad_row_share("0.5"):  # the six sessions hold rows broken on purpose
        result = _build(data, data.parent / "warehouse.duckdb")
    con = duckdb.connect(str(result.warehouse), read_only=True)
    yield result, con, order_id
    con.close()


def _sessions(con) -> dict[str, dict]:
    frame = con.sql("select * from marts.fct_sessions").df()
    return {row["user_pseudo_id"]: row for row in frame.to_dict("records")}


def test_sources_come_from_the_session_never_from_the_users_first_touch(handmade_export):
    _, con, _ = handmade_export
    sessions = _sessions(con)
    got = {user: (s["source"], s["medium"], s["channel_group"]) for user, s in sessions.items()}
    assert got == {
        "u1": ("(direct)", "(none)", "Direct"),
        "u2": ("newsletter", "email", "Email"),
        "u3": ("google", "cpc", "Paid Search"),
        "u4": ("bing", "organic", "Organic Search"),
        "u5": ("google", "cpc", "Paid Search"),
        "u6": ("facebook", "cpc", "Paid Social"),
    }
    assert sessions["u1"]["landing_page"] == "/first"


def test_a_not_set_transaction_is_a_purchase_step_but_never_a_transaction(handmade_export):
    _, con, order_id = handmade_export
    direct = con.execute("select has_purchase, reached_purchase, transactions, transaction_ids "
                         "from marts.fct_sessions where user_pseudo_id = 'u1'").fetchone()
    assert direct == (True, True, 0, None)
    assert con.execute("select transaction_id from intermediate.int_ga4_transactions").fetchall() == [(order_id,)]
    day = con.sql("select * from marts.fct_ga4_shopify_reconciliation where report_date = '2025-07-01'").df()
    assert int(day["ga4_purchases_without_transaction"].iloc[0]) == 1
    assert int(day["ga4_only_unknown_orders"].iloc[0]) == 0


def test_a_missing_session_number_makes_new_or_returning_unknown_and_the_build_publishes(handmade_export):
    result, con, _ = handmade_export
    assert result.contracts is not None and result.contracts.success
    new_user = dict(con.execute("select user_pseudo_id, is_new_user from marts.fct_sessions").fetchall())
    assert (new_user["u1"], new_user["u2"], new_user["u3"]) == (None, True, False)
    unknown = con.execute("select step_sessions from marts.fct_funnel_summary where breakdown = 'user_type' "
                          "and breakdown_value = 'unknown' and step = 'session'").fetchone()[0]
    assert unknown == 4  # u1, u4, u5, u6 sent no ga_session_number


def test_a_step_the_store_never_sends_is_skipped_not_zeroed(handmade_export):
    _, con, _ = handmade_export
    assert con.execute("select distinct closed_funnel_steps from marts.fct_sessions").fetchall() == [
        ("session>add_to_cart>purchase",)]
    steps = {r[0]: r[1:] for r in con.execute(
        "select step, is_step_tracked, step_sessions, previous_step_sessions, conversion_rate "
        "from marts.fct_funnel_summary where breakdown = 'all'").fetchall()}
    assert steps["begin_checkout"] == (False, None, 1, None)
    # u1 added to cart and bought; u2 bought without adding to cart (open, not closed)
    assert steps["purchase"] == (True, 1, 1, 1.0)
    assert steps["add_to_cart"][:3] == (True, 1, 6)
    daily = con.execute("select untracked_steps, sum(purchase_sessions), sum(begin_checkout_sessions) "
                        "from marts.fct_funnel_daily group by untracked_steps").fetchall()
    assert daily == [("begin_checkout", 1, None)]
    tested = con.execute("select count(*) from marts.fct_experiment_shortlist where experiment_type = 'funnel_step' "
                         "and target like '%begin_checkout%'").fetchone()[0]
    assert tested == 0


def test_every_item_of_an_event_is_kept(handmade_export):
    _, con, _ = handmade_export
    items = con.execute("select item_index, item_id, item_name, price, quantity, raw_price, item_problem "
                        "from staging.stg_ga4__event_items order by item_id, quantity").fetchall()
    assert [i[:5] for i in items] == [(1, "P1", "Tee", 20.5, 2), (1, "P1", "Tee", 20.5, 4), (2, "P2", "Cap", None, 1),
                                      (2, "P3", "Sock", 5, 1)]
    assert items[2][5:] == ("about ten", "price is not a decimal number")
    # two add_to_cart events alike in their flat columns: both kept, neither taken for a copy of the other
    assert con.execute("select count(*), count(distinct event_key) from staging.stg_ga4__events "
                       "where event_name = 'add_to_cart'").fetchone() == (2, 2)


def test_events_that_cannot_be_sessionized_are_rejected_with_their_file_and_line(handmade_export):
    _, con, _ = handmade_export
    rejected = con.execute("select source_location, column_name, reason from staging.stg_rejected_rows "
                           "where source_table = 'raw_ga4_events' order by source_location").fetchall()
    assert rejected == [
        ("ga4_export/events_20250701.json line 12", "user_pseudo_id", "missing required value"),
        ("ga4_export/events_20250701.json line 13", "ga_session_id", "missing required value"),
    ]
    # the replaced intraday table was not loaded; the intraday-only day was
    files = dict(con.execute("select file_name, rows from raw.ga4_export_files").fetchall())
    assert files == {"ga4_export/events_20250701.json": 13, "ga4_export/events_intraday_20250701.json": None,
                     "ga4_export/events_intraday_20250702-000000000000.json.gz": 1}
    assert con.execute("select count(*) from marts.fct_sessions where user_pseudo_id = 'ghost'").fetchone()[0] == 0


def test_new_data_bringing_a_step_the_store_never_sent_counts_every_session_again(tmp_path):
    """A store without begin_checkout events starts sending them: the appended day's events are built
    incrementally, and every session, old ones too, is counted by the new closed funnel, exactly as a full
    build of the same file counts them."""
    generate(tmp_path / "generated", GeneratorConfig(seed=31, users=600, days=20, bad_rows=False))
    data = tmp_path / "data"
    data.mkdir()
    for name in SHOPIFY:
        shutil.copy(tmp_path / "generated" / f"{name}.csv", data)
    events = tmp_path / "generated" / "raw_ga4_events.csv"
    with duckdb.connect() as con:
        last = con.execute(f"select max(event_date) from read_csv('{events}', all_varchar = true)").fetchone()[0]
        reader = f"read_csv('{events}', all_varchar = true)"
        con.execute(f"copy (select * from {reader} where event_date < '{last}' and event_name <> 'begin_checkout') "
                    f"to '{data / 'raw_ga4_events.csv'}' (header)")
        con.execute(f"copy (select * from {reader} where event_date = '{last}') to '{tmp_path / 'day.csv'}' "
                    "(header false)")
    warehouse = tmp_path / "incremental.duckdb"
    _build(data, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select distinct closed_funnel_steps from marts.fct_sessions").fetchall() == [
            ("session>add_to_cart>purchase",)]
    with (data / "raw_ga4_events.csv").open("ab") as handle:
        handle.write((tmp_path / "day.csv").read_bytes())
    assert _build(data, warehouse).incremental
    full = _build(data, tmp_path / "full.duckdb")
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as incremental (read_only)")
        con.execute(f"attach '{full.warehouse}' as full_build (read_only)")
        assert con.execute("select distinct closed_funnel_steps from incremental.marts.fct_sessions").fetchall() == [
            ("session>add_to_cart>begin_checkout>purchase",)]
        for mart in ("fct_sessions", "fct_funnel_daily", "fct_funnel_summary"):
            for a, b in (("incremental", "full_build"), ("full_build", "incremental")):
                assert con.execute(f"select count(*) from (select * from {a}.marts.{mart} "
                                   f"except all select * from {b}.marts.{mart})").fetchone()[0] == 0, mart


# ---- bad exports --------------------------------------------------------------------------------------

@pytest.fixture
def shopify_only(tmp_path, clean_generated) -> Path:
    for name in SHOPIFY:
        shutil.copy(clean_generated / f"{name}.csv", tmp_path)
    (tmp_path / "ga4_export").mkdir()
    return tmp_path


def _load_error(data_dir: Path) -> str:
    with duckdb.connect() as con, pytest.raises(SalesInsightsError) as caught:
        load_data_dir(con, data_dir)
    return str(caught.value)


def test_a_directory_with_the_export_and_the_flat_csv_is_refused(shopify_only, clean_generated):
    shutil.copy(clean_generated / "raw_ga4_events.csv", shopify_only)
    message = _load_error(shopify_only)
    assert "raw_ga4_events.csv and ga4_export/" in message and "keep one" in message


def test_a_file_that_is_not_a_day_table_is_refused_by_name(shopify_only):
    _write_json(shopify_only / "ga4_export" / "events_20250701.json", [_hit("u", 1, "page_view", 0)])
    (shopify_only / "ga4_export" / "notes.txt").write_text("hello")
    assert "notes.txt is not a GA4 export day table" in _load_error(shopify_only)


def test_an_empty_export_folder_is_refused(shopify_only):
    assert "no GA4 export day table" in _load_error(shopify_only)


def test_a_days_table_given_twice_is_refused(shopify_only):
    folder = shopify_only / "ga4_export"
    events = [_hit("u", 1, "page_view", 0)]
    _write_json(folder / "events_20250701.json.gz", events)
    _write_json(folder / "events_20250701-000000000000.json.gz", events)
    message = _load_error(shopify_only)
    assert "the table events_20250701 comes more than once" in message and "load its events twice" in message
    (folder / "events_20250701.json.gz").unlink()
    _write_json(folder / "events_20250701-000000000001.json", events)
    assert "events_20250701 comes more than once" in _load_error(shopify_only)


def test_a_json_table_with_a_blank_line_is_refused_naming_the_line(shopify_only):
    path = shopify_only / "ga4_export" / "events_20250701.json"
    _write_json(path, [_hit("u", 1, "page_view", 0), _hit("u", 1, "page_view", 1)])
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "\n" + lines[1] + "\n\n")
    assert f"{path}: line 2 is blank" in _load_error(shopify_only)
    # blank lines after the last event shift no line
    path.write_text(lines[0] + lines[1] + "\n\n")
    with duckdb.connect() as con:
        assert load_data_dir(con, shopify_only).row_counts["raw_ga4_events"] == 2


def test_a_load_from_the_flat_csv_leaves_no_export_of_an_earlier_load(shopify_only, clean_generated):
    _write_json(shopify_only / "ga4_export" / "events_20250701.json", [_hit("u", 1, "page_view", 0)])
    with duckdb.connect() as con:
        assert load_data_dir(con, shopify_only).ga4_layout == "export"
        shutil.rmtree(shopify_only / "ga4_export")
        shutil.copy(clean_generated / "raw_ga4_events.csv", shopify_only)
        assert load_data_dir(con, shopify_only).ga4_layout == "csv"
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                           "and table_name like 'ga4_export%'").fetchone()[0] == 0


def test_a_parquet_table_without_the_exports_columns_is_refused(shopify_only):
    path = shopify_only / "ga4_export" / "events_20250701.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select 1 as id, 'x' as event_name) to '{path}' (format parquet)")
    message = _load_error(shopify_only)
    assert str(path) in message and "missing column(s) event_date, event_timestamp, user_pseudo_id" in message


def test_a_json_table_that_is_not_ga4_events_is_refused_naming_file_and_line(shopify_only):
    path = shopify_only / "ga4_export" / "events_20250701.json"
    path.write_text("this is not json\n")
    message = _load_error(shopify_only)
    assert str(path) in message and "line 1 is not JSON" in message
    _write_json(path, [{"order_id": 1, "total": 3}])
    assert "line 1 is not a GA4 export event: missing field(s) event_date" in _load_error(shopify_only)


def test_a_file_that_is_not_an_export_is_refused_without_echoing_its_content(shopify_only, tmp_path):
    """Of a foreign Parquet or JSON file only the export's own column names are named, and of a file that
    is not gzip data none of its bytes (gzip's own message quotes the first two)."""
    folder = shopify_only / "ga4_export"
    parquet = folder / "events_20250701.parquet"
    with duckdb.connect() as con:
        con.execute("copy (select 'x' as event_name, 's3cr3t' as password_hash) to ? (format parquet)", [str(parquet)])
    message = _load_error(shopify_only)
    assert "missing column(s) event_date" in message and "of the export's columns it has event_name" in message
    assert "password_hash" not in message
    parquet.unlink()
    path = folder / "events_20250701.json"
    _write_json(path, [{"api_key": "hunter2", "card": "4111"}])
    message = _load_error(shopify_only)
    assert "missing field(s) event_date" in message and "of the export's columns it has none" in message
    assert "api_key" not in message and "card" not in message
    path.unlink()
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (folder / "events_20250701.json.gz").symlink_to(secret)
    message = _load_error(shopify_only)
    message = message.replace(str(shopify_only), "")
    assert "it is not gzip data" in message and "b'ro'" not in message and "root" not in message


def test_a_value_of_the_wrong_shape_is_refused_naming_the_file(shopify_only):
    path = shopify_only / "ga4_export" / "events_20250701.json"
    _write_json(path, [_hit("u", 1, "page_view", 0), {**_hit("u", 1, "page_view", 1), "event_params": "oops"}])
    message = _load_error(shopify_only)
    assert str(path) in message and "not readable as a GA4 export table" in message


def test_a_failed_export_load_publishes_nothing(shopify_only, tmp_path_factory):
    (shopify_only / "ga4_export" / "events_20250701.json").write_text("{broken\n")
    warehouse = tmp_path_factory.mktemp("unpublished") / "w.duckdb"
    with pytest.raises(SalesInsightsError, match="events_20250701.json: line 1 is not JSON"):
        _build(shopify_only, warehouse)
    assert not warehouse.exists()


def test_the_generator_writes_the_export_layout(tmp_path):
    generate(tmp_path / "p", GeneratorConfig(seed=3, users=300, days=5, ga4_format="export"))
    files = sorted(p.name for p in (tmp_path / "p" / "ga4_export").iterdir())
    assert files == ["events_20250601.parquet", "events_20250602.parquet", "events_20250603.parquet",
                     "events_20250604.parquet", "events_intraday_20250604.parquet", "events_intraday_20250605.parquet"]
    assert not (tmp_path / "p" / "raw_ga4_events.csv").exists()
    assert read_generated_config(tmp_path / "p")["ga4_format"] == "export"
    first_day = tmp_path / "p" / "ga4_export" / "events_20250601.parquet"
    with duckdb.connect() as con:
        kinds = {r[0]: r[1] for r in con.execute(f"describe select * from read_parquet('{first_day}')").fetchall()}
    assert kinds["event_timestamp"] == "BIGINT" and kinds["event_params"].startswith("STRUCT(")


def test_the_report_says_which_step_the_store_does_not_send(handmade_export, tmp_path):
    from sales_insights.outputs.report import write_report

    result, _, _ = handmade_export
    write_report(result.warehouse, tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    note = html[html.index("id='funnel-untracked'"):]
    assert note[:note.index("</p>")].count("begin_checkout") == 1
    assert "<td>begin_checkout</td>" not in html
