"""The store's connection handling: one short transaction per unit of work."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import ARRAY, ColumnElement, Connection, DateTime, Engine, Insert, any_, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

from msgterm.store import schema
from msgterm.store.engine import writer

Clock = Callable[[], datetime]

#: PostgreSQL: the channel terminals LISTEN on, and the advisory lock writers take turns with.
CHANGES_CHANNEL = "msgterm_changes"
log = logging.getLogger(__name__)

WRITERS_LOCK = 7_734_001


def containing(fragment: str) -> str:
    """A LIKE pattern (escape character ``\\``) for text containing ``fragment`` literally:
    a ``%`` or ``_`` someone typed matches itself, not everything."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def inserted_id(result) -> int:
    """The primary key of the row an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None, "the statement inserted no row"
    return int(key[0])


def scalar_int(conn: Connection, statement) -> int:
    """A count or a maximum id: a number, 0 where the database says NULL."""
    return int(conn.scalar(statement) or 0)


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


#: Times the fast datetime format must write exactly as SQLAlchemy does (zero microseconds, a 3-digit year).
_TIME_PROBES = (datetime(2001, 2, 3, 4, 5, 6), datetime(987, 6, 5, 4, 3, 2, 1))


def _bind_processor(column_type, dialect):
    """The function that turns a Python value into the driver's, or None when it is as is.

    SQLAlchemy's SQLite DATETIME fills a %-format from a dict of the fields, which costs
    more per value than SQLite's insert; ``isoformat`` writes the same text in C. It is used
    only where it gives SQLAlchemy's text to the character (times compare as text in SQLite).
    """
    standard = column_type.dialect_impl(dialect).bind_processor(dialect)
    if standard is None or not isinstance(column_type, DateTime):
        return standard
    if any(standard(probe) != probe.isoformat(" ", "microseconds") for probe in _TIME_PROBES):
        return standard

    def to_text(value):
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return standard(value)

    return to_text


class Superseded(Exception):
    """A read was cancelled because a newer one replaces it (a search the user typed on from)."""


class Cancel:
    """Cancels the reads of one ``cancellable()`` scope from another thread: SQLite's
    ``interrupt()``, psycopg's ``cancel()``. Once the scope has ended (and its connection is
    back in the pool, where another read may use it) cancelling does nothing."""

    def __init__(self, dbapi_connection, dialect: str) -> None:
        self._connection = dbapi_connection
        self._dialect = dialect
        self._lock = threading.Lock()
        self._open = True
        self.cancelled = False

    def cancel(self) -> None:
        with self._lock:
            if not self._open:
                return
            self.cancelled = True
            if self._dialect == "sqlite":
                self._connection.interrupt()
            else:
                self._connection.cancel()

    def _close(self) -> None:
        with self._lock:
            self._open = False


class StoreBase:
    """Owns the engine and the clock; the Store's parts share them."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow, business_number: str = "") -> None:
        self.engine = engine
        self.clock = clock
        self.business_number = business_number
        self._writer = writer(engine)
        self._listener: PoolProxiedConnection | None = None  # PostgreSQL: LISTENs for other terminals' changes
        #: The connection of this thread's ``cancellable()`` scope, which its reads share.
        self._scope = threading.local()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        scoped = getattr(self._scope, "connection", None)
        if scoped is not None:
            if self._scope.handle.cancelled:
                raise Superseded()  # cancelled between two reads of the scope
            yield scoped
            return
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def cancellable(self) -> Iterator[Cancel]:
        """Run this thread's reads on one connection that another thread can cancel: a newer
        search stops the one it replaces, so typing a word costs one search, not one a letter.
        A cancelled read raises ``Superseded``."""
        with self.engine.connect() as connection:
            handle = Cancel(connection.connection.dbapi_connection, self.dialect)
            self._scope.connection, self._scope.handle = connection, handle
            try:
                yield handle
            except DBAPIError as error:
                if handle.cancelled:
                    raise Superseded() from error
                raise
            finally:
                self._scope.connection = self._scope.handle = None
                handle._close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that holds the write lock from its start (SQLite) and commits on exit.

        On PostgreSQL writers take turns too, through a transaction-wide advisory lock:
        the folder rules read a state and write the next one, and the change log's numbers
        must become visible in order (or a terminal could read number 11 before 10 commits
        and never see 10). Front-desk writes are short; taking turns costs nothing there.

        A store too busy to write (another terminal held SQLite's lock past the busy
        timeout) raises StoreBusy: the transaction was rolled back, nothing changed.
        """
        from sqlalchemy.exc import OperationalError

        try:
            with self._writer.begin() as connection:
                if self.dialect == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITERS_LOCK})")
                yield connection
        except OperationalError as error:
            from msgterm.store.errors import BUSY, StoreBusy, is_busy

            if is_busy(error):
                raise StoreBusy(BUSY) from error
            raise

    def _touch(self, conn: Connection, conversation_ids) -> None:
        """Note changed conversations in the change log, for the other terminals.

        On PostgreSQL, NOTIFY also wakes the terminals that LISTEN (it is sent at commit).
        """
        now = self.clock()
        rows = [{"conversation_id": cid, "at": now} for cid in conversation_ids]
        if not rows:
            return
        if self.dialect == "postgresql":
            conn.exec_driver_sql(f"NOTIFY {CHANGES_CHANNEL}")
        self.bulk_insert(conn, schema.change_log, rows)

    def wait_for_changes(self, timeout: float) -> None:
        """Block until another connection may have changed the store, or ``timeout`` passes.

        PostgreSQL: LISTEN on a connection of its own, woken by the NOTIFY of ``_touch``.
        A listening connection the server dropped is opened again on the next call (the
        caller reads the change log after each wait, so nothing notified meanwhile is
        missed). SQLite has no notifications: this just waits, and the caller polls the
        change log.
        """
        if self.dialect != "postgresql":
            time.sleep(timeout)
            return
        try:
            if self._listener is None:
                self._listener = self.engine.raw_connection()
                driver = self._listener.driver_connection
                assert driver is not None
                driver.autocommit = True
                driver.execute(f"LISTEN {CHANGES_CHANNEL}")
            driver = self._listener.driver_connection
            assert driver is not None
            for _notice in driver.notifies(timeout=timeout, stop_after=1):
                break
        except Exception as error:  # noqa: BLE001 - psycopg and SQLAlchemy each have their own connection errors
            log.warning("lost the store's change notifications (%s); listening again", type(error).__name__)
            self._close_listener()
            time.sleep(min(timeout, 1.0))

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.invalidate()  # a dead connection must not go back to the pool
            except Exception:  # noqa: BLE001 - it is gone either way
                pass

    def bulk_insert(self, conn: Connection, table, rows: list[dict]) -> None:
        """Insert many rows with one driver ``executemany``."""
        self.execute_many(conn, insert(table), rows)

    def execute_many(self, conn: Connection, statement, rows: list[dict]) -> None:
        """Run an INSERT or UPDATE once per row of ``rows`` with one driver ``executemany``.

        SQLAlchemy's per-row parameter handling costs more than SQLite's own work for a
        sync batch of thousands of messages; here the statement is compiled once, each
        column is converted in one pass (datetime to text on SQLite, nothing on PostgreSQL)
        and the rows are zipped back together. Rows are keyed by column name (INSERT) or
        bindparam name (UPDATE).
        """
        if rows:
            self.execute_columns(conn, statement, {name: [row[name] for row in rows] for name in rows[0]})

    def execute_columns(self, conn: Connection, statement, columns: dict[str, list]) -> None:
        """``execute_many`` for values given a column at a time (a list per name, all as long):
        a sync batch of thousands of messages then makes no dict per row."""
        if not columns or not next(iter(columns.values())):
            return
        dialect = conn.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        order = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        converted = []
        for name in order:
            convert = _bind_processor(compiled.binds[name].type, dialect)
            values = columns[name]
            converted.append(list(map(convert, values)) if convert else values)
        if dialect.name == "postgresql" and isinstance(statement, Insert):  # nothing here reads a RETURNING
            self._copy(conn, statement.table.name, order, converted)
            return
        params: list[tuple] | list[dict]
        if compiled.positional:
            params = list(zip(*converted, strict=True))
        else:
            params = [dict(zip(order, values, strict=True)) for values in zip(*converted, strict=True)]
        conn.exec_driver_sql(str(compiled), params)

    def _copy(self, conn: Connection, table: str, names: list[str], columns: list[list]) -> None:
        """PostgreSQL: rows in with COPY, in the transaction of ``conn``: one stream instead of
        a statement a row (executemany was three quarters of a sync batch's time there). A
        row the database refuses raises as an INSERT would (IntegrityError, DataError)."""
        import psycopg

        raw = conn.connection.dbapi_connection
        assert isinstance(raw, psycopg.Connection), "msgterm reaches PostgreSQL through psycopg"
        quoted = ", ".join(f'"{name}"' for name in names)
        try:
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in zip(*columns, strict=True):
                    copy.write_row(row)
        except psycopg.Error as error:
            raise DBAPIError.instance(f"COPY {table}", None, error, psycopg.Error) from None

    def update_by_id(self, conn: Connection, table, ids: list[int], values: dict[str, list]) -> None:
        """Set ``values`` (a list per column, in the order of ``ids``) on the rows ``ids``.

        PostgreSQL: one UPDATE from arrays (unnest), not a statement a row."""
        if not ids:
            return
        dialect = conn.dialect
        if dialect.name != "postgresql":
            statement = (
                update(table).where(table.c.id == bindparam("row_id")).values({name: bindparam(f"v_{name}") for name in values})
            )
            self.execute_columns(conn, statement, {"row_id": ids, **{f"v_{name}": column for name, column in values.items()}})
            return
        arrays, casts = [ids], ["INTEGER[]"]
        for name, column in values.items():
            column_type = table.c[name].type
            convert = _bind_processor(column_type, dialect)
            arrays.append(list(map(convert, column)) if convert else column)
            casts.append(f"{column_type.compile(dialect=dialect)}[]")
        names = ", ".join(f'"{name}"' for name in values)
        sets = ", ".join(f'"{name}" = v."{name}"' for name in values)
        unnest = ", ".join(f"%s::{cast}" for cast in casts)
        conn.exec_driver_sql(
            f'UPDATE "{table.name}" AS t SET {sets} FROM unnest({unnest}) AS v(row_id, {names}) WHERE t.id = v.row_id',
            tuple(arrays),
        )

    def among(self, column, values: Iterable) -> ColumnElement[bool]:
        """``column IN values`` with the values as one parameter, however many there are.

        An expanding IN compiles a placeholder per value (and SQLite caps their number), which
        costs more than the lookups for the thousands of SIDs, numbers and conversations of a
        sync page; one JSON array (SQLite) or one array (PostgreSQL) compiles once.
        """
        values = list(values)
        if self.dialect == "postgresql":
            return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        listed = func.json_each(bindparam(None, json.dumps(values))).table_valued("value")
        return column.in_(select(listed.c.value))

    def dispose(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.engine.dispose()
