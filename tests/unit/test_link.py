"""Linking an unknown sender to a client, on SQLite and PostgreSQL (issue "Everything a
message carries…", point 2)."""

from __future__ import annotations

import json

import pytest
from conftest import add_client, inbound

from msgterm.domain.errors import PermissionDenied, ValidationError
from msgterm.domain.search_query import parse
from msgterm.export import export_lines

WALK_IN = "+12125559876"


@pytest.fixture
def desk(any_store):
    return any_store.add_staff("desk", "Dee Desk", "Front Desk")[0]


def test_an_unknown_sender_linked_to_a_client_becomes_theirs_and_so_does_what_comes_later(any_store, desk):
    ada = add_client(any_store, 1, first_name="Ada", last_name="Lovelace")
    (walk_in,) = inbound(any_store, WALK_IN, "Hi, it's Ada from my work phone").changed_conversations
    assert any_store.conversation(walk_in).client_id is None
    linked = any_store.link_client(desk, walk_in, ada)
    assert (linked.client_id, linked.title) == (ada, "Ada Lovelace")
    assert any_store.client_numbers(ada) == (any_store.client(ada).mobile_phone, WALK_IN)
    assert any_store.client(ada).mobile_phone != WALK_IN  # the directory number stays
    (later,) = inbound(any_store, WALK_IN, "Me again").changed_conversations
    assert later == walk_in and any_store.conversation(walk_in).client_id == ada
    found = [c.id for c in any_store.search_parties(parse("9876"))]
    assert walk_in in found  # search finds her by the linked number too
    events = [json.loads(line) for line in export_lines(any_store) if '"link_client"' in line]
    assert [(e["client_id"], e["staff"], e["phone"]) for e in events] == [("C001", "desk", WALK_IN)]
    # A re-import of the directory keeps her linked number findable.
    add_client(any_store, 1, first_name="Ada", last_name="Lovelace-King")
    assert walk_in in [c.id for c in any_store.search_parties(parse("9876"))]


def test_a_number_of_another_client_or_a_conversation_with_a_client_is_refused(any_store, desk):
    ada = add_client(any_store, 1)
    grace = add_client(any_store, 2)
    (graces,) = inbound(any_store, any_store.client(grace).mobile_phone, "hello").changed_conversations
    with pytest.raises(ValidationError, match="belongs to First2 Last2; only an unknown sender's number can be linked"):
        any_store.link_client(desk, graces, ada)
    (walk_in,) = inbound(any_store, WALK_IN, "hi").changed_conversations
    any_store.link_client(desk, walk_in, ada)
    with pytest.raises(ValidationError, match="already First1 Last1's"):
        any_store.link_client(desk, walk_in, ada)
    assert any_store.conversation(graces).client_id == grace


def test_a_viewer_may_not_link(any_store, desk):
    viewer = any_store.add_staff("vic", "Vic", "Viewer")[0]
    ada = add_client(any_store, 1)
    (walk_in,) = inbound(any_store, WALK_IN, "hi").changed_conversations
    with pytest.raises(PermissionDenied, match="link a number to a client"):
        any_store.link_client(viewer, walk_in, ada)
    assert any_store.conversation(walk_in).client_id is None
