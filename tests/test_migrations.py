"""Alembic migrations: the schema matches the models; upgrading keeps every row."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
import pytest
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from msgterm.domain.search_query import parse
from msgterm.store import migrate, open_store
from msgterm.store.engine import make_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A new, empty store on each backend in turn."""
    return str(tmp_path / "m.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")


def test_migrations_build_exactly_the_models(url):
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": migrate.include_object})
        assert compare_metadata(context, SQLModel.metadata) == []
    assert migrate.current_revision(engine) == migrate.head_revision() == migrate.HEAD
    engine.dispose()


def test_a_store_made_by_the_first_migration_is_upgraded_on_open_and_keeps_its_rows(url):
    engine = make_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO client (client_id, first_name, last_name, mobile_phone, opted_out) VALUES ('C1', 'Ada', 'Old', '+12125550201', false)"))
        conn.execute(text("INSERT INTO conversation (business_number, phone, client_id, folder, unread_count, muted, last_activity_at, last_preview, last_direction, created_at) VALUES ('', '+12125550201', 1, 'unread', 1, false, '2026-01-01 10:00:00', 'hi', 'inbound', '2026-01-01 10:00:00')"))
        conn.execute(text("INSERT INTO message (sid, conversation_id, direction, body, status, from_number, to_number, created_at, num_segments, num_media, automated) VALUES ('SM1', 1, 'inbound', 'hi', 'received', '+12125550201', '', '2026-01-01 10:00:00', 1, 0, false)"))
    assert "change_log" not in inspect(engine).get_table_names()
    engine.dispose()

    store = open_store(url)
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert "change_log" in inspect(store.engine).get_table_names()
    assert store.client_by_ref("C1").name == "Ada Old"
    (conversation,) = store.conversations()
    assert (conversation.folder.value, conversation.unread_count) == ("unread", 1)
    assert [m.body for m in store.messages(conversation.id)] == ["hi"]
    # Migration 0003 indexed what was already stored.
    assert [hit.hit_message_id for hit in store.search_messages(parse("hi"))] == [1]
    assert [hit.id for hit in store.search_parties(parse("ada old"))] == [conversation.id]
    assert [hit.id for hit in store.search_parties(parse("0201"))] == [conversation.id]
    store.dispose()


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


def test_schema_py_is_generated_from_the_current_models():
    from msgterm.store import gen_schema

    assert gen_schema.SCHEMA_PATH.read_text() == gen_schema.generate(), "run: uv run python -m msgterm.store.gen_schema"


def test_the_run_time_tables_build_the_same_schema_as_the_models(tmp_path):
    from msgterm.store import schema

    engine = make_engine(tmp_path / "core.db")
    schema.metadata.create_all(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    engine.dispose()


def test_opening_a_current_store_and_the_app_never_import_sqlmodel_or_alembic(tmp_path):
    """Start-up pays only for what the first screen needs (bench/run.py measures it)."""
    open_store(tmp_path / "s.db").dispose()
    code = (
        "import sys\n"
        "from msgterm.store import open_store\n"
        "import msgterm.app, msgterm.screens.main_screen, msgterm.cli, msgterm.run\n"
        f"open_store({str(tmp_path / 's.db')!r}).conversations()\n"
        "heavy = [m for m in ('sqlmodel', 'pydantic', 'sqlalchemy.orm', 'alembic', 'twilio') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
