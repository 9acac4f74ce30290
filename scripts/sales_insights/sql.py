"""Writing values and names into DuckDB SQL text.

A value (a path, a file name, a setting) goes to DuckDB as a `?` parameter where the statement takes one
(`copy ... to ?`, `attach ?`, `read_csv(?)`); where it cannot (a SET, a list of files spliced into a
view's definition), it goes in as a string literal from `sql_string`. A name (schema, table, column) goes
in through `sql_identifier`. Neither is ever pasted between quotes by hand: a path such as
/tmp/it's exports, or a mart named x"; drop ..., must reach DuckDB as the text it is, never as SQL.
"""

from __future__ import annotations


def sql_string(value: str) -> str:
    """`value` as a SQL string literal: 'it''s'. DuckDB reads backslashes in a plain literal as they are
    (only E'...' strings escape), so doubling the single quote is the whole of it."""
    if "\x00" in value:
        raise ValueError("a SQL string literal cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """`name` as a quoted SQL identifier: "it""s", whatever characters it holds."""
    if "\x00" in name:
        raise ValueError("a SQL identifier cannot hold a NUL character")
    return '"' + name.replace('"', '""') + '"'
