"""What the benchmarks do to a store that differs between SQLite and PostgreSQL: copy it for
a run that changes it, hold its write lock as another writer would, read its sizes, and
the bare insert that ingest is compared with."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def is_postgres(db: str) -> bool:
    return str(db).startswith("postgresql")


def shown(db: str) -> str:
    """The store as a table heading names it (never a password)."""
    return "PostgreSQL" if is_postgres(db) else "SQLite"


def _dsn(url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@contextmanager
def copy_of(db: str) -> Iterator[str]:
    """A copy of the store for one run that writes to it, removed afterwards: a file copy
    (SQLite's backup API), or a database made from it as a template (PostgreSQL)."""
    if not is_postgres(db):
        scratch = Path(tempfile.mkdtemp(prefix="msgterm-copy-"))
        try:
            with sqlite3.connect(db) as source, sqlite3.connect(scratch / "copy.db") as target:
                source.backup(target)
            yield str(scratch / "copy.db")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return
    import psycopg
    from sqlalchemy.engine import make_url

    source = make_url(db).database
    name = f"{source}_copy_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(db, "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    try:
        yield make_url(db).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_dsn(db, "postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def write_lock_held(db: str) -> Iterator[None]:
    """Another process's write transaction, holding what msgterm's writers wait for: SQLite's
    write lock, or the PostgreSQL writers' advisory lock (store/base.py)."""
    if not is_postgres(db):
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("COMMIT")
            holder.close()
        return
    import psycopg

    from msgterm.store.base import WRITERS_LOCK

    with psycopg.connect(_dsn(db)) as holder:
        holder.execute(f"SELECT pg_advisory_xact_lock({WRITERS_LOCK})")
        yield
        holder.rollback()


def sizes(db: str) -> list[int]:
    """Clients, conversations and messages."""
    from msgterm.store import open_store

    store = open_store(db)
    with store.read() as conn:
        counts = [conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in ("client", "conversation", "message")]
    store.dispose()
    return [int(c or 0) for c in counts]


def phones(db: str) -> list[str]:
    from msgterm.store import open_store

    store = open_store(db)
    with store.read() as conn:
        found = list(conn.exec_driver_sql("SELECT phone FROM conversation ORDER BY id").scalars())
    store.dispose()
    return found


def bare_insert_seconds(db: str, pages: list) -> float:
    """Seconds for the messages of ``pages`` through a bare executemany into an index-free
    table, a transaction a page, on the store's own backend."""
    rows = [
        [(m.sid, m.direction, m.from_number, m.to_number, m.body, m.status, m.created_at, m.sent_at) for m in page]
        for page in pages
    ]
    if not is_postgres(db):
        scratch = Path(tempfile.mkdtemp(prefix="msgterm-bare-"))
        bare = sqlite3.connect(scratch / "bare.db", isolation_level=None)
        bare.execute("CREATE TABLE m (sid, direction, sender, recipient, body, status, created_at, sent_at)")
        text_rows = [[(*r[:6], r[6].isoformat(), r[7].isoformat()) for r in page] for page in rows]
        began = time.perf_counter()
        for page in text_rows:
            bare.execute("BEGIN")
            bare.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?, ?, ?, ?)", page)
            bare.execute("COMMIT")
        elapsed = time.perf_counter() - began
        bare.close()
        shutil.rmtree(scratch, ignore_errors=True)
        return elapsed
    import psycopg

    with psycopg.connect(_dsn(db)) as bare:
        bare.execute(
            "CREATE TEMPORARY TABLE m (sid text, direction text, sender text, recipient text, body text, status text,"
            " created_at timestamp, sent_at timestamp)"
        )
        bare.commit()
        began = time.perf_counter()
        with bare.cursor() as cursor:
            for page in rows:
                cursor.executemany("INSERT INTO m VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", page)
                bare.commit()
        return time.perf_counter() - began
