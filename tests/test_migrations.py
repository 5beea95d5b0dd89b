"""Alembic migrations: the schema matches the models; upgrading keeps every row."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from msgterm.domain.search_query import parse
from msgterm.store import migrate, open_store
from msgterm.store.engine import make_engine


def test_migrations_build_exactly_the_models(tmp_path):
    engine = make_engine(tmp_path / "m.db")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": migrate.include_object})
        assert compare_metadata(context, SQLModel.metadata) == []
    assert migrate.current_revision(engine) == migrate.head_revision() == migrate.HEAD


def test_a_store_made_by_the_first_migration_is_upgraded_on_open_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    engine = make_engine(path)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO client (client_id, first_name, last_name, mobile_phone, opted_out) VALUES ('C1', 'Ada', 'Old', '+12125550201', 0)"))
        conn.execute(text("INSERT INTO conversation (business_number, phone, client_id, folder, unread_count, muted, last_activity_at, last_preview, last_direction, created_at) VALUES ('', '+12125550201', 1, 'unread', 1, 0, '2026-01-01 10:00:00', 'hi', 'inbound', '2026-01-01 10:00:00')"))
        conn.execute(text("INSERT INTO message (sid, conversation_id, direction, body, status, from_number, to_number, created_at, num_segments, num_media, automated) VALUES ('SM1', 1, 'inbound', 'hi', 'received', '+12125550201', '', '2026-01-01 10:00:00', 1, 0, 0)"))
    engine.dispose()
    assert "change_log" not in _tables(path)

    store = open_store(path)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert "change_log" in _tables(path)
    assert store.client_by_ref("C1").name == "Ada Old"
    (conversation,) = store.conversations()
    assert (conversation.folder.value, conversation.unread_count) == ("unread", 1)
    assert [m.body for m in store.messages(conversation.id)] == ["hi"]
    # Migration 0003 indexed what was already stored.
    assert [hit.hit_message_id for hit in store.search_messages(parse("hi"))] == [1]
    assert [hit.id for hit in store.search_parties(parse("ada old"))] == [conversation.id]
    assert [hit.id for hit in store.search_parties(parse("0201"))] == [conversation.id]


def _tables(path):
    engine = make_engine(path)
    with engine.connect() as conn:
        names = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    engine.dispose()
    return names


def test_sqlite_store_uses_wal_busy_timeout_and_foreign_keys(store):
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_store_domain_and_sync_never_import_textual():
    code = (
        "import sys, importlib, pkgutil, msgterm.store, msgterm.domain, msgterm.sync\n"
        "for pkg in (msgterm.store, msgterm.domain, msgterm.sync):\n"
        "    for info in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "bad = [m for m in ('textual', 'rich') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
