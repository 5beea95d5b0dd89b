"""Every row of PRODUCT.md §1's folder table, as a pure rule and through the store."""

from __future__ import annotations

from conftest import add_client, automated, inbound, staff_send

from msgterm.domain import folders
from msgterm.domain.folders import ConversationState, Folder, FolderView

UNREAD_2 = ConversationState(Folder.UNREAD, 2, False)
ARCHIVED = ConversationState(Folder.ARCHIVED, 0, False)


# ---- the pure rules -----------------------------------------------------------------------


def test_rule_inbound_goes_unread_counts_and_alerts():
    outcome = folders.inbound_message(ConversationState(Folder.REPLIED, 0, False))
    assert outcome.state == ConversationState(Folder.UNREAD, 1, False)
    assert outcome.alert is True


def test_rule_inbound_when_muted_moves_but_does_not_alert():
    outcome = folders.inbound_message(ConversationState(Folder.READ, 0, True))
    assert outcome.state == ConversationState(Folder.UNREAD, 1, True)
    assert outcome.alert is False


def test_rule_staff_outbound_goes_replied_and_clears_unread():
    assert folders.staff_outbound_message(UNREAD_2).state == ConversationState(Folder.REPLIED, 0, False)


def test_rule_automated_outbound_changes_nothing():
    assert folders.automated_outbound_message(UNREAD_2).state == UNREAD_2
    assert folders.automated_outbound_message(ARCHIVED).state == ARCHIVED


def test_rule_opening_unread_makes_it_read():
    assert folders.opened(UNREAD_2).state == ConversationState(Folder.READ, 0, False)
    replied = ConversationState(Folder.REPLIED, 0, False)
    assert folders.opened(replied).state == replied


def test_rule_mark_unread_counts_given_messages():
    assert folders.marked_unread(ConversationState(Folder.REPLIED, 0, False), 3).state == ConversationState(
        Folder.UNREAD, 3, False
    )


def test_rule_archive():
    assert folders.archived(UNREAD_2).state.folder is Folder.ARCHIVED


def test_rule_outbound_in_archived_goes_replied():
    assert folders.staff_outbound_message(ARCHIVED).state.folder is Folder.REPLIED


def test_rule_inbound_in_archived_goes_unread():
    assert folders.inbound_message(ARCHIVED).state == ConversationState(Folder.UNREAD, 1, False)


def test_rule_mute_and_unmute_keep_folder():
    assert folders.muted(UNREAD_2, True).state == ConversationState(Folder.UNREAD, 2, True)
    assert folders.muted(ConversationState(Folder.UNREAD, 2, True), False).state == UNREAD_2


# ---- the same rows through the store ------------------------------------------------------


def _conversation(store):
    client = add_client(store)
    phone = store.client(client).mobile_phone
    return phone


def test_store_inbound_message(store):
    phone = _conversation(store)
    result = inbound(store, phone, "Is there space at 6?")
    (cid,) = result.changed_conversations
    conv = store.conversation(cid)
    assert (conv.folder, conv.unread_count) == (Folder.UNREAD, 1)
    assert conv.client_name == "First1 Last1"
    assert [a[0] for a in result.alerts] == [cid]
    inbound(store, phone, "hello?")
    assert store.conversation(cid).unread_count == 2


def test_store_staff_outbound(store, front_desk, clock):
    phone = _conversation(store)
    (cid,) = inbound(store, phone).changed_conversations
    clock.advance(minutes=1)
    staff_send(store, front_desk, cid, "Yes, booked")
    conv = store.conversation(cid)
    assert (conv.folder, conv.unread_count) == (Folder.REPLIED, 0)
    assert store.messages(cid)[-1].staff_username == "desk"
    assert [e.kind for e in store.events(cid)] == ["send"]


def test_store_automated_outbound(store, clock):
    phone = _conversation(store)
    (cid,) = inbound(store, phone).changed_conversations
    clock.advance(minutes=1)
    result = automated(store, phone, "Reminder: class tomorrow")
    assert result.alerts == ()
    conv = store.conversation(cid)
    assert (conv.folder, conv.unread_count) == (Folder.UNREAD, 1)
    last = store.messages(cid)[-1]
    assert last.automated and last.staff_username is None


def test_store_open_unread(store, front_desk):
    phone = _conversation(store)
    (cid,) = inbound(store, phone).changed_conversations
    conv = store.open_conversation(front_desk, cid)
    assert (conv.folder, conv.unread_count) == (Folder.READ, 0)
    assert [(e.kind, e.staff_username) for e in store.events(cid)] == [("read", "desk")]


