"""Loading a directory of contract CSVs: everything as text, and clear refusals naming file, column, line."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline.load import load_data_dir, read_header
from sales_insights.quality.raw_contract import TABLES, TABLES_BY_NAME


@pytest.fixture
def data_dir(tmp_path, clean_generated):
    target = tmp_path / "data"
    shutil.copytree(clean_generated, target)
    return target


def _load(data_dir):
    con = duckdb.connect()
    try:
        return load_data_dir(con, data_dir), con
    except Exception:
        con.close()
        raise


def _csv_rows(path) -> int:
    import csv

    with path.open(newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_loads_every_table_as_text_with_all_rows(data_dir):
    report, con = _load(data_dir)
    for t in TABLES:
        assert report.row_counts[t.name] == _csv_rows(data_dir / t.file_name), t.name
        types = {r[0]: r[1] for r in con.execute(f"describe raw.{t.name}").fetchall()}
        assert list(types) == t.column_names
        assert set(types.values()) == {"VARCHAR"}
    assert report.warnings == []


def test_rows_keep_file_order_so_line_numbers_hold(data_dir):
    _, con = _load(data_dir)
    first_rows = con.execute("select id from raw.raw_shopify_orders limit 3").fetchall()
    lines = (data_dir / "raw_shopify_orders.csv").read_text().splitlines()[1:4]
    assert [r[0] for r in first_rows] == [line.split(",")[0] for line in lines]


def test_columns_in_another_order_load_by_name_and_extra_columns_warn(data_dir):
    path = data_dir / "raw_shopify_products.csv"
    con = duckdb.connect()
    original = con.execute(f"select * from read_csv('{path}', all_varchar = true)").df()
    reordered = original[list(reversed(original.columns))].assign(internal_note="x")
    reordered.to_csv(path, index=False)
    report, con = _load(data_dir)
    assert any("raw_shopify_products.csv" in w and "internal_note" in w for w in report.warnings)
    loaded = con.execute("select * from raw.raw_shopify_products").df()
    assert list(loaded.columns) == TABLES_BY_NAME["raw_shopify_products"].column_names
    assert loaded["title"].tolist() == original["title"].tolist()


def test_missing_file_is_named(data_dir):
    (data_dir / "raw_shopify_refunds.csv").unlink()
    with pytest.raises(SalesInsightsError, match=r"missing file\(s\) raw_shopify_refunds.csv"):
        _load(data_dir)


def test_missing_column_names_file_and_column(data_dir):
    path = data_dir / "raw_shopify_orders.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("total_tax")
    path.write_text("\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != drop)
                              for line in lines[:5]) + "\n")
    with pytest.raises(SalesInsightsError) as info:
        _load(data_dir)
    assert "raw_shopify_orders.csv" in str(info.value)
    assert "missing required column(s) total_tax" in str(info.value)


def test_empty_file_and_header_only(data_dir):
    (data_dir / "raw_shopify_customers.csv").write_text("")
    with pytest.raises(SalesInsightsError, match=r"raw_shopify_customers.csv: the file is empty"):
        _load(data_dir)


def test_header_only_is_an_error_except_for_refunds(data_dir):
    refunds = data_dir / "raw_shopify_refunds.csv"
    refunds.write_text(refunds.read_text().splitlines()[0] + "\n")
    report, _ = _load(data_dir)
    assert report.row_counts["raw_shopify_refunds"] == 0
    products = data_dir / "raw_shopify_products.csv"
    products.write_text(products.read_text().splitlines()[0] + "\n")
    with pytest.raises(SalesInsightsError, match=r"raw_shopify_products.csv: has a header but no rows"):
        _load(data_dir)


def test_truncated_last_line_names_its_line_and_loads_nothing(data_dir):
    path = data_dir / "raw_shopify_order_lines.csv"
    text = path.read_text()
    n_lines = len(text.splitlines())
    path.write_text(text.rstrip("\n").rsplit(",", 3)[0] + "\n")
    con = duckdb.connect()
    with pytest.raises(SalesInsightsError) as info:
        load_data_dir(con, data_dir)
    message = str(info.value)
    assert "raw_shopify_order_lines.csv" in message
    assert f"line(s) {n_lines}" in message
    assert "MISSING COLUMNS" in message
    assert con.execute(
        "select count(*) from information_schema.tables where table_name = 'raw_shopify_order_lines'"
    ).fetchone()[0] == 0


def test_wrong_delimiter_is_named(data_dir):
    path = data_dir / "raw_shopify_variants.csv"
    path.write_text(path.read_text().replace(",", ";"))
    expected = r"raw_shopify_variants.csv: line 1 \(header\) is separated by semicolons"
    with pytest.raises(SalesInsightsError, match=expected):
        _load(data_dir)


def test_text_that_is_not_utf8_is_refused_with_its_line(data_dir):
    path = data_dir / "raw_shopify_products.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"Running", b"R\xfcnning")  # latin-1 u-umlaut
    path.write_bytes(b"".join(lines))
    with pytest.raises(SalesInsightsError) as info:
        _load(data_dir)
    assert "raw_shopify_products.csv" in str(info.value)
    assert "line(s) 3" in str(info.value)


# --------------------------------------------------------------------------------------------------
# a file that grew by appending: only its new lines are read


def _split_events(data_dir, keep: int) -> list[bytes]:
    """Keep the header and the first `keep` rows of the events file; return the rows taken off."""
    path = data_dir / "raw_ga4_events.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: keep + 1]))
    return lines[keep + 1:]


def _table(con, name):
    return con.execute(f"select * from raw.{name} order by rowid").fetchall()


def test_an_appended_file_loads_only_its_new_lines_and_ends_as_a_full_load_would(data_dir, tmp_path):
    events = data_dir / "raw_ga4_events.csv"
    rest = _split_events(data_dir, 500)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    first = load_data_dir(con, data_dir)
    assert first.appended_rows == {}
    with events.open("ab") as handle:
        handle.write(b"".join(rest))
    second = load_data_dir(con, data_dir)
    # every other file is unchanged: an append of nothing
    unchanged = {t.name: 0 for t in TABLES if t.name != "raw_ga4_events"}
    assert second.appended_rows == {"raw_ga4_events": len(rest), **unchanged}
    assert second.row_counts["raw_ga4_events"] == 500 + len(rest)
    fresh = duckdb.connect()
    load_data_dir(fresh, data_dir)
    for t in TABLES:
        assert _table(con, t.name) == _table(fresh, t.name), t.name
    state = con.execute("select size, lines, sha256 from meta.raw_files where table_name = 'raw_ga4_events'").fetchone()
    import hashlib

    content = events.read_bytes()
    assert state == (len(content), content.count(b"\n"), hashlib.sha256(content).hexdigest())


@pytest.mark.parametrize("change", ["rewritten_row", "shorter", "no_final_newline"])
def test_a_file_changed_other_than_by_appending_is_loaded_whole(data_dir, tmp_path, change):
    events = data_dir / "raw_ga4_events.csv"
    rest = _split_events(data_dir, 500)
    if change == "no_final_newline":
        events.write_bytes(events.read_bytes().rstrip(b"\n"))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_data_dir(con, data_dir)
    content = events.read_bytes()
    if change == "rewritten_row":
        # one byte of an early row changes and a day is appended: the early row must be reloaded
        lines = content.splitlines(keepends=True)
        early = next(i for i, line in enumerate(lines[:50]) if i > 0 and b",page_view," in line)
        lines[early] = lines[early].replace(b",page_view,", b",PAGE_VIEW,", 1)
        events.write_bytes(b"".join(lines) + b"".join(rest))
    elif change == "shorter":
        events.write_bytes(b"".join(content.splitlines(keepends=True)[:400]))
    else:
        # the last line loaded grows: appending onto a line with no line break
        events.write_bytes(content + b"x\n" + b"".join(rest))
    report = load_data_dir(con, data_dir)
    assert "raw_ga4_events" not in report.appended_rows
    fresh = duckdb.connect()
    load_data_dir(fresh, data_dir)
    assert _table(con, "raw_ga4_events") == _table(fresh, "raw_ga4_events")


def test_a_malformed_appended_line_is_named_by_its_line_in_the_file_and_nothing_is_appended(data_dir, tmp_path):
    events = data_dir / "raw_ga4_events.csv"
    rest = _split_events(data_dir, 500)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_data_dir(con, data_dir)
    rest[2] = b"only,three,fields\n"
    with events.open("ab") as handle:
        handle.write(b"".join(rest[:5]))
    # header + 500 rows, then the appended rows: the third is line 504
    with pytest.raises(SalesInsightsError, match=r"raw_ga4_events\.csv: 1 malformed row\(s\) at line\(s\) 504 "):
        load_data_dir(con, data_dir)
    assert con.execute("select count(*) from raw.raw_ga4_events").fetchone()[0] == 500


def test_a_file_that_changes_while_it_is_loaded_is_refused_and_its_state_not_kept(data_dir, tmp_path, monkeypatch):
    from sales_insights.pipeline import load

    seen = []
    real_stat = load._stat

    def stat(path):
        size, mtime = real_stat(path)
        if path.name == "raw_shopify_orders.csv":
            seen.append(path)
            # the second look (after the load) sees a file that grew meanwhile
            return size + (len(seen) > 1), mtime
        return size, mtime

    monkeypatch.setattr(load, "_stat", stat)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(SalesInsightsError, match=r"raw_shopify_orders\.csv: changed while it was being loaded"):
        load_data_dir(con, data_dir)
    # the events, loaded before, are recorded; the orders are not, so the next load reads them whole
    recorded = {r[0] for r in con.execute("select table_name from meta.raw_files").fetchall()}
    assert "raw_ga4_events" in recorded and "raw_shopify_orders" not in recorded


# ---- files that are not the contract's CSV ------------------------------------------------------------

PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def test_a_symlink_to_a_file_that_is_not_a_csv_is_refused_without_echoing_it(data_dir, tmp_path):
    """raw_shopify_orders.csv -> a passwd file: the error names the file and the contract's columns, and
    holds nothing of the file's first line."""
    secret = tmp_path / "passwd"
    secret.write_text(PASSWD)
    orders = data_dir / "raw_shopify_orders.csv"
    orders.unlink()
    orders.symlink_to(secret)
    with pytest.raises(SalesInsightsError) as info:
        _load(data_dir)
    message = str(info.value)
    assert f"{orders}: not the raw-data contract's raw_shopify_orders.csv" in message
    assert ", ".join(TABLES_BY_NAME["raw_shopify_orders"].column_names) in message and "it has none" in message
    for leaked in ("root", "/bin/bash", "x:0:0", "daemon"):
        assert leaked not in message.replace(str(data_dir), "")


