"""Search and filters (PRODUCT.md §4): the query language, full-text hits, every filter, exactly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import BUSINESS, add_client, inbound, staff_send
from sqlalchemy import text

from msgterm.domain.folders import FolderView
from msgterm.domain.provider_message import ProviderMessage
from msgterm.domain.search_query import parse
from msgterm.store.records import Filters
from msgterm.store.search import SearchResults


@pytest.fixture
def store(any_store):
    """Every search test runs on SQLite (FTS5) and PostgreSQL (tsvector and trigram)."""
    return any_store


# ---- the query language ------------------------------------------------------------------


def test_query_splits_filters_from_words():
    query = parse(
        'yoga  is:unread type:member type:Prospect group:"yoga regulars" location:downtown after:2026-10-01 before:2026-11-01 "front desk"'
    )
    assert query.words == ("yoga", "front", "desk")
    assert query.view is FolderView.UNREAD
    assert query.client_types == ("member", "Prospect")
    assert query.groups == ("yoga regulars",)
    assert query.locations == ("downtown",)
    assert (query.after, query.before) == (date(2026, 10, 1), date(2026, 11, 1))
    assert query.problems == ()


def test_query_reports_what_it_cannot_understand_and_keeps_the_rest():
    query = parse("is:sleeping after:yesterday type: pool")
    assert query.words == ("pool",)
    assert query.view is None and query.after is None
    assert query.problems == (
        "is:sleeping is not known; use is:unread, is:replied, is:archived, is:snoozed, is:outbox, is:failed, is:pending, is:muted, is:mine or is:unassigned",
        "after:yesterday is not a date; write it as after:2026-10-01",
        "type: needs a value, as in type:member",
    )


def test_unknown_keys_and_punctuation_are_words():
    query = parse("re:booking (212) 555-0142 is:muted")
    assert query.words == ("re:booking", "(212)", "555-0142")
    assert query.muted_only
    assert query.tokens == ("re", "booking", "212", "555", "0142")
    assert query.fragments == ("re:booking", "212", "5550142")


# ---- a small front desk --------------------------------------------------------------------


@pytest.fixture
def desk(store, clock, manager):
    """Ada (Member, VIP + Yoga regulars, Downtown), Bob (Prospect, Uptown), an unknown sender."""
    ada = add_client(
        store,
        1,
        first_name="Ada",
        last_name="Lovelace",
        mobile_phone="+12125550142",
        email="ada@example.com",
        uid="CARD-77",
        client_id="AL-1",
        client_type="Member",
        groups=("VIP", "Yoga regulars"),
        home_location="Downtown",
    )
    bob = add_client(
        store,
        2,
        first_name="Bob",
        last_name="Brown",
        mobile_phone="+12125550233",
        email="bob@example.org",
        uid="CARD-88",
        client_id="BB-2",
        client_type="Prospect",
        groups=(),
        home_location="Uptown",
    )
    inbound(store, "+12125550142", "Can I book the yoga class tomorrow?", at=clock.advance(days=-30))
    inbound(store, "+12125550233", "Is the pool open on Sunday?", at=clock.advance(days=10))
    ada_conv = store.conversation_for_client(ada).id
    clock.advance(days=5)
    reply = staff_send(store, manager, ada_conv, "Yes, Yoga at 9 with Café crew")
    inbound(store, "+12125550399", "Who is this? I got a text from 0142", at=clock.advance(days=5))
    inbound(store, "+12125550233", "Never mind, found the pool times", at=clock.advance(days=5))
    return dict(
        ada=ada_conv, bob=store.conversation_for_client(bob).id, unknown=_conv_by_phone(store, "+12125550399"), reply=reply.id
    )


def _conv_by_phone(store, phone):
    return next(c.id for c in store.conversations(limit=100) if c.phone == phone)


def _hits(store, typed, view=FolderView.ALL, filters=Filters()):
    results = SearchResults(store, parse(typed), view, filters)
    return [(hit.id, hit.hit_message_id and store.message(hit.hit_message_id).body) for hit in results.rows(0, 500)]


def test_words_find_messages_newest_first_with_the_matching_message(store, desk):
    assert _hits(store, "yoga") == [
        (desk["ada"], "Yes, Yoga at 9 with Café crew"),
        (desk["ada"], "Can I book the yoga class tomorrow?"),
    ]
    assert _hits(store, "pool") == [
        (desk["bob"], "Never mind, found the pool times"),
        (desk["bob"], "Is the pool open on Sunday?"),
    ]
    assert _hits(store, "pool sunday") == [(desk["bob"], "Is the pool open on Sunday?")]
    assert _hits(store, "swimming") == []


def test_the_last_word_is_a_prefix_and_accents_do_not_matter(store, desk):
    assert _hits(store, "yog") == _hits(store, "yoga")
    assert _hits(store, "cafe") == [(desk["ada"], "Yes, Yoga at 9 with Café crew")]
    assert _hits(store, "tom") == [(desk["ada"], "Can I book the yoga class tomorrow?")]


#: Cases of one store each run in a loop (building the store is most of a test's time);
#: each assertion names its case.
FRAGMENTS = ["lovel", "Ada Love", "ada@example", "CARD-77", "card-77", "al-1", "0142", "555-0142", "(212) 555-0142"]


def test_a_client_is_found_by_any_fragment_of_name_email_uid_client_id_or_number(store, desk):
    for typed in FRAGMENTS:
        hits = _hits(store, typed)
        assert hits[0] == (desk["ada"], None), typed
        assert [h for h in hits if h[1] is None] == [(desk["ada"], None)], typed


def test_a_number_fragment_finds_the_client_the_unknown_sender_and_the_message_naming_it(store, desk):
    assert _hits(store, "0142") == [(desk["ada"], None), (desk["unknown"], "Who is this? I got a text from 0142")]
    assert _hits(store, "0399") == [(desk["unknown"], None)]


def test_search_follows_the_folder_and_the_sidebar_filters(store, desk):
    assert _hits(store, "yoga", FolderView.UNREAD) == []
    assert _hits(store, "yoga", FolderView.REPLIED) == [
        (desk["ada"], "Yes, Yoga at 9 with Café crew"),
        (desk["ada"], "Can I book the yoga class tomorrow?"),
    ]
    assert _hits(store, "pool", FolderView.ALL, Filters(client_types=("Member",))) == []
    assert _hits(store, "pool type:prospect", FolderView.ALL, Filters(locations=("Uptown",))) == [
        (desk["bob"], "Never mind, found the pool times"),
        (desk["bob"], "Is the pool open on Sunday?"),
    ]


def test_the_query_folder_overrides_the_current_folder(store, desk):
    assert _hits(store, "is:replied yoga", FolderView.UNREAD) == _hits(store, "yoga", FolderView.REPLIED)


FILTER_EXPRESSIONS = [
    ("is:unread", ["bob", "unknown"]),  # newest activity first
    ("is:replied", ["ada"]),
    ("is:unread group:vip", []),
    ("group:vip", ["ada"]),
    ('group:"yoga regulars"', ["ada"]),
    ("group:vip group:nobody", ["ada"]),
    ("type:member", ["ada"]),
    ("type:PROSPECT", ["bob"]),
    ("type:member type:prospect", ["bob", "ada"]),
    ("location:uptown", ["bob"]),
    ("location:downtown type:prospect", []),
    ("is:muted", ["bob"]),
    ("after:2026-11-01", ["bob", "unknown", "ada"]),
    ("before:2026-10-20", []),
    ("after:2026-10-01 before:2026-11-10", ["ada"]),
]


def test_filter_expressions_without_words_list_exactly_the_matching_conversations(store, desk, manager):
    store.set_muted(manager, desk["bob"], True)
    for typed, expected in FILTER_EXPRESSIONS:
        got = [hit.id for hit in SearchResults(store, parse(typed)).rows(0, 100)]
        assert got == [desk[name] for name in expected], typed


def test_date_filters_in_search_apply_to_the_matching_messages(store, desk, clock):
    # The first Ada message is 2026-10-21, the reply 2026-11-05 (T0 = 2026-11-20).
    assert _hits(store, "yoga before:2026-11-01") == [(desk["ada"], "Can I book the yoga class tomorrow?")]
    assert _hits(store, "yoga after:2026-11-01") == [(desk["ada"], "Yes, Yoga at 9 with Café crew")]


def test_sidebar_filters_narrow_the_list_and_the_folder_counts(store, desk, manager):
    store.set_muted(manager, desk["bob"], True)
    assert [c.id for c in store.conversations(FolderView.ALL, Filters(groups=("VIP", "nothing")))] == [desk["ada"]]
    assert [c.id for c in store.conversations(FolderView.ALL, Filters(client_types=("Prospect", "Member")))] == [
        desk["bob"],
        desk["ada"],
    ]
    assert [c.id for c in store.conversations(FolderView.ALL, Filters(locations=("Downtown",)))] == [desk["ada"]]
    assert [c.id for c in store.conversations(FolderView.ALL, Filters(muted_only=True))] == [desk["bob"]]
    since = store.clock() - timedelta(days=3)  # the clock stands at the last message, Nov 15
    assert [c.id for c in store.conversations(FolderView.ALL, Filters(since=since))] == [desk["bob"]]
    counts = store.folder_counts(Filters(locations=("Uptown", "Downtown")))
    assert (counts[FolderView.UNREAD], counts[FolderView.REPLIED], counts[FolderView.ARCHIVED], counts[FolderView.ALL]) == (
        1,
        1,
        0,
        2,
    )


def test_the_index_follows_new_changed_and_deleted_bodies(store, desk, clock):
    inbound(store, "+12125550233", "Zumba on Friday?", at=clock.advance(minutes=1))
    assert [h[1] for h in _hits(store, "zumba")] == ["Zumba on Friday?"]
    with store.write() as conn:
        conn.execute(text("UPDATE message SET body = 'Pilates on Friday?' WHERE body = 'Zumba on Friday?'"))
    assert _hits(store, "zumba") == []
    assert [h[1] for h in _hits(store, "pilates")] == ["Pilates on Friday?"]
    with store.write() as conn:
        conn.execute(text("DELETE FROM message WHERE body = 'Pilates on Friday?'"))
    assert _hits(store, "pilates") == []


def test_the_client_index_follows_a_re_import(store, desk):
    add_client(
        store,
        1,
        first_name="Ada",
        last_name="Byron",
        mobile_phone="+12125550142",
        email="ada@example.com",
        uid="CARD-77",
        client_id="AL-1",
        client_type="Member",
        groups=("VIP",),
        home_location="Downtown",
    )
    assert _hits(store, "byron")[0] == (desk["ada"], None)
    assert [h for h in _hits(store, "lovelace") if h[1] is None] == []


def test_results_are_paged_by_keyset_without_gaps_or_repeats(store, clock):
    for n in range(130):
        inbound(store, f"+1212555{1000 + n % 7:04d}", f"class {n} booked", at=clock.advance(minutes=1))
    results = SearchResults(store, parse("booked"), page_size=50)
    assert results.known == 50 and not results.complete
    bodies = [store.message(hit.hit_message_id).body for hit in results.rows(0, 200)]
    assert bodies == [f"class {n} booked" for n in reversed(range(130))]
    assert results.complete


def test_hostile_query_text_is_only_ever_searched_for(store, desk):
    for typed in ['"', 'yoga"', "NEAR(yoga pool)", "yoga OR pool", "*", "-yoga", "a:b:c", "%", "_", "'; DROP TABLE message; --"]:
        SearchResults(store, parse(typed)).rows(0, 10)
    assert _hits(store, "yoga OR pool") == []
    assert store.message_count() == 5


def test_messages_sent_from_msgterm_are_searchable_at_once(store, desk, manager):
    staff_send(store, manager, desk["bob"], "Aquafit moved to Thursday")
    assert _hits(store, "aquafit") == [(desk["bob"], "Aquafit moved to Thursday")]


def test_times_from_the_poller_and_from_sends_are_stored_alike(tmp_path, clock, manager_on_sqlite):
    """Keyset windows compare stored times as text on SQLite: every writer must store one format."""
    store, manager = manager_on_sqlite
    inbound(store, "+12125550142", "hello")
    staff_send(store, manager, store.conversations()[0].id, "hi back")
    with store.read() as conn:
        stored = conn.exec_driver_sql("SELECT DISTINCT typeof(created_at) FROM message").scalars().all()
    assert stored == ["integer"]  # microseconds since 1970 (msgterm.store.types)


def test_pages_read_from_either_end_agree(store, clock):
    for n in range(57):
        inbound(store, f"+1212555{1000 + n:04d}", f"hello {n}", at=clock.advance(minutes=1 if n % 3 else 0))
    everything = [c.id for c in store.conversations(limit=100)]
    paged = [c.id for offset in range(0, 57, 10) for c in store.conversations(offset=offset, limit=10, total=57)]
    assert paged == everything and len(everything) == 57


@pytest.fixture
def manager_on_sqlite(tmp_path, clock):
    from msgterm.store import open_store

    store = open_store(tmp_path / "formats.db", clock=clock, business_number=BUSINESS)
    yield store, store.add_staff("manager", "Mona Manager", "Manager")[0]
    store.dispose()


def test_a_first_sync_stores_history_so_that_search_lists_newest_first(store, clock, monkeypatch):
    """The provider lists newest first, a page at a time, and history is stored as it comes,
    newest batch first; row ids must still follow time."""
    from msgterm.sync import cycle
    from msgterm.sync.poller import Poller

    monkeypatch.setattr(cycle, "INGEST_BATCH", 3)  # four batches, the newest stored first

    class Log:
        def list_messages(self, **days):
            messages = [
                ProviderMessage(
                    f"SM{n:032d}",
                    "inbound",
                    "+12125550142",
                    BUSINESS,
                    f"class {n}",
                    "received",
                    clock() - timedelta(hours=10 - n),
                    clock() - timedelta(hours=10 - n),
                )
                for n in range(10)
            ][::-1]
            yield from (messages[i : i + 3] for i in range(0, 10, 3))

        def message_status(self, sid):
            raise AssertionError("nothing to refresh")

    Poller(store, Log()).poll_once()
    assert [hit.last_preview for hit in SearchResults(store, parse("class")).rows(0, 20)] == [
        f"class {n}" for n in reversed(range(10))
    ]


def test_filtered_pages_read_along_the_activity_order_are_exactly_the_matching_conversations(store, clock):
    """Given the total, the first pages of a broad filter are read along the activity order,
    testing each conversation; every page must hold exactly what reading from the clients gives."""
    members, prospects = [], []
    for n in range(60):
        client_type, group = ("Member", ("VIP",)) if n % 3 else ("Prospect", ())
        pk = add_client(
            store,
            100 + n,
            mobile_phone=f"+1212555{2000 + n:04d}",
            client_type=client_type,
            groups=group,
            home_location="Downtown" if n % 2 else "Uptown",
        )
        inbound(store, f"+1212555{2000 + n:04d}", f"hello {n}", at=clock.advance(minutes=1 if n % 4 else 0))
        (members if n % 3 else prospects).append((n, store.conversation_for_client(pk).id))
    for filters in (
        Filters(client_types=("member",)),
        Filters(groups=("VIP",)),
        Filters(locations=("Downtown",), client_types=("Member",)),
    ):
        total = store.folder_counts(filters)[FolderView.ALL]
        from_clients = [c.id for c in store.conversations(FolderView.ALL, filters, limit=100)]
        along = [
            c.id
            for offset in range(0, total, 3)
            for c in store.conversations(FolderView.ALL, filters, offset=offset, limit=3, total=total)
        ]
        assert along == from_clients and len(from_clients) == total
    newest_first = [cid for _n, cid in reversed(members)]  # every minute but each fourth
    assert [
        c.id for c in store.conversations(FolderView.ALL, Filters(client_types=("Member",)), limit=3, total=40)
    ] == newest_first[:3]


def test_the_new_conversation_picker_finds_a_client_by_any_of_their_details(store):
    add_client(store, 1, first_name="Ada", last_name="Lovelace")
    add_client(store, 2, first_name="Grace", last_name="Hopper")
    for query in ["Grace Hop", "hopper", "555 0202", "(212) 555-0202", "client2@example", "UID002", "c002"]:
        assert [c.name for c in store.find_clients(query)] == ["Grace Hopper"], query
