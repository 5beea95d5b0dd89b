"""PostgreSQL search at size (issue 17): the newest messages walked, older hits read from the
GIN index; the same hits in the same order as one plain query, and plans that never scan
the message table for a rare word."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import BUSINESS, add_client, inbound
from sqlalchemy import event

import msgterm.store.search as search
from msgterm.domain.folders import FolderView
from msgterm.domain.provider_message import ProviderMessage
from msgterm.domain.search_query import parse
from msgterm.store import open_store
from msgterm.store.records import Filters
from msgterm.store.search import SearchResults

QUERIES = (
    "rare",
    "common",
    "common rare",
    "commo",
    "crème",
    "creme",
    "0142",
    "0199",
    "ada",
    "is:unread common",
    "type:member common",
)


def everything(store, typed: str, page: int = 4) -> list[tuple[int, int | None]]:
    """Every hit of ``typed``, read in small pages (so that pages cross the walk's end)."""
    results = SearchResults(store, parse(typed), FolderView.ALL, Filters(), page_size=page)
    return [(hit.id, hit.hit_message_id) for hit in results.rows(0, 1000)]


def test_hits_across_the_walk_and_the_index_are_those_of_one_query(pg_store_url, clock, monkeypatch):
    store = open_store(pg_store_url, clock=clock, business_number=BUSINESS)
    ada = store.client(add_client(store, 1, first_name="Ada", mobile_phone="+12125550142")).mobile_phone
    add_client(store, 2, first_name="Bob", client_type="Prospect")
    for n in range(60):
        clock.advance(minutes=1)
        phone = ada if n % 3 else f"+1917555{n:04d}"
        body = "common words" + (" rare" if n in (2, 31, 47) else "") + (" crème" if n % 7 == 0 else "")
        inbound(store, phone, body)
    clock.advance(minutes=1)
    store.ingest(
        [ProviderMessage("SM" + "f" * 32, "inbound", "+19175550199", BUSINESS, "call 0142 back", "received", clock(), clock())]
    )
    whole = {typed: everything(store, typed) for typed in QUERIES}
    assert len(whole["rare"]) == 3 and len(whole["common"]) == 60 and whole["crème"] == whole["creme"] != []
    assert whole["0142"][0][0] == store.conversation_for_phone(ada).id  # the client, then the message naming it

    monkeypatch.setattr(search, "RECENT_WALK", 5)  # the newest five messages walked; the rest from the index
    monkeypatch.setattr(search, "PARTY_CANDIDATES", 1)  # and a fragment's conversations walked too
    assert {typed: everything(store, typed) for typed in QUERIES} == whole
    monkeypatch.setattr(search, "PARTY_CANDIDATES", 10_000)
    assert {typed: everything(store, typed) for typed in QUERIES} == whole
    store.dispose()


@pytest.fixture(scope="module")
def sized_store(_pg_shared):
    """bench/make_store.py's store at 100,000 messages (the word "aquafit" in a few)."""
    from conftest import _create_pg_database, _drop_pg_database

    url = _create_pg_database()
    spec = importlib.util.spec_from_file_location("make_store", Path(__file__).resolve().parents[2] / "bench" / "make_store.py")
    make_store = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_store)
    make_store.build(url, clients=5_000, messages=100_000, seed=7)
    store = open_store(url, business_number=make_store.BUSINESS)
    yield store
    store.dispose()
    _drop_pg_database(url)


def plans(store, typed: str) -> list[str]:
    """The plan of every statement the search runs, as PostgreSQL would run it (but the
    newest id's, which reads one index entry)."""
    statements: list[tuple[str, object]] = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        found = SearchResults(store, parse(typed), FolderView.ALL, Filters(), page_size=50)
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert found.known >= 0
    with store.engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        out = []
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "max(message.id)" not in statement:
                cursor.execute("EXPLAIN " + statement, parameters)
                out.append("\n".join(row[0] for row in cursor.fetchall()))
        return out


@pytest.mark.parametrize("typed", ["aquafit", "0142", "zzzz"])
def test_a_rare_word_never_scans_the_message_table(sized_store, typed):
    explained = plans(sized_store, typed)
    assert explained
    for plan in explained:
        assert "Seq Scan on message" not in plan, plan
        for line in plan.splitlines():
            if "using message_pkey on message" in line and "Backward" in line:
                # A walk newest first is bounded: it covers the newest RECENT_WALK ids only.
                below = plan[plan.index(line) :].splitlines()[1]
                assert "Index Cond" in below and ">=" in below, plan
    assert any("Bitmap Index Scan on ix_message_body_tsv" in plan for plan in explained)
    hits = sized_store.search_messages(parse(typed))
    if typed == "aquafit":
        assert hits and all("aquafit" in sized_store.message(h.hit_message_id).body for h in hits)
        assert [h.hit_message_id for h in hits] == sorted((h.hit_message_id for h in hits), reverse=True)


def test_a_common_word_is_read_newest_first_from_the_walk_alone(sized_store):
    explained = plans(sized_store, "class")
    assert not any("ix_message_body_tsv" in plan for plan in explained)  # fifty hits among the newest