def test_a_header_of_another_file_names_only_the_contract_columns_it_has(tmp_path):
    path = tmp_path / "raw_shopify_refunds.csv"
    path.write_text("id,api_secret=hunter2,order_id,-1+1\n1,x,2,3\n")
    with pytest.raises(SalesInsightsError) as info:
        read_header(path, TABLES_BY_NAME["raw_shopify_refunds"])
    message = str(info.value)
    assert "missing required column(s) created_at, amount" in message and "of which it has id, order_id" in message
    assert "hunter2" not in message and "-1+1" not in message


def test_a_first_line_too_long_for_a_header_is_refused_without_reading_the_file_whole(tmp_path):
    path = tmp_path / "raw_shopify_customers.csv"
    path.write_bytes(b"\x7fELF" + b"\x01secret" * 40_000)  # a binary without line breaks
    with pytest.raises(SalesInsightsError, match=r"line 1 is longer than 65,536 bytes, so it is not a header") as info:
        read_header(path, TABLES_BY_NAME["raw_shopify_customers"])
    assert "secret" not in str(info.value) and "ELF" not in str(info.value)


def test_a_contract_header_that_repeats_a_column_names_it(tmp_path):
    path = tmp_path / "raw_shopify_refunds.csv"
    path.write_text("id,order_id,created_at,amount,id\n")
    with pytest.raises(SalesInsightsError, match=r"header names column\(s\) id more than once"):
        read_header(path, TABLES_BY_NAME["raw_shopify_refunds"])


