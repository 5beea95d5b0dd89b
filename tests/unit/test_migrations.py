"""Alembic migrations: the schema matches the models; upgrading keeps every row."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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
        conn.execute(
            text(
                "INSERT INTO client (client_id, first_name, last_name, mobile_phone, opted_out) VALUES ('C1', 'Ada', 'Old', '+12125550201', false)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO conversation (business_number, phone, client_id, folder, unread_count, muted, last_activity_at, last_preview, last_direction, created_at) VALUES ('', '+12125550201', 1, 'unread', 1, false, '2026-01-01 10:00:00', 'hi', 'inbound', '2026-01-01 10:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO message (sid, conversation_id, direction, body, status, from_number, to_number, created_at, num_segments, num_media, automated) VALUES ('SM1', 1, 'inbound', 'hi', 'received', '+12125550201', '', '2026-01-01 10:00:00', 1, 0, false)"
            )
        )
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
    from msgterm.store import models, schema

    assert models.Conversation.__table__ is SQLModel.metadata.tables["conversation"]  # the models are loaded

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


TIMES_AS_TEXT = [
    "2026-01-01 10:00:00.123456",
    "1969-12-31 23:59:59.500000",
    "2026-11-25 00:00:00.000000",
    "0999-01-02 03:04:05.000001",
]


def test_indexed_times_become_integers_on_upgrade_to_the_microsecond_and_text_again_on_downgrade(tmp_path):
    """Migration 0005 rewrites message and activity times in place (SQLite only)."""
    engine = make_engine(tmp_path / "t.db")
    migrate.upgrade(engine, "0004")
    with engine.begin() as conn:
        for n, at in enumerate(TIMES_AS_TEXT, start=1):
            conn.execute(
                text(
                    "INSERT INTO conversation (business_number, phone, folder, unread_count, muted, last_activity_at, last_preview,"
                    " last_direction, created_at) VALUES ('', :phone, 'read', 0, false, :at, '', 'inbound', :at)"
                ),
                {"phone": f"+1212555030{n}", "at": at},
            )
            conn.execute(
                text(
                    "INSERT INTO message (sid, conversation_id, direction, body, status, from_number, to_number, created_at,"
                    " num_segments, num_media, automated) VALUES (:sid, :n, 'inbound', 'hi', 'received', '', '', :at, 1, 0, false)"
                ),
                {"sid": f"SM{n}", "n": n, "at": at},
            )
    engine.dispose()

    store = open_store(tmp_path / "t.db")
    expected = [datetime.fromisoformat(at) for at in TIMES_AS_TEXT]
    assert [store.messages(n)[0].created_at for n in range(1, 5)] == expected
    assert [store.conversation(n).last_activity_at for n in range(1, 5)] == expected
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT typeof(created_at), count(*) FROM message GROUP BY 1").all() == [("integer", 4)]
        assert (
            conn.exec_driver_sql("SELECT created_at FROM message WHERE id = 2").scalar() == -500_000
        )  # half a second before 1970
        # The integers sort as the times: oldest first.
        order = conn.exec_driver_sql("SELECT id FROM conversation ORDER BY last_activity_at").scalars().all()
    assert order == [4, 2, 1, 3]
    store.dispose()

    migrate.downgrade(engine, "0004")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT created_at FROM message ORDER BY id").scalars().all() == TIMES_AS_TEXT
        assert conn.exec_driver_sql("SELECT last_activity_at FROM conversation ORDER BY id").scalars().all() == TIMES_AS_TEXT
    engine.dispose()


def test_epoch_microseconds_round_trip_and_order_on_both_databases(url):
    """What the store writes for the indexed times reads back the same, and sorts as time does."""
    from sqlalchemy import select

    from msgterm.store import schema

    store = open_store(url)
    times = [datetime.fromisoformat(at) for at in TIMES_AS_TEXT] + [datetime(2026, 11, 25, 9, 30, 15, 999999)]
    with store.write() as conn:
        for n, at in enumerate(times, start=1):
            conn.execute(
                schema.conversation.insert().values(
                    business_number="",
                    phone=f"+1212555040{n}",
                    folder="read",
                    unread_count=0,
                    muted=False,
                    last_activity_at=at,
                    last_preview="",
                    last_direction="",
                    created_at=at,
                )
            )
    with store.read() as conn:
        stored = conn.execute(select(schema.conversation.c.last_activity_at).order_by(schema.conversation.c.id)).scalars().all()
        ordered = (
            conn.execute(select(schema.conversation.c.last_activity_at).order_by(schema.conversation.c.last_activity_at))
            .scalars()
            .all()
        )
        newer = (
            conn.execute(
                select(schema.conversation.c.id).where(
                    schema.conversation.c.last_activity_at > datetime(2026, 1, 1, 10, 0, 0, 123456)
                )
            )
            .scalars()
            .all()
        )
    assert stored == times
    assert ordered == sorted(times)
    assert sorted(newer) == [3, 5]
    store.dispose()


def _cli(*args):
    from click.testing import CliRunner

    from msgterm.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_stores_msgterm_must_not_touch_get_one_line_and_a_non_zero_exit(tmp_path):
    import sqlite3

    newer = tmp_path / "newer.db"
    assert _cli("--db", str(newer), "staff", "list").exit_code == 0
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    result = _cli("--db", str(newer), "staff", "list")
    assert result.exit_code == 1
    assert "made by a newer msgterm (revision 0099" in result.output and "upgrade msgterm" in result.output
    with sqlite3.connect(newer) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0099",)

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE location (id INTEGER)")
    result = _cli("--db", str(foreign), "staff", "list")
    assert result.exit_code == 1
    assert "holds tables (location) but no msgterm revision" in result.output
    assert "already exists" not in result.output

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    result = _cli("--db", str(damaged), "staff", "list")
    assert result.exit_code == 1
    assert "damaged or is not a SQLite database" in result.output and "Traceback" not in result.output
