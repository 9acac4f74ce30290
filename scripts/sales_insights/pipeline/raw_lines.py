"""Where a raw row is in its CSV: the physical line it starts on, counting the line breaks inside quoted
fields and the blank lines.

The raw tables keep a file's records in order, and the models number a row by its record line: the n-th
record is line n + 1, the header being line 1 (source_line_number). That is the line of the file as long
as no quoted field holds a line break and no line is blank (DuckDB's CSV reader skips blank lines). The
loader counts a file's line breaks anyway, while it hashes it (load.FileState.lines); only when they are
more than the header and the records need (has_extra_lines) does it read that one file again, with
Python's csv module, to find the line each record starts on (record_line_ranges). The difference is kept
as sparse ranges in meta.raw_line_offsets:

    physical line = record line + extra_lines, for the record lines from_line .. to_line

which stg_rejected_rows joins. A file without such line breaks (the common case, and GA4's 10M-event
files) costs nothing more. Lines are counted by "\\n": a "\\r\\n" is one line break, a lone "\\r" none.

DuckDB's own reject tables number a malformed row by its record line too; the loader names it instead by
the byte where DuckDB says the row starts (physical_lines).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

OFFSETS_TABLE = "meta.raw_line_offsets"
_CHUNK = 1 << 23


@dataclass(frozen=True)
class LineRange:
    """The records of record lines from_line .. to_line start extra_lines further down the file."""

    from_line: int
    to_line: int
    extra_lines: int


def ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return False
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def has_extra_lines(line_breaks: int, records: int, ends_with_break: bool) -> bool:
    """True when a file of a one-line header and `records` records holds more line breaks than they need
    (one after each, but for a last line without one): a quoted field spans lines, or a line is blank."""
    return line_breaks != records + (1 if ends_with_break else 0)


def _record_start_lines(path: Path, columns: int) -> Iterator[int]:
    """The line each record after the header starts on, in file order, as DuckDB's reader sees the records:
    a blank line is no record (but for a one-column file, where it is an empty value)."""
    with path.open("rb") as handle:
        # split on "\n" only, so that csv's line_num counts what the loader counts
        reader = csv.reader(line.decode("utf-8", errors="replace") for line in handle)
        next(reader, None)
        ended = reader.line_num
        for row in reader:
            if row or columns == 1:
                yield ended + 1
            ended = reader.line_num


def record_line_ranges(path: Path, columns: int, first_record_line: int = 2, line_shift: int = 0
                       ) -> tuple[list[LineRange], int]:
    """The ranges of the file's records that do not start on their record line, and the number of records.
    The k-th record (from 0) has record line first_record_line + k; its physical line is the line it
    starts on in `path` plus line_shift (for the tail of a file copied behind its header). Raises
    csv.Error on text the csv module cannot read."""
    ranges: list[LineRange] = []
    records = 0
    for records, start in enumerate(_record_start_lines(path, columns), start=1):
        record_line = first_record_line + records - 1
        extra = start + line_shift - record_line
        if extra == 0:
            continue
        last = ranges[-1] if ranges else None
        if last is not None and last.extra_lines == extra and last.to_line == record_line - 1:
            ranges[-1] = LineRange(last.from_line, record_line, extra)
        else:
            ranges.append(LineRange(record_line, record_line, extra))
    return ranges, records


def physical_lines(path: Path, positions: Iterable[int]) -> dict[int, int]:
    """The line of each byte position (from 0) of `path`: the line of the first byte at or after it that
    is not a line break, since DuckDB starts a row at the line break before it (a "\\r\\n"'s "\\n") or at the
    blank lines it skipped."""
    found: dict[int, int] = {}
    line, at = 1, 0
    with path.open("rb") as handle:
        for position in sorted(set(positions)):
            handle.seek(at)
            remaining = position - at
            while remaining > 0:
                chunk = handle.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                line += chunk.count(b"\n")
                remaining -= len(chunk)
            at = max(at, position)
            handle.seek(at)
            while (byte := handle.read(1)) in (b"\r", b"\n"):
                line += byte == b"\n"
                at += 1
            found[position] = line
    return found


def ensure_offsets_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists meta")
    con.execute(
        f"create table if not exists {OFFSETS_TABLE} (table_name varchar, from_line bigint, to_line bigint, "
        f"extra_lines bigint)"
    )


def drop_ranges(con: duckdb.DuckDBPyConnection, table_name: str) -> None:
    ensure_offsets_table(con)
    con.execute(f"delete from {OFFSETS_TABLE} where table_name = ?", [table_name])


def has_ranges(con: duckdb.DuckDBPyConnection, table_name: str) -> bool:
    ensure_offsets_table(con)
    return con.execute(f"select count(*) > 0 from {OFFSETS_TABLE} where table_name = ?", [table_name]).fetchone()[0]


def add_ranges(con: duckdb.DuckDBPyConnection, table_name: str, ranges: list[LineRange]) -> None:
    """Record `ranges` after the table's recorded ones, joining the last one to the first new one when it
    goes on with the same extra_lines (an append to a file whose last records were shifted)."""
    if not ranges:
        return
    ensure_offsets_table(con)
    last = con.execute(
        f"select from_line, to_line, extra_lines from {OFFSETS_TABLE} where table_name = ? "
        f"order by from_line desc limit 1", [table_name],
    ).fetchone()
    first = ranges[0]
    if last is not None and last[1] == first.from_line - 1 and last[2] == first.extra_lines:
        con.execute(f"update {OFFSETS_TABLE} set to_line = ? where table_name = ? and from_line = ?",
                    [first.to_line, table_name, last[0]])
        ranges = ranges[1:]
    if ranges:
        con.execute(
            f"insert into {OFFSETS_TABLE} select ?, unnest(?), unnest(?), unnest(?)",
            [table_name, [r.from_line for r in ranges], [r.to_line for r in ranges], [r.extra_lines for r in ranges]],
        )
