"""bench/make_store.py writes its rows with raw SQL: the store must read them as its own."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

from conftest import _drop_pg_database

from msgterm.domain.search_query import parse
from msgterm.store import open_store

MAKE_STORE = Path(__file__).resolve().parents[2] / "bench" / "make_store.py"


def test_a_generated_store_reads_back_through_the_store_api(tmp_path):
    make_store = _load()
    make_store.build(tmp_path / "b.db", clients=50, messages=600, seed=3)

    store = open_store(tmp_path / "b.db", business_number=make_store.BUSINESS)
    conversations = store.conversations(limit=100)
    assert store.message_count() == 600 and len(conversations) == 50
    activity = [c.last_activity_at for c in conversations]
    assert all(isinstance(at, datetime) for at in activity) and activity == sorted(activity, reverse=True)
    first = conversations[0]
    thread = store.messages(first.id, limit=1000)
    assert thread and all(isinstance(m.created_at, datetime) and isinstance(m.sent_at, datetime) for m in thread)
    assert [m.created_at for m in thread] == sorted(m.created_at for m in thread)
    assert thread[-1].created_at == first.last_activity_at
    assert store.search_messages(parse(thread[-1].body.split()[0]))  # the search index was built too
    with store.read() as conn:  # each time column holds what the store itself writes there
        kinds = {
            f"{table}.{column}": conn.exec_driver_sql(f"SELECT DISTINCT typeof({column}) FROM {table}").scalars().all()
            for table, column in [
                ("message", "created_at"),
                ("message", "sent_at"),
                ("conversation", "last_activity_at"),
                ("conversation", "created_at"),
            ]
        }
    assert kinds == {
        "message.created_at": ["integer"],
        "message.sent_at": ["text"],
        "conversation.last_activity_at": ["integer"],
        "conversation.created_at": ["text"],
    }
    store.dispose()


def test_the_generator_builds_the_same_store_on_postgresql_with_the_migrations_indexes(tmp_path, pg_url):
    """COPY with the indexes dropped and built again: the same rows as on SQLite, and every
    index the migrations make (the search index too), with statistics gathered."""
    from sqlalchemy import inspect

    make_store = _load()
    make_store.build(pg_url, clients=50, messages=600, seed=3)
    make_store.build(tmp_path / "b.db", clients=50, messages=600, seed=3)
    on_pg = open_store(pg_url, business_number=make_store.BUSINESS)
    on_sqlite = open_store(tmp_path / "b.db", business_number=make_store.BUSINESS)

    def content(store):
        conversations = store.conversations(limit=100)
        threads = [[(m.sid, m.body, m.created_at, m.direction) for m in store.messages(c.id, limit=1000)] for c in conversations]
        return [(c.phone, c.title, c.folder, c.unread_count, c.last_activity_at) for c in conversations], threads

    assert content(on_pg) == content(on_sqlite)
    assert on_pg.message_count() == 600
    migrated = open_store(_fresh(pg_url), business_number=make_store.BUSINESS)
    expected = {i["name"] for t in make_store.LOADED for i in inspect(migrated.engine).get_indexes(t)}
    built = {i["name"] for t in make_store.LOADED for i in inspect(on_pg.engine).get_indexes(t)}
    assert expected == built and "ix_message_body_tsv" in built
    word = on_pg.messages(on_pg.conversations(limit=1)[0].id)[-1].body.split()[0]
    assert on_pg.search_messages(parse(word)) and on_pg.search_messages(parse(word)) == on_sqlite.search_messages(parse(word))
    with on_pg.read() as conn:
        analyzed = conn.exec_driver_sql("SELECT count(*) FROM pg_stats WHERE tablename = 'message'").scalar()
        sequence = conn.exec_driver_sql("SELECT nextval(pg_get_serial_sequence('message', 'id'))").scalar()
    assert analyzed > 0 and sequence == 601
    for store in (on_pg, on_sqlite, migrated):
        store.dispose()
    _drop_pg_database(str(migrated.engine.url.render_as_string(hide_password=False)))


def _load():
    spec = importlib.util.spec_from_file_location("make_store", MAKE_STORE)
    make_store = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_store)
    return make_store


def _fresh(url: str) -> str:
    """Another empty database beside ``url``; the test drops it."""
    fresh = url + "_migrated"
    _load().fresh_postgres(fresh)
    return fresh
