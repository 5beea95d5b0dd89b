"""Every key lands on the conversation on screen, a draft goes only to its own client, and
triage can be undone and done on many at once (the issue "Act on what you see")."""

from __future__ import annotations

import sqlite3
import sys
import threading
from contextlib import asynccontextmanager, nullcontext

import pytest
from app_fixtures import build_store, by_name, header, listing, make_app, settled, settled_start
from app_fixtures import quiet as idle
from conftest import add_client, inbound

from msgterm.domain.folders import Folder
from msgterm.messages import StoreChanged
from msgterm.store import engine


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def composer(app):
    return app.screen.query_one("#composer")


def shown(app):
    """The conversation in the thread pane."""
    return app.screen.query_one("#thread-pane").conversation


@asynccontextmanager
async def running(tmp_path):
    """The app on the test store (app_fixtures.build_store) at 120x36, its first listing shown."""
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await settled_start(pilot)
        yield store, clock, app, pilot


async def start(pilot) -> None:
    await settled_start(pilot)


async def highlight(pilot, app, name: str) -> None:
    assert listing(app).select_id(by_name(app.store, name).id)
    await idle(pilot)


def more_unread(store, n: int) -> None:
    for i in range(6, 6 + n):
        inbound(store, store.client(add_client(store, i, first_name=f"Extra{i}", last_name="Client")).mobile_phone, f"hi {i}")


# ---- 0. a draft belongs to its conversation -------------------------------------------------


