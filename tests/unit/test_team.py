"""The team inbox in the store, on SQLite and PostgreSQL: assignment, internal notes,
alerts for every terminal, presence (issue "One front desk, several people")."""

from __future__ import annotations

import json

import pytest
from conftest import add_client, inbound, staff_send

from msgterm.domain.errors import PermissionDenied, ValidationError
from msgterm.domain.folders import Folder
from msgterm.domain.search_query import parse
from msgterm.domain.team import AlertRecord, AlertsFor, concerns, initials, mentioned
from msgterm.export import export_lines
from msgterm.store.records import Filters


@pytest.fixture
def maria(any_store):
    return any_store.add_staff("maria", "Maria Lopez", "Front Desk")[0]


@pytest.fixture
def alex(any_store):
    return any_store.add_staff("alex", "Alex Kim", "Front Desk")[0]


def conversation_with(store, n: int = 1, body: str = "hello") -> int:
    phone = store.client(add_client(store, n)).mobile_phone
    (cid,) = inbound(store, phone, body).changed_conversations
    return cid


def test_assignment_filters_and_events(any_store, maria, alex):
    first, second, third = (conversation_with(any_store, n) for n in (1, 2, 3))
    assert any_store.assign(maria, [first, second], alex) == 2
    assert any_store.assign(maria, [first], alex) == 0  # already: no event
    assert any_store.assign(alex, [third], maria) == 1
    record = any_store.conversation(first)
    assert (record.assignee_username, record.assignee_name) == ("alex", "Alex Kim")
    assert {c.id for c in any_store.conversations(filters=Filters(assignees=("ALEX",)))} == {first, second}
    assert {c.id for c in any_store.conversations(filters=Filters(unassigned=True))} == set()
    any_store.assign(alex, [second], None)
    assert {c.id for c in any_store.conversations(filters=Filters(unassigned=True))} == {second}
    assert any_store.folder_counts(Filters(assignees=("alex",)))[Folder.UNREAD] == 1
    # Assignment is no triage: the folder stays.
    assert any_store.conversation(first).folder is Folder.UNREAD
    # The search box's filters.
    mine = parse("is:mine", me="alex")
    assert [c.id for c in any_store.search_conversations(mine)] == [first]
    assert [c.id for c in any_store.search_conversations(parse("assignee:maria"))] == [third]
    assert [c.id for c in any_store.search_conversations(parse("is:unassigned"))] == [second]
    assert parse("is:mine").problems  # no staff member to stand for
    exported = [json.loads(line) for line in export_lines(any_store)]
    assigns = [(e["staff"], e["assignee"]) for e in exported if e.get("event") == "assign"]
    assert assigns == [("maria", "alex"), ("maria", "alex"), ("alex", "maria"), ("alex", None)]


def test_a_viewer_may_not_assign_or_write_notes(any_store, maria):
    viewer = any_store.add_staff("vic", "Vic Viewer", "Viewer")[0]
    cid = conversation_with(any_store)
    with pytest.raises(PermissionDenied, match="cannot assign conversations"):
        any_store.assign(viewer, [cid], maria)
    with pytest.raises(PermissionDenied, match="cannot write internal notes"):
        any_store.add_note(viewer, cid, "psst")
    assert any_store.conversation(cid).assignee_id is None
    assert [m.body for m in any_store.messages(cid)] == ["hello"]