def test_a_schema_name_with_quotes_and_sql_is_an_identifier(data_dir):
    """The schema the loader writes is quoted as a name, never pasted into SQL."""
    schema = 'raw"; drop table x; --'
    with duckdb.connect() as con:
        con.execute("create table x as select 1 as a")
        report = load_data_dir(con, data_dir, schema=schema)
        assert con.execute("select count(*) from x").fetchone()[0] == 1
        loaded = con.execute("select count(*) from duckdb_tables() where schema_name = ?", [schema]).fetchone()[0]
    assert loaded == len(report.row_counts)


@pytest.mark.parametrize("ga4_format", ["csv", "export", "export-json"])
def test_a_store_generated_and_loaded_under_a_path_with_quotes_and_sql(tmp_path, ga4_format):
    """The generator's COPYs, the GA4 export writer and readers, and the CSV loader take the path as a path."""
    from sales_insights.devtools.generate import GeneratorConfig, generate

    data = tmp_path / "it's \"ours\"; x'); drop table raw.raw_shopify_orders; --" / "data"
    generated = generate(data, GeneratorConfig(seed=1, users=60, days=5, ga4_format=ga4_format))
    report, con = _load(data)
    con.close()
    assert report.row_counts == {**generated.row_counts, "ga4_funnel_report": 0}
