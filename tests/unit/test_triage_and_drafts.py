"""Triage of many conversations in one transaction, its undo, and drafts, on SQLite and
PostgreSQL (PRODUCT.md §1 and the issue "Act on what you see")."""

from __future__ import annotations

import json

import pytest
from conftest import add_client, inbound, staff_send

from msgterm.domain import folders
from msgterm.domain.errors import PermissionDenied
from msgterm.domain.folders import ConversationState, Folder, Triage
from msgterm.export import export_lines


@pytest.fixture
def desk(any_store):
    return any_store.add_staff("desk", "Dee Desk", "Front Desk")[0]


def unread_conversations(store, n: int, messages: int = 1) -> list[int]:
    ids = []
    for i in range(1, n + 1):
        phone = store.client(add_client(store, i)).mobile_phone
        for _ in range(messages):
            (cid,) = inbound(store, phone, f"hi {i}").changed_conversations
        ids.append(cid)
    return ids


def states(store, ids):
    return [(c.folder, c.unread_count, c.muted) for c in (store.conversation(cid) for cid in ids)]


def test_rule_undone_puts_back_the_state_when_nothing_arrived():
    before = ConversationState(Folder.UNREAD, 3, False)
    assert folders.undone(before, ConversationState(Folder.ARCHIVED, 0, True), 0) == before


def test_rule_undone_keeps_new_messages_in_sight():
    archived_then_written = ConversationState(Folder.UNREAD, 1, False)
    assert folders.undone(ConversationState(Folder.REPLIED, 0, True), archived_then_written, 1) == ConversationState(
        Folder.UNREAD, 1, True
    )
    # Undoing the read of opening after a new message: unread, counting both.
    assert folders.undone(ConversationState(Folder.UNREAD, 3, False), ConversationState(Folder.UNREAD, 1, False), 1) == (
        ConversationState(Folder.UNREAD, 4, False)
    )


def test_bulk_archive_is_one_action_and_one_undo_puts_every_one_back(any_store, desk):
    ids = unread_conversations(any_store, 6, messages=2)
    staff_send(any_store, desk, ids[0], "answered")  # one of them Replied
    any_store.set_muted(desk, ids[1], True)
    before = states(any_store, ids)
    done = any_store.triage(desk, Triage.ARCHIVE, ids)
    assert sorted(done.conversation_ids) == sorted(ids)
    assert all(folder is Folder.ARCHIVED for folder, _n, _m in states(any_store, ids))
    undone = any_store.undo(desk, done)
    assert undone.restored == 6 and undone.kept_new == ()
    assert states(any_store, ids) == before
    kinds = [e.kind for e in any_store.events(ids[2])]
    assert kinds[-2:] == ["archive", "undo"] and any_store.events(ids[2])[-1].detail == "archive"


def test_only_what_changed_is_undone(any_store, desk):
    ids = unread_conversations(any_store, 3)
    any_store.archive(desk, ids[0])
    done = any_store.triage(desk, Triage.ARCHIVE, ids)
    assert sorted(done.conversation_ids) == sorted(ids[1:])  # the first was archived already


@pytest.mark.parametrize(
    ("action", "prepare"),
    [
        (Triage.READ, None),
        (Triage.MUTE, None),
        (Triage.UNMUTE, Triage.MUTE),
        (Triage.MARK_UNREAD, Triage.READ),
        (Triage.ARCHIVE, None),
    ],
)
def test_each_action_is_undone_exactly(any_store, desk, action, prepare):
    (cid,) = unread_conversations(any_store, 1, messages=3)
    if prepare is not None:
        any_store.triage(desk, prepare, [cid])
    before = states(any_store, [cid])
    done = any_store.triage(desk, action, [cid])
    assert states(any_store, [cid]) != before
    any_store.undo(desk, done)
    assert states(any_store, [cid]) == before


def test_undo_after_a_new_inbound_leaves_it_unread_and_says_so(any_store, desk):
    (cid,) = unread_conversations(any_store, 1)
    any_store.open_conversation(desk, cid)
    done = any_store.triage(desk, Triage.ARCHIVE, [cid])
    inbound(any_store, any_store.conversation(cid).phone, "one more thing")
    undone = any_store.undo(desk, done)
    assert undone.kept_new == (cid,)
    assert states(any_store, [cid]) == [(Folder.UNREAD, 1, False)]


def test_a_viewer_bulk_action_is_refused_and_nothing_changes(any_store, desk):
    viewer = any_store.add_staff("viewer", "Vic Viewer", "Viewer")[0]
    ids = unread_conversations(any_store, 4)
    before = states(any_store, ids)
    for action in (Triage.ARCHIVE, Triage.MUTE, Triage.MARK_UNREAD):
        with pytest.raises(PermissionDenied):
            any_store.triage(viewer, action, ids)
    assert any_store.triage(viewer, Triage.READ, ids).priors == ()  # a Viewer's opening marks nothing read
    assert states(any_store, ids) == before
    done = any_store.triage(desk, Triage.ARCHIVE, ids)
    with pytest.raises(PermissionDenied):
        any_store.undo(viewer, done)


def test_the_undo_is_in_the_export(any_store, desk):
    (cid,) = unread_conversations(any_store, 1)
    any_store.undo(desk, any_store.triage(desk, Triage.MUTE, [cid]))
    records = [json.loads(line) for line in export_lines(any_store)]
    undo = [r for r in records if r.get("event") == "undo"]
    assert undo == [{**undo[0], "event": "undo", "undid": "mute", "staff": "desk"}]


def test_a_draft_is_kept_per_staff_and_conversation_and_a_send_removes_it(any_store, desk):
    other = any_store.add_staff("max", "Max Desk", "Front Desk")[0]
    first, second = unread_conversations(any_store, 2)
    any_store.save_draft(desk, first, "Your 6pm spin is booked")
    any_store.save_draft(desk, first, "Your 6pm spin is booked!\nSee you")
    assert any_store.draft(desk, first) == "Your 6pm spin is booked!\nSee you"
    assert any_store.draft(desk, second) == "" and any_store.draft(other, first) == ""
    assert any_store.draft_ids(desk) == {first} and any_store.draft_ids(other) == frozenset()
    any_store.save_draft(desk, second, "   ")  # blank: no draft
    assert any_store.draft_ids(desk) == {first}
    staff_send(any_store, desk, first, "Your 6pm spin is booked!")
    assert any_store.draft(desk, first) == "" and any_store.draft_ids(desk) == frozenset()