def test_a_note_is_in_the_thread_search_and_export_but_never_a_message_for_the_folder_rules(any_store, maria):
    cid = conversation_with(any_store, body="is the pool open")
    inbound(any_store, any_store.conversation(cid).phone, "on sunday?")
    before = any_store.conversation(cid)
    note_id = any_store.add_note(maria, cid, "Aquafit regular; call back about the pool schedule")
    after = any_store.conversation(cid)
    assert (after.folder, after.unread_count, after.last_preview) == (before.folder, before.unread_count, before.last_preview)
    (note,) = [m for m in any_store.messages(cid) if m.note]
    assert (note.id, note.staff_username, note.sid) == (note_id, "maria", None)
    # Marking unread counts the client's messages since the last reply: the note is none of them.
    any_store.open_conversation(maria, cid)
    assert any_store.mark_unread(maria, cid).unread_count == 2
    staff_send(any_store, maria, cid, "yes, 9 to 5")
    assert any_store.conversation(cid).folder is Folder.REPLIED
    assert [hit.hit_message_id for hit in any_store.search_messages(parse("aquafit"))] == [note_id]
    (exported,) = [json.loads(line) for line in export_lines(any_store) if '"note"' in line]
    assert exported["kind"] == "note" and exported["staff"] == "maria" and exported["body"].startswith("Aquafit")
    assert "sid" not in exported and "direction" not in exported
    with pytest.raises(ValidationError, match="empty"):
        any_store.add_note(maria, cid, "   ")


def test_alerts_are_stored_for_every_terminal_with_the_assignee_at_reading(any_store, maria, alex):
    start = any_store.alert_seq()
    cid = conversation_with(any_store, body="can I book?")
    any_store.assign(maria, [cid], alex)
    any_store.add_note(maria, cid, "@alex can you take this one? cc @maria @nobody")
    alerts = any_store.alerts_since(start)
    assert [(a.kind, a.staff_id, a.assignee_id) for a in alerts[:1]] == [("inbound", None, alex.id)]
    assert sorted((a.kind, a.staff_id, a.assignee_id) for a in alerts[1:]) == [
        ("mention", maria.id, alex.id),
        ("mention", alex.id, alex.id),
    ]
    assert alerts[0].preview == "can I book?" and alerts[1].preview.startswith("Maria Lopez: @alex")
    assert any_store.alerts_since(alerts[-1].seq) == []


def test_who_an_alert_concerns():
    def alert(kind="inbound", staff_id=None, assignee_id=None):
        return AlertRecord(1, 1, kind, staff_id, "Ada", "hi", assignee_id)

    me, other = 1, 2
    for setting, unassigned, mine, others in (
        (AlertsFor.ALL, True, True, True),
        (AlertsFor.MINE, False, True, False),
        (AlertsFor.MINE_AND_UNASSIGNED, True, True, False),
    ):
        assert concerns(alert(), me, setting) is unassigned
        assert concerns(alert(assignee_id=me), me, setting) is mine
        assert concerns(alert(assignee_id=other), me, setting) is others
        assert concerns(alert("mention", staff_id=me, assignee_id=other), me, setting)
        assert not concerns(alert("mention", staff_id=other), me, setting)


def test_mentions_and_initials():
    assert mentioned("@Alex, ask @maria.lopez. mail me@example.com @alex") == ("alex", "maria.lopez")
    assert initials("Maria Lopez", "maria") == "ML"
    assert initials("Cher", "cher") == "CH"
    assert initials("", "al") == "AL"


def test_presence_expires_and_only_changes_reach_the_change_log(any_store, maria, alex, clock):
    cid = conversation_with(any_store)
    any_store.set_presence("t1", alex, cid, replying=False)
    assert [(p.full_name, p.replying) for p in any_store.present(cid, besides="t2")] == [("Alex Kim", False)]
    assert any_store.present(cid, besides="t1") == []  # one's own terminal is not "someone else"
    seq = any_store.change_seq()
    any_store.set_presence("t1", alex, cid, replying=False)  # a renewal: nothing for the others to read
    assert any_store.change_seq() == seq
    any_store.set_presence("t1", alex, cid, replying=True)
    assert any_store.changes_since(seq)[1] == {cid}
    assert [(p.full_name, p.replying) for p in any_store.present(cid, besides="t2")] == [("Alex Kim", True)]
    clock.advance(seconds=21)  # the terminal stopped renewing (it crashed)
    assert any_store.present(cid, besides="t2") == []
    any_store.set_presence("t3", maria, cid, replying=False)
    any_store.set_presence("t3", maria, None, replying=False)
    assert any_store.present(cid, besides="t2") == []
