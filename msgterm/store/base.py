"""The store's connection handling: one short transaction per unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert

from msgterm.store.engine import writer
from msgterm.store.models import ChangeLog

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


class StoreBase:
    """Owns the engine and the clock; the Store's parts share them."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow, business_number: str = "") -> None:
        self.engine = engine
        self.clock = clock
        self.business_number = business_number
        self._writer = writer(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that holds the write lock from its start (SQLite) and commits on exit."""
        with self._writer.begin() as connection:
            yield connection

    def _touch(self, conn: Connection, conversation_ids) -> None:
        """Note changed conversations in the change log, for the other terminals."""
        now = self.clock()
        rows = [{"conversation_id": cid, "at": now} for cid in conversation_ids]
        if rows:
            conn.execute(insert(ChangeLog.__table__), rows)

    def bulk_insert(self, conn: Connection, table, rows: list[dict]) -> None:
        """Insert many rows with one driver ``executemany``.

        SQLAlchemy's per-row parameter handling costs more than SQLite's own work for a
        page of a thousand messages; here each column's bind processor (datetime to text
        on SQLite, nothing on PostgreSQL) is applied directly instead.
        """
        if not rows:
            return
        names = list(rows[0])
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=names)
        order = list(compiled.positiontup) if compiled.positional else names
        dialect = conn.dialect
        process = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in order}
        convert = [(name, process[name]) for name in order]
        if compiled.positional:
            params = [tuple(fn(row[name]) if fn else row[name] for name, fn in convert) for row in rows]
        else:
            params = [{name: fn(row[name]) if fn else row[name] for name, fn in convert} for row in rows]
        conn.exec_driver_sql(str(compiled), params)

    def dispose(self) -> None:
        self.engine.dispose()
