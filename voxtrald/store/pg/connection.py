"""One PostgreSQL connection that speaks the store's SQL and survives the server going away.

The store's queries are written once, for both backends, with `?` markers
(SQLite's); they reach PostgreSQL with psycopg's `%s`. Rows read both by
name and by position, as SQLite's do. A connection that breaks (the server
restarts, the network drops) is dropped and made again at the next use,
and the caller gets `StoreUnavailable`, the one error it knows how to wait out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import RowMaker

from voxtrald.store.errors import StoreUnavailable

#: Where the team's tables live: a schema of its own, beside whatever else the database holds.
SCHEMA = "voxtral"
CONNECT_TIMEOUT = 5


class Row(dict[str, Any]):
    """A row by column name (`row["id"]`) or position (`row[0]`), like sqlite3.Row."""

    def __init__(self, names: Sequence[str], values: Sequence[Any]) -> None:
        super().__init__(zip(names, values, strict=True))
        self._values = tuple(values)

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return self._values[key]
        return super().__getitem__(key)


def _rows(cursor: Any) -> RowMaker[Row]:
    names = [c.name for c in cursor.description or ()]
    return lambda values: Row(names, values)


@lru_cache(maxsize=512)
def pg_sql(text: str) -> str:
    """The store's SQL for psycopg: `?` markers become `%s`, a literal `%` is doubled."""
    return re.sub(r"\?", "%s", text.replace("%", "%%"))


def describe(exc: BaseException) -> str:
    """The first line of a driver error: what the server or the network said."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class PgConnection:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: psycopg.Connection[Row] | None = None

    def _live(self) -> psycopg.Connection[Row]:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            self._conn = None
            try:
                conn = psycopg.connect(self.dsn, autocommit=True, row_factory=_rows,
                                       connect_timeout=CONNECT_TIMEOUT,
                                       application_name="voxtrald",
                                       options=f"-c search_path={SCHEMA}")
            except psycopg.Error as exc:
                raise StoreUnavailable(describe(exc)) from exc
            self._conn = conn
        return conn

    def _dropped(self, exc: psycopg.Error) -> StoreUnavailable:
        if self._conn is not None:
            with suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
        return StoreUnavailable(describe(exc))

    def execute(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[Row]:
        conn = self._live()
        try:
            return conn.execute(pg_sql(sql), tuple(args))
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self._dropped(exc) from exc

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        conn = self._live()
        try:
            with conn.cursor() as cur:
                cur.executemany(pg_sql(sql), rows)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self._dropped(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        conn = self._live()
        try:
            with conn.transaction():
                yield self
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self._dropped(exc) from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
