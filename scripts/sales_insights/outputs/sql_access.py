"""SQL on the published warehouse from the project's own install: `sales-insights sql` and `sales-insights shell`.

The DuckDB CLI is not a Python package, so a fresh install has no `duckdb` command; these two commands give
an analyst the same read-only access with the DuckDB library the project pins (the one that wrote the file).
The file is always opened read-only: a query cannot change a published build, and a build can publish a
new file meanwhile (reopen to see it).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb

from sales_insights.errors import SalesInsightsError

FORMATS = ("table", "csv", "json")
PROMPT, CONTINUATION = "sql> ", "...> "
SHELL_HELP = """Statements end with a semicolon and may span lines. Commands:
  .tables          the schemas and tables of the warehouse
  .schema NAME     the columns of a table (schema.table or table)
  .help            this text
  .quit            leave (or Ctrl-D)"""


def _ends_statement(line: str) -> bool:
    """The line ends a statement: its last character is a semicolon, or a line comment follows one."""
    return bool(re.search(r";\s*(--.*)?$", line))


def open_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.exists():
        raise SalesInsightsError(f"{warehouse}: no warehouse there yet; run `sales-insights run` to build one")
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise SalesInsightsError(f"cannot open {warehouse} read-only: {exc}") from exc


def render(relation: duckdb.DuckDBPyRelation, fmt: str = "table", max_rows: int = 40) -> str:
    """A query's result as text: DuckDB's own box table (at most `max_rows` rows; when there are more, it says
    how many), or every row as CSV or as JSON lines."""
    if fmt == "csv":
        return relation.df().to_csv(index=False)
    if fmt == "json":
        return relation.df().to_json(orient="records", lines=True, date_format="iso")
    width = shutil.get_terminal_size((120, 40)).columns
    captured = io.StringIO()
    # DuckDB prints its table with Python's print: captured, so the caller decides where it goes
    with contextlib.redirect_stdout(captured):
        relation.show(max_rows=max_rows, max_width=width)
    return captured.getvalue()


def run_sql(warehouse: Path, query: str, fmt: str = "table", max_rows: int = 40) -> str:
    """The result of `query` (one or more statements; the last one's result) on `warehouse`, read-only."""
    con = open_read_only(warehouse)
    try:
        relation = con.sql(query)
        # a relation is evaluated when rendered: an error may come only then
        return render(relation, fmt, max_rows) if relation is not None else "ok\n"
    except duckdb.Error as exc:
        raise SalesInsightsError(f"query failed: {exc}") from exc
    finally:
        con.close()


def _tables(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "select schema_name, string_agg(table_name, ', ' order by table_name) from duckdb_tables() "
        "where database_name = current_database() group by 1 order by 1"
    ).fetchall()
    views = con.execute(
        "select schema_name, string_agg(view_name, ', ' order by view_name) from duckdb_views() "
        "where database_name = current_database() and not internal group by 1 order by 1"
    ).fetchall()
    lines = [f"{schema}: {names}" for schema, names in rows]
    lines += [f"{schema} (views): {names}" for schema, names in views]
    return "\n".join(lines) + "\n"


def _schema(con: duckdb.DuckDBPyConnection, name: str) -> str:
    schema, _, table = name.rpartition(".")
    found = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_name = ? and (? = '' or table_schema = ?) "
        "order by table_schema, ordinal_position", [table, schema, schema],
    ).fetchall()
    if not found:
        return f"no table or view named {name}\n"
    return "\n".join(f"{s}.{t}.{column} {data_type}" for s, t, column, data_type in found) + "\n"


def shell(warehouse: Path, lines: Iterable[str], write: Callable[[str], None], max_rows: int = 40) -> int:
    """An interactive SQL prompt on `warehouse`, read-only: reads `lines` (the terminal's, or piped), runs
    each statement when its semicolon comes, writes results and errors with `write`. Returns 0, or 1 when
    a statement failed and the input was not a terminal (a script should know)."""
    con = open_read_only(warehouse)
    interactive = sys.stdin.isatty()
    failed = False
    pending: list[str] = []
    write(f"{warehouse} (read-only). .help for help, .quit to leave.\n")
    try:
        for raw in lines:
            line = raw.rstrip("\n")
            command = line.strip()
            if not pending and command.startswith("."):
                word, _, argument = command.partition(" ")
                if word in (".quit", ".exit"):
                    break
                if word == ".tables":
                    write(_tables(con))
                elif word == ".schema" and argument.strip():
                    write(_schema(con, argument.strip()))
                else:
                    write(SHELL_HELP + "\n")
                continue
            if command:
                pending.append(line)
            if not _ends_statement(command):
                continue
            # a comment after the last semicolon would be run as an empty last statement, without a result
            statement, pending = re.sub(r";\s*--[^\n]*$", ";", "\n".join(pending)), []
            try:
                relation = con.sql(statement)
                write(render(relation, "table", max_rows) if relation is not None else "ok\n")
            except duckdb.Error as exc:
                failed = True
                write(f"error: {exc}\n")
        if pending:
            write("error: the last statement has no closing semicolon; it was not run\n")
            failed = True
    finally:
        con.close()
    return 1 if failed and not interactive else 0


def prompt_lines() -> Iterable[str]:
    """Lines typed at the prompt (with line editing and history where readline exists), until Ctrl-D."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (input() edits lines once it is loaded)
    continuing = False
    while True:
        try:
            line = input(CONTINUATION if continuing else PROMPT)
        except EOFError:
            print()
            return
        stripped = line.strip()
        if _ends_statement(stripped):
            continuing = False
        elif stripped and (continuing or not stripped.startswith(".")):
            continuing = True
        yield line
