"""Engine factory: SQLite in WAL mode with a busy timeout, or PostgreSQL via psycopg 3."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from msgterm.domain.errors import MsgtermError

#: How long a SQLite connection waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: SQLite's page caches, all connections of the process together, stay about this size.
SQLITE_HEAP_LIMIT = 48 * 1024 * 1024


def database_url(url_or_path: str | Path) -> str:
    """Turn a plain file path into a SQLite URL; leave URLs as they are."""
    text = str(url_or_path)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_private(path: Path) -> None:
    """Create the store file (and its folder) readable by its owner alone: it holds every
    client's messages. SQLite gives the -wal and -shm files the database file's mode.
    A store that exists keeps the mode it has (it may be shared on purpose)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def make_engine(url_or_path: str | Path) -> Engine:
    """Build an engine for the store at ``url_or_path``.

    SQLite connections get WAL, a busy timeout and foreign keys. Transactions are begun
    by us rather than by the driver so that writers can ask for ``BEGIN IMMEDIATE``:
    a deferred transaction that later upgrades to a write lock fails at once with
    "database is locked" when another process wrote in between, whatever the timeout.
    """
    url = database_url(url_or_path)
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)

    path = make_url(url).database
    if path and path != ":memory:":
        try:
            create_private(Path(path))
        except OSError as error:
            raise MsgtermError(
                f"cannot create the folder for the store {path}: {error.strerror}. "
                "Choose a writable place with --db or MSGTERM_DATABASE_URL."
            ) from None
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-16384")  # 16 MiB per connection: hot index pages
        # The pool opens a connection per thread that reads at once (up to 15), each with its
        # own cache: bounded per connection only, the app's memory varied by 70 MB from run to
        # run. The limit is SQLite's and the whole process's: past it, caches give pages back.
        cursor.execute(f"PRAGMA soft_heap_limit={SQLITE_HEAP_LIMIT}")
        cursor.execute("PRAGMA wal_autocheckpoint=8000")  # checkpoint every ~32 MiB, not every sync page
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, but whose transactions take SQLite's write lock up front."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    return engine
