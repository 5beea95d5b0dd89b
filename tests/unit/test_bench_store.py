"""bench/make_store.py writes its rows with raw SQL: the store must read them as its own."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

from msgterm.domain.search_query import parse
from msgterm.store import open_store

MAKE_STORE = Path(__file__).resolve().parents[2] / "bench" / "make_store.py"


def test_a_generated_store_reads_back_through_the_store_api(tmp_path):
    spec = importlib.util.spec_from_file_location("make_store", MAKE_STORE)
    make_store = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_store)
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