async def test_a_draft_typed_for_one_client_is_never_sent_to_the_next(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("4")
        await idle(pilot)
        first = listing(app).selected
        messages_before = store.message_count()
        await pilot.press("enter", "r")
        assert f"To: {first.title}" in str(app.screen.query_one("#recipient").render())
        await pilot.press(*"Your 6pm spin is booked")
        await pilot.press("escape", "j")
        await idle(pilot)
        second = listing(app).selected
        assert second.id != first.id
        await pilot.press("r")
        await idle(pilot)
        assert f"To: {second.title}" in str(app.screen.query_one("#recipient").render())
        assert composer(app).text == ""
        await pilot.press("enter")
        await idle(pilot)
        assert store.message_count() == messages_before  # nothing was sent to the second client
        await pilot.press("escape", "k", "r")
        await idle(pilot)
        assert shown(app).id == first.id and composer(app).text == "Your 6pm spin is booked"
        assert await settled(pilot, lambda: store.draft(app.staff, first.id) == "Your 6pm spin is booked")
        assert first.id in listing(app).drafts
        assert "draft" in "".join(s.text for s in listing(app).render_line(0))


async def test_a_draft_survives_a_restart_and_a_send_removes_it(tmp_path):
    store, clock = build_store(tmp_path)
    ada = by_name(store, "Ada Lovelace")
    store.save_draft(store.staff_member("desk"), ada.id, "Yes, one spot left.\nShall I book it?")
    app = make_app(store, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        await highlight(pilot, app, "Ada Lovelace")
        await pilot.press("r")
        await idle(pilot)
        assert composer(app).text == "Yes, one spot left.\nShall I book it?"
        await pilot.press("enter")
        assert await settled(pilot, lambda: store.messages(ada.id)[-1].direction == "outbound")
        await idle(pilot)
        sent = store.messages(ada.id)[-1]
        assert sent.body == "Yes, one spot left.\nShall I book it?" and sent.staff_username == "desk"
        assert store.draft(app.staff, ada.id) == "" and ada.id not in listing(app).drafts


async def test_ctrl_j_adds_a_line_and_ctrl_e_writes_in_the_editor(tmp_path, monkeypatch):
    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[1], 'a').write(' (edited)')\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    async with running(tmp_path) as (store, clock, app, pilot):
        monkeypatch.setattr(app, "suspend", nullcontext)  # a headless test has no terminal to hand over
        await pilot.press("r", *"line one", "ctrl+j", *"line two")
        assert composer(app).text == "line one\nline two"
        await pilot.press("ctrl+e")
        await idle(pilot)
        assert composer(app).text == "line one\nline two (edited)"


# ---- 1, 2, 6. the conversation on screen is the one keys act on -----------------------------


async def test_opened_in_unread_it_stays_in_its_place_shown_as_read(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("j")  # Alan Turing, the second unread
        await idle(pilot)
        alan = listing(app).selected
        await pilot.press("enter")
        await idle(pilot)
        assert listing(app).cursor == 1 and listing(app).selected.id == alan.id
        assert listing(app).selected.folder is Folder.READ
        assert header(app) == "Unread · 2"  # the folder's count no longer has it
        await pilot.press("j")  # moving away lets it go
        await idle(pilot)
        assert listing(app).count == 2 and alan.id not in {listing(app).row(i).id for i in range(2)}


@pytest.mark.parametrize("keys", [("enter", "a"), ("enter", "escape", "a")])
async def test_archive_after_opening_archives_the_open_conversation(tmp_path, keys):
    async with running(tmp_path) as (store, clock, app, pilot):
        opened = listing(app).selected
        for key in keys:
            await pilot.press(key)
            await idle(pilot)
        assert store.conversation(opened.id).folder is Folder.ARCHIVED
        assert [c.folder for c in store.conversations() if c.id != opened.id].count(Folder.ARCHIVED) == 1  # only Edsger before
        assert f"Archived {opened.title} · z to undo" in notes(app)
        assert shown(app).id == opened.id and listing(app).selected.id == opened.id


async def test_reply_then_escape_then_mute_mutes_the_client_just_answered(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        answered = listing(app).selected
        await pilot.press("enter", "r", *"See you then", "enter")
        await idle(pilot)
        assert store.conversation(answered.id).folder is Folder.REPLIED
        await pilot.press("escape", "m")
        await idle(pilot)
        assert store.conversation(answered.id).muted
        assert [c.title for c in store.conversations() if c.muted] == [answered.title]


async def test_a_live_inbound_elsewhere_moves_neither_the_cursor_nor_the_open_conversation(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("j", "enter")
        await idle(pilot)
        reading = listing(app).selected
        clock.advance(minutes=1)
        (other,) = inbound(store, store.client_by_ref("C002").mobile_phone, "Actually, Saturday?").changed_conversations
        app.screen.post_message(StoreChanged(frozenset({other})))
        assert await settled(pilot, lambda: listing(app).index_of(other) is not None)
        await idle(pilot)
        assert listing(app).selected.id == reading.id and shown(app).id == reading.id
        await pilot.press("a")
        await idle(pilot)
        assert store.conversation(reading.id).folder is Folder.ARCHIVED
        assert store.conversation(other).folder is Folder.UNREAD


async def test_next_unread_skips_none_in_the_unread_folder(tmp_path):
    store, clock = build_store(tmp_path)
    more_unread(store, 3)  # six unread in all
    app = make_app(store, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await start(pilot)
        order = [listing(app).row(i).id for i in range(listing(app).count)]
        assert len(order) == 6
        await pilot.press("enter")
        await idle(pilot)
        opened = [shown(app).id]
        for _ in range(5):
            await pilot.press("]")
            await idle(pilot)
            opened.append(shown(app).id)
        assert opened == order
        assert all(store.conversation(cid).folder is Folder.READ for cid in order)


async def test_peeking_never_changes_unread_state(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("j", "j")
        assert await settled(pilot, lambda: shown(app) is not None and shown(app).id == listing(app).selected.id)
        assert all(
            c.folder is Folder.UNREAD
            for c in store.conversations(limit=10)
            if c.title != "Grace Hopper" and c.title != "Edsger Dijkstra"
        )


# ---- 3. undo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "m", "u", "enter"])
async def test_undo_puts_each_action_back(tmp_path, key):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("4")
        await idle(pilot)
        await highlight(pilot, app, "Barbara Liskov" if key in "am" or key == "enter" else "Grace Hopper")
        target = listing(app).selected
        before = store.conversation(target.id)
        await pilot.press(key)
        await idle(pilot)
        assert store.conversation(target.id) != before
        await pilot.press("escape", "z")
        await idle(pilot)
        after = store.conversation(target.id)
        assert (after.folder, after.unread_count, after.muted) == (before.folder, before.unread_count, before.muted)
        assert any(m.startswith("Undid") for m in notes(app))
        assert store.events(target.id)[-1].kind == "undo"


async def test_undo_after_a_new_inbound_keeps_it_in_sight(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        target = listing(app).selected
        await pilot.press("a")
        await idle(pilot)
        inbound(store, target.phone, "one more thing")
        await pilot.press("z")
        await idle(pilot)
        assert store.conversation(target.id).folder is Folder.UNREAD
        assert any("got a new message since" in m for m in notes(app))


async def test_twenty_undos_in_a_row(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        target = listing(app).selected
        before = store.conversation(target.id)
        await pilot.press(*["a", "u"] * 10)  # writes run in the order pressed
        await idle(pilot)
        assert len(app.screen.undo_stack) == 20
        assert store.conversation(target.id).folder is Folder.UNREAD
        await pilot.press(*["z"] * 19)
        await idle(pilot)
        assert store.conversation(target.id).folder is Folder.ARCHIVED  # back to after the first archive
        await pilot.press("z")
        await idle(pilot)
        after = store.conversation(target.id)
        assert (after.folder, after.unread_count, after.muted) == (before.folder, before.unread_count, before.muted)
        assert app.screen.undo_stack == []
        assert [e.kind for e in store.events(target.id)].count("undo") == 20


# ---- 4. several at once ------------------------------------------------------------------------


async def test_select_two_archive_them_and_undo_both(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("x", "j", "j", "x")
        picked = {listing(app).row(0).id, listing(app).row(2).id}
        assert listing(app).marked == picked
        assert "2 selected" in str(app.screen.query_one("#status").render())
        await pilot.press("a")
        await idle(pilot)
        assert {c.id for c in store.conversations() if c.folder is Folder.ARCHIVED} >= picked
        assert store.conversation(listing(app).row(0).id).folder is Folder.UNREAD  # the middle one untouched
        assert "Archived 2 conversations · z to undo" in notes(app)
        assert listing(app).marked == set()
        await pilot.press("z")
        await idle(pilot)
        assert all(store.conversation(cid).folder is Folder.UNREAD for cid in picked)


async def test_select_all_under_a_filter_archives_only_the_view(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("4", "slash", *"type:member")
        assert await settled(pilot, lambda: app.screen.shown_search_text == "type:member")
        await pilot.press("enter", "asterisk")
        await idle(pilot)
        members = {c.id for c in store.conversations() if c.client_name in ("Ada Lovelace", "Alan Turing", "Barbara Liskov")}
        assert listing(app).marked == members
        await pilot.press("a")
        await idle(pilot)
        archived = {c.id for c in store.conversations() if c.folder is Folder.ARCHIVED}
        assert archived == members | {by_name(store, "Edsger Dijkstra").id}
        await pilot.press("z")
        await idle(pilot)
        assert {c.id for c in store.conversations() if c.folder is Folder.ARCHIVED} == {by_name(store, "Edsger Dijkstra").id}


async def test_escape_clears_the_selection_first(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("asterisk")
        await idle(pilot)
        assert len(listing(app).marked) == 3
        await pilot.press("escape")
        assert listing(app).marked == set() and "selected" not in str(app.screen.query_one("#status").render())


async def test_a_viewers_bulk_action_is_refused_and_changes_nothing(tmp_path):
    store, clock = build_store(tmp_path)
    before = [(c.id, c.folder, c.unread_count, c.muted) for c in store.conversations()]
    app = make_app(store, clock, staff="viewer")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await start(pilot)
        await pilot.press("asterisk")
        await idle(pilot)
        await pilot.press("a", "m", "u", "z")
        await idle(pilot)
        assert [(c.id, c.folder, c.unread_count, c.muted) for c in store.conversations()] == before
        assert any("cannot archive" in m for m in notes(app))


async def test_a_row_another_terminal_archives_stays_under_the_cursor_until_the_user_moves(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        await pilot.press("j")
        await idle(pilot)
        peeked = listing(app).selected
        store.archive(store.staff_member("desk"), peeked.id)  # as another terminal would
        app.screen.post_message(StoreChanged(frozenset({peeked.id})))
        assert await settled(pilot, lambda: listing(app).selected.folder is Folder.ARCHIVED)
        assert listing(app).selected.id == peeked.id and listing(app).cursor == 1
        await pilot.press("j")
        await idle(pilot)
        assert peeked.id not in {listing(app).row(i).id for i in range(listing(app).count)}


async def test_moving_on_before_an_archive_is_stored_leaves_the_cursor_where_the_user_went(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    async with running(tmp_path) as (store, clock, app, pilot):
        archived, went_to = listing(app).row(0), listing(app).row(2)
        holder = sqlite3.connect(tmp_path / "app.db", isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another program's long write: the archive waits
        try:
            await pilot.press("a", "j", "j")
            assert listing(app).selected.id == went_to.id
        finally:
            holder.execute("COMMIT")
            holder.close()
        assert await settled(pilot, lambda: app.screen.calls.writes_pending == 0)
        await idle(pilot)
        assert store.conversation(archived.id).folder is Folder.ARCHIVED
        assert listing(app).selected.id == went_to.id
        assert archived.id not in {listing(app).row(i).id for i in range(listing(app).count)}


async def test_a_first_read_that_arrives_late_never_replaces_what_the_user_asked_for(tmp_path, monkeypatch):
    import msgterm.screens.main_screen as main_screen

    release, calls = threading.Event(), []
    real = main_screen.read_listing

    def slow_first(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            release.wait(10)  # the first read: a slow store
        return real(*args, **kwargs)

    monkeypatch.setattr(main_screen, "read_listing", slow_first)
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")  # the user picks All before the first read is back
        assert await settled(pilot, lambda: header(app) == "All · 5")
        release.set()
        assert await settled(pilot, lambda: len(calls) == 2 and app.main_screen.ready)
        await idle(pilot)
        assert header(app) == "All · 5" and listing(app).count == 5


async def test_a_draft_is_kept_while_typing_and_when_quitting(tmp_path):
    async with running(tmp_path) as (store, clock, app, pilot):
        target = listing(app).selected
        await pilot.press("r", *"Half a thought")
        # Kept a moment after the last key, without leaving the box.
        assert await settled(pilot, lambda: store.draft(app.staff, target.id) == "Half a thought")
        await pilot.press(*", and more")
        await app.action_quit()  # at once after typing (q types in the box; the palette's Quit)
    assert store.draft(app.staff, target.id) == "Half a thought, and more"


async def test_a_newer_read_keeps_what_the_one_it_replaced_was_to_keep(tmp_path, monkeypatch):
    """Starting a conversation switches to All and opens it; marking it read reads the list
    again before the switch's read is back. That newer read must keep the new conversation
    under the cursor, not the row the old list had there."""
    import msgterm.screens.main_screen as main_screen

    release, calls = threading.Event(), []
    real = main_screen.read_listing

    def slow_second(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            release.wait(10)  # the switch to All: a slow store
        return real(*args, **kwargs)

    monkeypatch.setattr(main_screen, "read_listing", slow_second)
    async with running(tmp_path) as (store, clock, app, pilot):
        katherine = add_client(store, 9, first_name="Katherine", last_name="Johnson", mobile_phone="+14155550199")
        await pilot.press("n", *"Katherine")
        assert await settled(pilot, lambda: app.screen.query("OptionList").first().option_count == 1)
        await pilot.press("enter")
        assert await settled(pilot, lambda: len(calls) >= 3)  # the read of marking it read went ahead
        release.set()
        await idle(pilot)
        conversation = store.conversation_for_client(katherine)
        assert app.screen.open_id == conversation.id and listing(app).selected.id == conversation.id
