"""A raw row is named by the line of its file it starts on, line breaks inside quoted fields counted: the
loader keeps where a file's rows start further down than their record number says (meta.raw_line_offsets),
only for the files where they do, and names a malformed row by its line."""

from __future__ import annotations

import re

import duckdb
import pytest

from sales_insights.errors import SalesInsightsError
from sales_insights.pipeline import load
from sales_insights.pipeline.load import load_table
from sales_insights.quality.raw_contract import TABLES_BY_NAME

PRODUCTS = TABLES_BY_NAME["raw_shopify_products"]
HEADER = b"id,title,product_type,vendor,status,created_at\n"


def _row(product_id: int, title: bytes = b"Tee", end: bytes = b"\n") -> bytes:
    return b"%d,%s,Apparel,Loomwell,active,2025-06-01T09:00:00-04:00%s" % (product_id, title, end)


# Rows 1 .. 7, physically on lines 2, 3, 5, 6, 9, 10 and 13: a line break in row 2's title, a "\r\n" in
# row 4's, a blank line after it, and a blank line inside row 6's title.
SHIFTED = (HEADER + _row(1) + _row(2, b'"Tee\nPack of 3"') + _row(3) + _row(4, b'"Tee\r\nUnisex"') + b"\n"
           + _row(5) + _row(6, b'"Tee\n\nwith a note"') + _row(7))


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema raw")
    yield con
    con.close()


def _ranges(con) -> list[tuple[int, int, int]]:
    return con.execute(
        "select from_line, to_line, extra_lines from meta.raw_line_offsets "
        "where table_name = 'raw_shopify_products' order by from_line"
    ).fetchall()


def _lines_by_id(con) -> dict[str, int]:
    """Each loaded row's id and its line, as stg_rejected_rows works it out: record line + extra_lines."""
    rows = con.execute(
        "select raw.id, raw.rowid + 2 + coalesce(offsets.extra_lines, 0) from raw.raw_shopify_products as raw "
        "left join meta.raw_line_offsets as offsets on offsets.table_name = 'raw_shopify_products' "
        "and raw.rowid + 2 between offsets.from_line and offsets.to_line"
    ).fetchall()
    return dict(rows)


def _lines_in_file(content: bytes) -> dict[str, int]:
    """Each row's id and the line it starts on, read off the file the way a person would (grep -n)."""
    return {m.group(1).decode(): number for number, line in enumerate(content.split(b"\n"), start=1)
            if (m := re.match(rb"(\d+),", line)) and number > 1}


def test_rows_after_line_breaks_in_quotes_are_located_by_the_line_they_start_on(con, tmp_path):
    path = tmp_path / "raw_shopify_products.csv"
    path.write_bytes(SHIFTED)
    rows, warnings, _ = load_table(con, path, PRODUCTS)
    assert (rows, warnings) == (7, [])
    # record lines 4-5 (rows 3, 4) are 1 line further down, 6-7 (rows 5, 6) 3 lines, 8 (row 7) 5 lines
    assert _ranges(con) == [(4, 5, 1), (6, 7, 3), (8, 8, 5)]
    assert _lines_by_id(con) == _lines_in_file(SHIFTED) == {
        "1": 2, "2": 3, "3": 5, "4": 6, "5": 9, "6": 10, "7": 13}


