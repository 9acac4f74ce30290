"""Writing values into DuckDB SQL text."""

from __future__ import annotations


def sql_string(value: str) -> str:
    """`value` as a SQL string literal: 'it''s'."""
    return "'" + value.replace("'", "''") + "'"
