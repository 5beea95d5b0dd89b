"""The Send Email/SMS to clients permission gates every action of PRODUCT.md §1."""

from __future__ import annotations

import pytest
from conftest import add_client, inbound

from msgterm.domain.errors import PermissionDenied
from msgterm.domain.folders import Folder


@pytest.fixture
def unread_conversation(store):
    client = add_client(store)
    (cid,) = inbound(store, store.client(client).mobile_phone, "hi").changed_conversations
    return client, cid


@pytest.mark.parametrize(
    "action",
    [
        lambda s, v, c, cid: s.begin_send(v, cid, "hello"),
        lambda s, v, c, cid: s.start_conversation(v, add_client(s, 9, mobile_phone="+14155550199")),
        lambda s, v, c, cid: s.set_muted(v, cid, True),
        lambda s, v, c, cid: s.set_muted(v, cid, False),
        lambda s, v, c, cid: s.mark_unread(v, cid),
        lambda s, v, c, cid: s.archive(v, cid),
        lambda s, v, c, cid: s.link_client(v, cid, c),
    ],
    ids=["send", "start", "mute", "unmute", "mark_unread", "archive", "link"],
)
def test_viewer_is_refused_every_gated_action(store, viewer, unread_conversation, action):
    client, cid = unread_conversation
    before = store.conversation(cid)
    messages_before = store.message_count()
    with pytest.raises(PermissionDenied) as refused:
        action(store, viewer, client, cid)
    assert "Send Email/SMS to clients" in str(refused.value)
    assert "viewer" in str(refused.value)
    assert store.conversation(cid) == before
    assert store.message_count() == messages_before
    assert store.events(cid) == []


def test_viewer_reading_changes_no_unread_state(store, viewer, unread_conversation):
    _, cid = unread_conversation
    conv = store.open_conversation(viewer, cid)
    assert (conv.folder, conv.unread_count) == (Folder.UNREAD, 1)
    assert store.events(cid) == []


def test_front_desk_and_manager_may_act(store, front_desk, manager, unread_conversation):
    _, cid = unread_conversation
    assert store.set_muted(front_desk, cid, True).muted
    assert store.archive(manager, cid).folder is Folder.ARCHIVED


def test_unknown_staff_name_says_how_to_add_one(store):
    with pytest.raises(Exception) as missing:
        store.staff_member("nobody")
    assert "msgterm staff add nobody" in str(missing.value)
