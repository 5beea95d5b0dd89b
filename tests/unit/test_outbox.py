"""The Outbox, on SQLite and PostgreSQL: which conversations it lists, and why each
(issue "Everything a message carries…", point 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import BUSINESS, add_client, inbound

from msgterm.domain.folders import FolderView
from msgterm.domain.provider_message import ProviderMessage
from msgterm.domain.search_query import parse
from msgterm.store.search import SearchResults


@pytest.fixture
def desk(any_store):
    return any_store.add_staff("desk", "Dee Desk", "Front Desk")[0]


def conversation(store, n: int) -> int:
    (cid,) = inbound(store, store.client(add_client(store, n)).mobile_phone, "hi").changed_conversations
    return cid


def taken(store, staff, cid: int, body: str, status: str) -> int:
    """A send Twilio took, with ``status``."""
    message = store.begin_send(staff, cid, body)
    now = store.clock()
    sid = f"SM{message.id:032d}"
    accepted = ProviderMessage(sid, "outbound", BUSINESS, message.to_number, body, status, now, now)
    return store.finish_send(staff, message.id, accepted).id


def test_the_outbox_lists_our_undelivered_sends_and_says_why(any_store, desk, clock):
    failed, delivered, queued, waiting, old, theirs = (conversation(any_store, n) for n in range(1, 7))
    refused = any_store.begin_send(desk, failed, "Your class is at 6")
    any_store.fail_send(refused.id, 30007, "Carrier violation")
    taken(any_store, desk, delivered, "Booked", "delivered")
    taken(any_store, desk, queued, "On its way", "queued")
    any_store.schedule_send(desk, waiting, "Tomorrow", clock() + timedelta(days=1))
    stale = any_store.begin_send(desk, old, "Last week")
    any_store.fail_send(stale.id, None, "no answer")
    phone = any_store.conversation(theirs).phone
    at = clock()
    any_store.ingest([ProviderMessage("SM" + "9" * 32, "outbound", BUSINESS, phone, "Reminder", "undelivered", at, at)])

    clock.advance(days=8)  # the stale failure is past the Outbox's week...
    # ...and the rest is re-dated to now: failures stay, the queued one waits 10 minutes.
    refused = any_store.begin_send(desk, failed, "Your class is at 6 (again)")
    any_store.fail_send(refused.id, 30007, "Carrier violation")
    taken(any_store, desk, queued, "On its way", "queued")
    any_store.schedule_send(desk, waiting, "Tomorrow", clock() + timedelta(days=1))
    outbox = [c.id for c in any_store.conversations(FolderView.OUTBOX)]
    assert set(outbox) == {failed, waiting}
    assert any_store.folder_counts()[FolderView.OUTBOX] == 2
    clock.advance(minutes=11)  # taken, and not delivered after ten minutes
    assert set(c.id for c in any_store.conversations(FolderView.OUTBOX)) == {failed, waiting, queued}
    reasons = any_store.outbox_reasons([failed, waiting, queued, delivered])
    assert (reasons[failed].status, reasons[failed].error_code) == ("failed", 30007)
    assert reasons[waiting].status == "scheduled" and reasons[queued].status == "queued"
    assert delivered not in reasons
    assert [c.id for c in SearchResults(any_store, parse("is:failed")).rows(0, 10)] == [failed]
    assert {c.id for c in SearchResults(any_store, parse("is:pending")).rows(0, 10)} == {waiting, queued}
    # A retry that goes out takes the conversation out of the Outbox once delivered.
    again = any_store.restart_send(desk, refused.id)
    now = clock()
    sid = "SM" + "8" * 32
    accepted = ProviderMessage(sid, "outbound", BUSINESS, again.to_number, again.body, "delivered", now, now)
    any_store.finish_send(desk, again.id, accepted)
    assert failed not in {c.id for c in any_store.conversations(FolderView.OUTBOX)}
