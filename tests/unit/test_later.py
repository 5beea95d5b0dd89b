"""Templates, pins and snooze in the store, on SQLite and PostgreSQL; the times people type
and quiet hours (issue "Reply faster and at the right time")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import add_client, automated, inbound, staff_send

from msgterm.domain.errors import NotFound, PermissionDenied, ValidationError
from msgterm.domain.folders import Folder, FolderView, Triage
from msgterm.domain.templates import check_template, expand, unfilled, unfilled_spans
from msgterm.domain.when import QuietHours, parse_when, snooze_presets, to_local
from msgterm.export import export_lines

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def maria(any_store):
    return any_store.add_staff("maria", "Maria Lopez", "Front Desk")[0]


@pytest.fixture
def viewer(any_store):
    return any_store.add_staff("vic", "Vic Viewer", "Viewer")[0]


def conversation_with(store, n: int = 1, body: str = "hello", **client) -> int:
    phone = store.client(add_client(store, n, **client)).mobile_phone
    (cid,) = inbound(store, phone, body).changed_conversations
    return cid


# ---- templates -----------------------------------------------------------------------------------


def test_templates_are_shared_checked_and_expand_for_each_client(any_store, maria, viewer):
    any_store.save_template(maria, "confirm", "Hi {first_name}, your class at {home_location} is confirmed. {staff_first_name}")
    any_store.save_template(maria, "closed", "We're closed on Sunday.")
    assert [t.name for t in any_store.templates()] == ["closed", "confirm"]
    any_store.save_template(maria, "closed", "We're closed on Sundays.")  # saved again: replaced
    assert any_store.template("closed").body == "We're closed on Sundays."
    with pytest.raises(ValidationError, match=r"\{nickname\}.*the fields are \{first_name\}"):
        any_store.save_template(maria, "bad", "Hi {nickname}")
    with pytest.raises(ValidationError, match="stray brace"):
        any_store.save_template(maria, "bad", "Hi {first_name")
    with pytest.raises(PermissionDenied):
        any_store.save_template(viewer, "mine", "Hello")
    assert "bad" not in [t.name for t in any_store.templates()]

    known = conversation_with(any_store, 1, first_name="Ada", last_name="Byron", home_location="Downtown")
    bare = conversation_with(any_store, 2, first_name="", last_name="Solo", home_location=None)
    body = any_store.template("confirm").body
    ada = expand(body, any_store.merge_values_for(maria, known))
    assert ada == "Hi Ada, your class at Downtown is confirmed. Maria"
    solo = expand(body, any_store.merge_values_for(maria, bare))
    assert solo == "Hi {first_name}, your class at {home_location} is confirmed. Maria"
    assert unfilled(solo) == ("first_name", "home_location")
    assert [solo[a:b] for a, b in unfilled_spans(solo)] == ["{first_name}", "{home_location}"]

    any_store.remove_template(maria, "closed")
    with pytest.raises(NotFound, match="there is no template 'closed'; the templates are: confirm"):
        any_store.template("closed")


def test_a_template_with_an_unknown_field_or_nothing_in_it_is_refused():
    assert check_template(" hi ", "Hello {full_name}").name == "hi"
    for name, body in (("", "x"), ("x", "  "), ("x", "{first_name!r}"), ("x", "{first_name:>9}"), ("x", "{0}")):
        with pytest.raises(ValidationError):
            check_template(name, body)


# ---- pins ----------------------------------------------------------------------------------------


def test_pinned_conversations_are_read_apart_and_pinning_is_an_event(any_store, maria, clock):
    ids = []
    for n in range(1, 5):
        ids.append(conversation_with(any_store, n))
        clock.advance(minutes=1)
    oldest, _, _, newest = ids
    assert any_store.set_pinned(maria, [oldest], True) == 1
    assert any_store.set_pinned(maria, [oldest], True) == 0  # already pinned: no event
    assert [c.id for c in any_store.conversations(FolderView.UNREAD, pinned=True)] == [oldest]
    assert [c.id for c in any_store.conversations(FolderView.UNREAD, pinned=False)] == list(reversed(ids[1:]))
    assert any_store.conversation(oldest).pinned and not any_store.conversation(newest).pinned
    any_store.archive(maria, oldest)  # a pin belongs to the conversation, in whichever folder
    assert [c.id for c in any_store.conversations(FolderView.ARCHIVED, pinned=True)] == [oldest]
    assert any_store.conversations(FolderView.UNREAD, pinned=True) == []
    any_store.set_pinned(maria, [oldest], False)
    kinds = [json.loads(line).get("event") for line in export_lines(any_store)]
    assert kinds.count("pin") == 1 and kinds.count("unpin") == 1


# ---- snooze --------------------------------------------------------------------------------------


def test_a_snooze_leaves_the_folder_and_comes_back_to_unread_at_its_time_with_an_alert(any_store, maria, clock):
    cid = conversation_with(any_store, 1)
    any_store.open_conversation(maria, cid)
    until = clock() + timedelta(hours=3)
    undoable = any_store.triage(maria, Triage.SNOOZE, [cid], until=until)
    record = any_store.conversation(cid)
    assert record.folder is Folder.SNOOZED and record.snoozed_until == until
    assert any_store.folder_counts()[FolderView.SNOOZED] == 1
    assert [c.id for c in any_store.conversations(FolderView.SNOOZED)] == [cid]
    seen = any_store.alert_seq()
    clock.advance(hours=2, minutes=59)
    assert any_store.end_due_snoozes() == []
    clock.advance(minutes=1)
    assert any_store.end_due_snoozes() == [cid]
    record = any_store.conversation(cid)
    assert record.folder is Folder.UNREAD and record.snoozed_until is None
    (alert,) = any_store.alerts_since(seen)
    assert (alert.kind, alert.conversation_id, alert.preview) == ("inbound", cid, "Snooze ended: back in Unread")
    assert any_store.end_due_snoozes() == []  # once
    events = [json.loads(line) for line in export_lines(any_store) if '"event"' in line]
    snooze = next(e for e in events if e["event"] == "snooze")
    assert snooze["until"] == until.isoformat() + "Z" and snooze["staff"] == "maria"
    assert "snooze_ended" in [e["event"] for e in events]
    assert undoable.priors[0].state.folder is Folder.READ


def test_a_new_inbound_ends_a_snooze_at_once_and_a_muted_one_comes_back_quietly(any_store, maria, clock):
    cid = conversation_with(any_store, 1)
    quiet = conversation_with(any_store, 2)
    any_store.set_muted(maria, quiet, True)
    any_store.triage(maria, Triage.SNOOZE, [cid, quiet], until=clock() + timedelta(hours=1))
    inbound(any_store, any_store.conversation(cid).phone, "are you there?")
    assert any_store.conversation(cid).folder is Folder.UNREAD
    automated(any_store, any_store.conversation(quiet).phone)  # another system's text: still snoozed
    assert any_store.conversation(quiet).folder is Folder.SNOOZED
    seen = any_store.alert_seq()
    clock.advance(hours=1)
    assert any_store.end_due_snoozes() == [quiet]  # the one the client ended is not woken again
    assert any_store.conversation(quiet).folder is Folder.UNREAD
    assert any_store.alerts_since(seen) == []  # muted: no alert


def test_undoing_a_snooze_puts_the_conversations_back(any_store, maria, clock, viewer):
    first, second = conversation_with(any_store, 1), conversation_with(any_store, 2)
    staff_send(any_store, maria, second)
    undoable = any_store.triage(maria, Triage.SNOOZE, [first, second], until=clock() + timedelta(days=1))
    assert {any_store.conversation(c).folder for c in (first, second)} == {Folder.SNOOZED}
    with pytest.raises(PermissionDenied):
        any_store.triage(viewer, Triage.SNOOZE, [first], until=clock() + timedelta(days=1))
    undone = any_store.undo(maria, undoable)
    assert undone.restored == 2
    assert any_store.conversation(first).folder is Folder.UNREAD
    assert any_store.conversation(second).folder is Folder.REPLIED
    clock.advance(days=1)
    assert any_store.end_due_snoozes() == []  # undone: nothing comes back


# ---- times people type, snooze's presets, quiet hours ---------------------------------------------


NOW = datetime(2026, 12, 8, 15, 10)  # UTC: Tuesday 10:10 in New York


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("tomorrow 9am", datetime(2026, 12, 9, 9, 0)),
        ("mon 17:30", datetime(2026, 12, 14, 17, 30)),
        ("in 2h", datetime(2026, 12, 8, 12, 10)),
        ("in 30 min", datetime(2026, 12, 8, 10, 40)),
        ("2026-12-09T09:00", datetime(2026, 12, 9, 9, 0)),
        ("2026-12-09T09:00Z", datetime(2026, 12, 9, 4, 0)),
        ("9am", datetime(2026, 12, 9, 9, 0)),
    ],
)
def test_the_forms_people_type_are_local_times_to_come(typed, local):
    assert to_local(parse_when(typed, NOW, NEW_YORK), NEW_YORK).replace(tzinfo=None) == local


@pytest.mark.parametrize(("typed", "says"), [("", "say when"), ("soonish", "not a time"), ("yesterday", "has passed")])
def test_what_is_not_a_time_to_come_is_refused_in_words(typed, says):
    with pytest.raises(ValidationError, match=says):
        parse_when(typed, NOW, NEW_YORK)


def test_snooze_presets_are_local_times():
    local = [to_local(at, NEW_YORK).replace(tzinfo=None) for _label, at in snooze_presets(NOW, NEW_YORK)]
    assert local == [
        datetime(2026, 12, 8, 11, 10),
        datetime(2026, 12, 8, 18, 0),
        datetime(2026, 12, 9, 9, 0),
        datetime(2026, 12, 14, 9, 0),
    ]
    late = snooze_presets(NOW + timedelta(hours=10), NEW_YORK)  # 20:10: this evening is tomorrow's
    assert to_local(late[1][1], NEW_YORK).replace(tzinfo=None) == datetime(2026, 12, 9, 18, 0)


def test_quiet_hours_across_midnight_and_where_they_end():
    quiet = QuietHours.parse("21:00-08:00")
    inside = datetime(2026, 12, 9, 3, 0)  # UTC: 22:00 in New York
    assert quiet.contains(inside, NEW_YORK) and not quiet.contains(NOW, NEW_YORK)
    assert to_local(quiet.end_after(inside, NEW_YORK), NEW_YORK).replace(tzinfo=None) == datetime(2026, 12, 9, 8, 0)
    assert quiet.end_after(NOW, NEW_YORK) == NOW
    day = QuietHours.parse("12:00-13:00")
    assert day.contains(datetime(2026, 12, 8, 17, 30), NEW_YORK)
    for bad in ("21-08", "25:00-08:00", "08:00-08:00", "evening"):
        with pytest.raises(ValidationError):
            QuietHours.parse(bad)