def test_a_crlf_file_with_line_breaks_in_quotes_and_no_final_line_break(con, tmp_path):
    content = (SHIFTED.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")).rstrip(b"\r\n")
    path = tmp_path / "raw_shopify_products.csv"
    path.write_bytes(content)
    load_table(con, path, PRODUCTS)
    assert _ranges(con) == [(4, 5, 1), (6, 7, 3), (8, 8, 5)]
    assert _lines_by_id(con) == _lines_in_file(content)


def test_a_file_whose_rows_are_one_a_line_is_not_read_again_and_a_reload_drops_its_ranges(con, tmp_path,
                                                                                          monkeypatch):
    path = tmp_path / "raw_shopify_products.csv"
    path.write_bytes(SHIFTED)
    load_table(con, path, PRODUCTS)
    assert _ranges(con)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a file whose line breaks are its records' was read again")

    monkeypatch.setattr(load, "record_line_ranges", must_not_run)
    plain = HEADER + b"".join(_row(n) for n in range(1, 8))
    # with a final line break, and without one (header + 7 rows in 7 line breaks)
    for content in (plain, plain.rstrip(b"\n")):
        path.write_bytes(content)
        assert load_table(con, path, PRODUCTS)[:2] == (7, [])
        assert _ranges(con) == []


@pytest.mark.parametrize("tail", [
    pytest.param(_row(8) + _row(9), id="one-line rows"),
    pytest.param(_row(8) + _row(9, b'"Tee\r\nPack"') + b"\n" + _row(10), id="line breaks in quotes"),
])
def test_an_appended_file_extends_its_ranges_as_a_full_load_would_find_them(con, tmp_path, tail):
    path = tmp_path / "raw_shopify_products.csv"
    path.write_bytes(SHIFTED)
    load_table(con, path, PRODUCTS)
    path.write_bytes(SHIFTED + tail)
    appended = load_table(con, path, PRODUCTS)[2]
    assert appended == tail.count(b",Apparel,")
    fresh = duckdb.connect()
    fresh.execute("create schema raw")
    load_table(fresh, path, PRODUCTS)
    assert _ranges(con) == _ranges(fresh)
    assert _lines_by_id(con) == _lines_in_file(SHIFTED + tail)


def test_an_append_to_a_file_loaded_without_its_ranges_works_them_out_for_the_whole_file(con, tmp_path):
    path = tmp_path / "raw_shopify_products.csv"
    path.write_bytes(SHIFTED)
    load_table(con, path, PRODUCTS)
    con.execute("delete from meta.raw_line_offsets")  # as a loader before meta.raw_line_offsets left it
    path.write_bytes(SHIFTED + _row(8))
    assert load_table(con, path, PRODUCTS)[2] == 1
    assert _ranges(con) == [(4, 5, 1), (6, 7, 3), (8, 9, 5)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("appended", [False, True], ids=["full", "appended"])
def test_a_malformed_row_after_line_breaks_in_quotes_is_named_by_its_line(con, tmp_path, newline, appended):
    path = tmp_path / "raw_shopify_products.csv"
    good = SHIFTED.replace(b"\r\n", b"\n").replace(b"\n", newline)
    bad = _row(8, b"Tee,extra").replace(b"\n", newline)
    if appended:
        path.write_bytes(good)
        load_table(con, path, PRODUCTS)
    path.write_bytes(good + bad + _row(9).replace(b"\n", newline))
    # DuckDB's reject table says line 9 (the record line); the row is on line 14
    with pytest.raises(SalesInsightsError, match=r"1 malformed row\(s\) at line\(s\) 14 \(TOO MANY COLUMNS\); "
                                                 r"first, line 14"):
        load_table(con, path, PRODUCTS)


def test_malformed_rows_after_blank_lines_are_named_by_their_lines(con, tmp_path):
    path = tmp_path / "raw_shopify_products.csv"
    path.write_bytes(HEADER + _row(1) + b"\n\n" + _row(2, b"Tee,extra") + _row(3, b'"Tee\nPack"')
                     + _row(4, b'"unterminated'))
    with pytest.raises(SalesInsightsError, match=r"2 malformed row\(s\) at line\(s\) 5, 8 "):
        load_table(con, path, PRODUCTS)


def test_rows_the_csv_module_cannot_read_leave_no_ranges_and_a_warning(con, tmp_path):
    # a quoted field longer than the csv module's field limit (128 KiB), which DuckDB reads
    long_title = b'"' + b"x" * 200_000 + b'\nPack"'
    path = tmp_path / "raw_shopify_products.csv"
    path.write_bytes(HEADER + _row(1, long_title) + _row(2))
    rows, warnings, _ = load_table(con, path, PRODUCTS)
    assert rows == 2
    assert _ranges(con) == []
    [warning] = warnings
    assert "raw_shopify_products.csv: the lines its rows start on are unknown" in warning
    assert "stg_rejected_rows names a row by its record number" in warning