def test_store_mark_unread_counts_client_messages_since_last_outbound(store, front_desk, clock):
    phone = _conversation(store)
    (cid,) = inbound(store, phone, "one").changed_conversations
    clock.advance(minutes=1)
    staff_send(store, front_desk, cid)
    for body in ("two", "three"):
        clock.advance(minutes=1)
        inbound(store, phone, body)
    store.open_conversation(front_desk, cid)
    conv = store.mark_unread(front_desk, cid)
    assert (conv.folder, conv.unread_count) == (Folder.UNREAD, 2)
    assert store.events(cid)[-1].kind == "mark_unread"


def test_store_archive(store, front_desk):
    phone = _conversation(store)
    (cid,) = inbound(store, phone).changed_conversations
    assert store.archive(front_desk, cid).folder is Folder.ARCHIVED
    assert store.folder_counts()[FolderView.ARCHIVED] == 1


def test_store_outbound_in_archived_goes_replied(store, front_desk, clock):
    phone = _conversation(store)
    (cid,) = inbound(store, phone).changed_conversations
    store.archive(front_desk, cid)
    clock.advance(minutes=1)
    staff_send(store, front_desk, cid)
    assert store.conversation(cid).folder is Folder.REPLIED


def test_store_inbound_in_archived_goes_unread(store, front_desk, clock):
    phone = _conversation(store)
    (cid,) = inbound(store, phone).changed_conversations
    store.archive(front_desk, cid)
    clock.advance(minutes=1)
    inbound(store, phone, "back again")
    conv = store.conversation(cid)
    assert (conv.folder, conv.unread_count) == (Folder.UNREAD, 1)


def test_store_mute_silences_alerts_but_still_moves(store, front_desk, clock):
    phone = _conversation(store)
    (cid,) = inbound(store, phone).changed_conversations
    store.archive(front_desk, cid)
    assert store.set_muted(front_desk, cid, True).muted
    clock.advance(minutes=1)
    result = inbound(store, phone, "muted hello")
    assert result.alerts == ()
    assert store.conversation(cid).folder is Folder.UNREAD
    store.set_muted(front_desk, cid, False)
    clock.advance(minutes=1)
    assert inbound(store, phone, "loud hello").alerts
    assert [e.kind for e in store.events(cid)] == ["archive", "mute", "unmute"]


def test_unknown_sender_gets_a_conversation_and_can_be_linked(store, front_desk):
    (cid,) = inbound(store, "+19175550222", "who is this?").changed_conversations
    conv = store.conversation(cid)
    assert conv.client_id is None and conv.title == "+1 917-555-0222"
    client = add_client(store, 5, mobile_phone="+14155550155")
    linked = store.link_client(front_desk, cid, client)
    assert linked.client_name == "First5 Last5"
    assert store.events(cid)[-1].kind == "link_client"


def test_importing_a_client_links_their_earlier_unknown_conversation(store):
    (cid,) = inbound(store, "+19175550233", "hi").changed_conversations
    add_client(store, 6, mobile_phone="+19175550233")
    assert store.conversation(cid).client_name == "First6 Last6"


def test_stop_and_start_change_opt_out(store, clock):
    client = add_client(store)
    phone = store.client(client).mobile_phone
    inbound(store, phone, "STOP")
    assert store.client(client).opted_out
    clock.advance(minutes=1)
    inbound(store, phone, "start")
    assert not store.client(client).opted_out


def test_an_unknown_senders_history_holds_only_that_number(store, manager):
    (first,) = inbound(store, "+12125550901", "who is this?").changed_conversations
    (second,) = inbound(store, "+12125550902", "wrong number").changed_conversations
    store.archive(manager, first)
    history = list(store.history(conversation_id=first))
    assert [(e.message.body if e.message else e.event.kind) for e in history] == ["who is this?", "archive"]
    assert {e.phone for e in store.history(conversation_id=second)} == {"+12125550902"}


def test_history_reads_newest_first_when_asked(store, manager, clock):
    (cid,) = inbound(store, "+12125550903", "first").changed_conversations
    clock.advance(minutes=1)
    store.archive(manager, cid)
    clock.advance(minutes=1)
    inbound(store, "+12125550903", "last")
    kinds = [
        (e.message.body if e.message else e.event.kind) for e in store.history(conversation_id=cid, newest_first=True, chunk=1)
    ]
    assert kinds == ["last", "archive", "first"]
