"""A SQLAlchemy dialect for DuckDB whose cursors keep their own results: `duckdb+sales_insights:///PATH`.

Why: duckdb-engine's cursors all run on their connection's one DuckDB connection, which holds only the
result of its latest statement. SQLAlchemy rolls a connection back when it returns it to the pool, and
Great Expectations 1.x fetches a query's rows only after it has returned the connection
(`SqlAlchemyExecutionEngine.execute_query`; it keeps a connection open only for a fixed list of dialects).
So every metric GE computes on plain `duckdb:///` comes back empty, and each expectation fails with
"MetricResolutionError: list index out of range" whatever the data holds. StaticPool does not help: the
rollback still runs on the same DuckDB connection.

DB-API cursors are meant to be independent, and DuckDB has exactly that: `connection.cursor()` is a child
connection to the same database with a result of its own. This dialect hands SQLAlchemy those, so a
rollback on the parent no longer wipes a result GE has yet to fetch. The dialect name stays "duckdb",
so GE and SQLAlchemy treat it as DuckDB in every other respect.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import duckdb_engine
from sqlalchemy.dialects import registry

DRIVER = "sales_insights"


class IndependentCursorConnection(duckdb_engine.ConnectionWrapper):
    """duckdb-engine's connection wrapper, with one DuckDB child cursor per DB-API cursor."""

    def __init__(self, connection: Any) -> None:
        super().__init__(connection)
        self._duckdb = connection
        self._children: list[Any] = []

    def cursor(self) -> duckdb_engine.CursorWrapper:
        child = self._duckdb.cursor()
        self._children.append(child)
        return duckdb_engine.CursorWrapper(child, self)

    def close(self) -> None:
        # The database file stays open while any child is: close them all, so that the file can be
        # opened again with another configuration (read-write) in this process.
        for child in self._children:
            child.close()
        self._children.clear()
        super().close()


# Every connection this dialect opened and has not closed. GE holds some of its connections beyond the
# engine's pool (engine.dispose() does not reach them), and while any is open this process cannot open the
# same file read-write: close_all() ends them once a validation is over.
_open_connections: list[IndependentCursorConnection] = []


class Dialect(duckdb_engine.Dialect):
    driver = DRIVER
    supports_statement_cache = True  # as duckdb-engine's own dialect; SQLAlchemy asks each subclass to say so

    def connect(self, *cargs: Any, **cparams: Any) -> IndependentCursorConnection:
        wrapper = super().connect(*cargs, **cparams)
        connection = IndependentCursorConnection(wrapper._ConnectionWrapper__c)
        _open_connections.append(connection)
        return connection


def close_all() -> None:
    """Close every DuckDB connection (and child cursor) this dialect opened."""
    while _open_connections:
        connection = _open_connections.pop()
        if not connection.closed:
            connection.close()


def register() -> None:
    registry.register(f"duckdb.{DRIVER}", __name__, "Dialect")


def connection_url(path: str, read_only: bool = True) -> str:
    """The SQLAlchemy URL of the DuckDB file at `path`. The path is percent-encoded (SQLAlchemy decodes it
    again), so a ? or # in a directory name stays part of the file's name instead of starting the URL's query."""
    query = "?access_mode=read_only" if read_only else ""
    return f"duckdb+{DRIVER}:///{quote(path)}{query}"


register()
