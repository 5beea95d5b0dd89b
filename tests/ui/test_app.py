"""Pilot tests for each triage flow, on a store made by the tests."""

from __future__ import annotations

import pytest
from app_fixtures import HOSTILE, build_store, by_name, header, listing, make_app, open_named, settled, thread_text
from conftest import BUSINESS, add_client, inbound

from msgterm.domain.folders import Folder
from msgterm.domain.provider_message import ProviderMessage
from msgterm.messages import StoreChanged
from msgterm.screens.main_screen import THREAD_WINDOW

SIZE = (120, 36)


async def test_reply_goes_out_and_moves_to_replied(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_named(pilot, app, "Ada Lovelace")
        await pilot.press("r")
        assert app.screen.focused.id == "reply"
        await pilot.press(*"See you at 6")
        assert "12 / 1 (GSM-7)" in str(app.screen.query_one("#counter").render())
        await pilot.press("enter")
        assert await settled(pilot, lambda: by_name(store, "Ada Lovelace").folder is Folder.REPLIED)
        conversation = by_name(store, "Ada Lovelace")
        last = store.messages(conversation.id)[-1]
        assert await settled(pilot, lambda: store.messages(conversation.id)[-1].status == "queued")
        last = store.messages(conversation.id)[-1]
        assert (last.body, last.staff_username, last.status) == ("See you at 6", "desk", "queued")
        assert await settled(pilot, lambda: "See you at 6" in thread_text(app))


@pytest.mark.parametrize("query", ["Grace Hop", "C002"])  # every kind of query: test_search.py
async def test_new_conversation_from_the_to_field(tmp_path, query):
    store, clock = build_store(tmp_path)
    before = store.conversation_count()
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*query)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        conversation = by_name(store, "Grace Hopper")
        assert await settled(pilot, lambda: app.screen.open_id == conversation.id)
        assert store.conversation_count() == before  # she already had one: it is reused
        assert app.screen.focused.id == "reply"


async def test_new_conversation_creates_one_for_a_client_without(tmp_path):
    store, clock = build_store(tmp_path)
    fresh = add_client(store, 9, first_name="Katherine", last_name="Johnson", mobile_phone="+14155550199")
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.press(*"Katherine")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        assert await settled(pilot, lambda: store.conversation_for_client(fresh) is not None)
        assert await settled(pilot, lambda: store.conversation_for_client(fresh).id == app.screen.open_id)


def alerts(app) -> list[str]:
    """The new-message notifications (not the "Muted …" of the key itself, which may land later)."""
    return [n.message for n in app._notifications if n.title == "New message"]


async def test_mute_then_inbound_raises_no_notification_but_moves(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_named(pilot, app, "Grace Hopper")
        await pilot.press("m")
        assert await settled(pilot, lambda: by_name(store, "Grace Hopper").muted)
        app.clear_notifications()
        clock.advance(minutes=1)
        app.provider.receive(store.client_by_ref("C002").mobile_phone, "muted hello")
        app.poll_now()
        await pilot.pause()
        assert alerts(app) == []
        assert by_name(store, "Grace Hopper").folder is Folder.UNREAD
        await pilot.press("m")  # unmute
        assert await settled(pilot, lambda: not by_name(store, "Grace Hopper").muted)
        app.clear_notifications()
        clock.advance(minutes=1)
        app.provider.receive(store.client_by_ref("C002").mobile_phone, "loud hello")
        app.poll_now()
        await pilot.pause()
        assert alerts(app) == ["Grace Hopper: loud hello"]


async def test_mark_unread_counts_client_messages_since_last_outbound(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    grace = by_name(store, "Grace Hopper")
    for body in ("one more thing", "and another"):
        clock.advance(minutes=1)
        inbound(store, store.client_by_ref("C002").mobile_phone, body)
    async with app.run_test(size=SIZE) as pilot:
        await open_named(pilot, app, "Grace Hopper")
        assert by_name(store, "Grace Hopper").folder is Folder.READ
        await pilot.press("u")
        assert await settled(pilot, lambda: store.conversation(grace.id).folder is Folder.UNREAD)
        conversation = store.conversation(grace.id)
        assert (conversation.folder, conversation.unread_count) == (Folder.UNREAD, 2)
        await pilot.press("1")
        assert listing(app).selected is not None
        assert any(r.id == grace.id and r.unread_count == 2 for r in (listing(app).row(i) for i in range(listing(app).count)))


async def test_archive_then_inbound_goes_unread_and_reply_goes_replied(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_named(pilot, app, "Alan Turing")
        await pilot.press("a")
        assert await settled(pilot, lambda: by_name(store, "Alan Turing").folder is Folder.ARCHIVED)
        clock.advance(minutes=1)
        app.provider.receive(store.client_by_ref("C003").mobile_phone, "actually one more question")
        app.poll_now()
        await pilot.pause()
        assert by_name(store, "Alan Turing").folder is Folder.UNREAD
        await open_named(pilot, app, "Alan Turing")
        await pilot.press("a")
        assert await settled(pilot, lambda: by_name(store, "Alan Turing").folder is Folder.ARCHIVED)
        await open_named(pilot, app, "Alan Turing")
        await pilot.press("r", *"Yes of course", "enter")
        assert await settled(pilot, lambda: by_name(store, "Alan Turing").folder is Folder.REPLIED)


async def test_options_menu_archives(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_named(pilot, app, "Barbara Liskov")
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        assert await settled(pilot, lambda: by_name(store, "Barbara Liskov").folder is Folder.ARCHIVED)


async def test_bracket_walks_unread_in_order(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    expected = [c.title for c in store.conversations() if c.folder is Folder.UNREAD]
    assert len(expected) >= 3
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        listing(app).cursor = 0
        seen = []
        if listing(app).selected.folder is Folder.UNREAD:
            await pilot.press("enter")
            seen.append(listing(app).selected.title)
        for _ in range(len(expected) + 1):
            await pilot.press("]")
            await pilot.pause()
            title = listing(app).selected.title
            if not seen or seen[-1] != title:
                seen.append(title)
        assert seen == expected
        # Each one opened was marked read.
        assert all(by_name(store, t).folder is Folder.READ for t in expected)


async def test_viewer_cannot_send_or_archive(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock, staff="viewer")
    before = [(c.id, c.folder, c.unread_count) for c in store.conversations()]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_named(pilot, app, "Ada Lovelace")
        assert app.screen.query_one("#reply").disabled
        assert "Read only" in app.screen.query_one("#reply").placeholder
        await pilot.press("a")
        await pilot.press("r")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("cannot archive" in m for m in messages)
        assert any("cannot send" in m for m in messages)
        # The palette's commands call the actions directly: the same gate refuses them.
        commands = {c.title: c.callback for c in app.get_system_commands(app.screen)}
        commands["Mute / unmute"]()
        commands["Mark as unread"]()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("cannot mute conversations" in m for m in messages)
        assert any("cannot mark conversations as unread" in m for m in messages)
        await app.workers.wait_for_complete()
    assert [(c.id, c.folder, c.unread_count) for c in store.conversations()] == before
    assert not any(c.muted for c in store.conversations())


async def test_hostile_bodies_render_literally_and_the_app_keeps_running(tmp_path):
    store, clock = build_store(tmp_path, hostile=True)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_named(pilot, app, "Ada Lovelace")
        text = thread_text(app)
        for body in HOSTILE[:3]:
            assert body in text
        assert "\x1b" not in text and "\u202e" not in text
        assert "␛]0;pwned␇" in text
        await pilot.click("#thread-text")
        await pilot.press("j", "k")
        assert app.is_running
        await pilot.press("c")
        await pilot.pause()
        assert app.is_running


async def test_contact_history_shows_messages_events_and_details(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_named(pilot, app, "Grace Hopper")
        await pilot.press("c")
        await pilot.pause()
        text = str(app.screen.query_one("#history-text").render())
        assert "Contact history — Grace Hopper" in text
        assert "C002" in text and "Prospect" in text
        assert "Can I move my massage to Friday?" in text
        assert "desk sent a reply" in text
        await pilot.press("escape")
        assert app.screen.__class__.__name__ == "MainScreen"


async def test_live_change_from_another_writer_appears_and_keeps_selection(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    app.watch_changes = True
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        chosen = by_name(store, "Alan Turing").id
        listing(app).select_id(chosen)
        clock.advance(minutes=1)
        inbound(store, store.client_by_ref("C004").mobile_phone, "new from elsewhere")
        assert await settled(pilot, lambda: listing(app).row(0) is not None and listing(app).row(0).title == "Edsger Dijkstra")
        assert listing(app).selected.id == chosen
        assert listing(app).row(0).title == "Edsger Dijkstra"


async def test_help_lists_every_key(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(app.screen.query_one("Static").render())
        for key in ("j / k", "g / G", "enter", "escape", "tab", "]", "[", "ctrl+p", "?", "q"):
            assert key in text
        for word in (
            "Unread",
            "Replied",
            "Archived",
            "All",
            "new conversation",
            "mute",
            "mark as unread",
            "archive",
            "options",
            "contact history",
        ):
            assert word in text


async def search_for(pilot, app, typed):
    await pilot.press("slash")
    assert app.screen.focused.id == "search"
    await pilot.press(*typed)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_search_a_word_and_land_on_the_matching_message_highlighted(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await search_for(pilot, app, "yoga")
        assert app.screen.shown_search_text == "yoga"
        hits = [listing(app).row(i) for i in range(listing(app).count)]
        assert [(h.title, h.last_preview) for h in hits] == [("Alan Turing", "Reminder: Hot Yoga tomorrow at 7am")]
        assert header(app) == "Search 'yoga' · 1 hits"
        await pilot.press("enter")  # from the box to the results
        assert app.screen.focused is listing(app)
        await pilot.press("enter")  # open the hit
        await pilot.pause()
        assert app.screen.open_id == by_name(store, "Alan Turing").id
        assert await settled(pilot, lambda: "◆ search match" in thread_text(app))
        rendered = app.screen.query_one("#thread").rendered
        assert [rendered.plain[s.start : s.end] for s in rendered.spans if str(s.style) == "bold reverse"] == [
            "◆ search match",
            "Yoga",
        ]
        # Opening it made it Read; the results stay put and the live thread keeps the match.
        app.screen.post_message(StoreChanged(frozenset({app.screen.open_id})))
        await pilot.pause()
        assert listing(app).count == 1 and "◆ search match" in thread_text(app)


async def test_search_a_number_fragment_finds_the_client(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    grace = store.client(by_name(store, "Grace Hopper").client_id).mobile_phone
    async with app.run_test(size=SIZE) as pilot:
        await search_for(pilot, app, grace[-4:])
        assert listing(app).count == 0  # search keeps to the folder: she is in Replied, not Unread
        await pilot.press("escape", "4")
        await search_for(pilot, app, grace[-4:])
        assert [listing(app).row(i).title for i in range(listing(app).count)] == ["Grace Hopper"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen.open_id == by_name(store, "Grace Hopper").id


async def test_search_filter_expression_then_escape_restores_the_folder(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        unread = listing(app).count
        await search_for(pilot, app, "is:unread group:vip")
        assert [listing(app).row(i).title for i in range(listing(app).count)] == ["Barbara Liskov", "Ada Lovelace"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.search is None and listing(app).count == unread
        assert app.screen.focused is listing(app)


async def test_a_query_that_cannot_be_understood_says_why_in_the_box(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await search_for(pilot, app, "after:soon")
        assert app.screen.query_one("#search").border_subtitle == "after:soon is not a date; write it as after:2026-10-01"


async def test_search_results_page_in_as_the_cursor_reaches_the_end(tmp_path):
    store, clock = build_store(tmp_path)
    for n in range(120):
        inbound(store, "+14155550123", f"locker {n} is jammed", at=clock.advance(seconds=1))
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await search_for(pilot, app, "locker")
        assert listing(app).count == 50 and header(app).endswith("· 50+ hits")
        await pilot.press("enter", "G")
        await pilot.press("G", "G")
        assert listing(app).count == 120 and listing(app).complete
        assert listing(app).selected.last_preview == "locker 0 is jammed"


async def test_a_long_thread_opens_on_its_newest_window_and_loads_earlier_at_the_top(tmp_path):
    store, clock = build_store(tmp_path)
    store.ingest(
        [
            ProviderMessage(f"SMlong{n:028d}", "inbound", "+14155550123", BUSINESS, f"message {n}", "received", at, at)
            for n, at in ((n, clock.advance(seconds=1)) for n in range(150))
        ]
    )
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        listing(app).select_id(next(c.id for c in store.conversations(limit=10) if c.phone == "+14155550123"))
        await pilot.press("enter")
        thread = app.screen.query_one("#thread")
        assert await settled(pilot, lambda: len(thread.messages) == THREAD_WINDOW)
        assert thread.messages[-1].body == "message 149"
        thread.focus()
        sizes = []
        while thread.more_before:
            shown = len(thread.messages)
            assert await settled(pilot, lambda: thread.scroll_y > 0)  # the window drawn and scrolled (after a refresh)
            await pilot.press("g")
            assert await settled(pilot, lambda: len(thread.messages) > shown)  # noqa: B023 - read at once
            sizes.append(len(thread.messages))
        assert sizes == [min(150, n * THREAD_WINDOW) for n in range(2, 2 + len(sizes))] and sizes[-1] == 150
        assert [m.body for m in thread.messages] == [f"message {n}" for n in range(150)]


async def test_the_thread_pane_clears_when_the_list_empties(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        # The preview of the first unread (drawn once the cursor has rested).
        assert await settled(pilot, lambda: "Barbara Liskov" in thread_text(app)), thread_text(app)
        await search_for(pilot, app, "nothing matches this")
        assert await settled(pilot, lambda: listing(app).count == 0 and thread_text(app) == "No conversation selected.")


async def test_a_long_contact_history_shows_its_newest_entries_and_says_how_to_get_all(tmp_path):
    from msgterm.screens.contact_history import HISTORY_LIMIT

    store, clock = build_store(tmp_path)
    ada = by_name(store, "Ada Lovelace")
    for n in range(HISTORY_LIMIT + 20):
        inbound(store, ada.phone, f"note {n}", at=clock.advance(seconds=1))
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_named(pilot, app, "Ada Lovelace")
        await pilot.press("c")
        await pilot.pause()
        shown = str(app.screen.query_one("#history-text").render())
        assert f"Showing the latest {HISTORY_LIMIT} entries; the whole history: msgterm export --client C001 --json" in shown
        assert f"note {HISTORY_LIMIT + 19}" in shown and "note 0\n" not in shown
        assert shown.rindex("note 318") < shown.rindex(f"note {HISTORY_LIMIT + 19}")  # oldest first on screen


async def test_start_reads_the_list_once_and_a_folder_change_from_the_sidebar_still_counts(tmp_path):
    """The sidebar's widgets announce their first values at mount; that is not a change."""
    store, clock = build_store(tmp_path)
    reads = []
    count_folders = store.folder_counts
    store.folder_counts = lambda filters: reads.append(filters) or count_folders(filters)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(reads) == 1
        await pilot.press("2")  # Replied, by key: the sidebar follows
        assert app.screen.view.value == "replied"
        await pilot.press("f")  # to the sidebar's folder list, which follows the key; pick Unread there
        app.screen.query_one("#folders").highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.view.value == "unread" and listing(app).selected.title == "Barbara Liskov"


@pytest.mark.parametrize("freeze_heap", [True, False])
async def test_the_real_app_freezes_what_lives_as_long_as_it_after_the_first_paint_and_sync(tmp_path, monkeypatch, freeze_heap):
    """Start-up objects and the sync's client live as long as the app; frozen, full
    collections stop walking them (tests build apps without it: a freeze would keep every
    earlier test's garbage)."""
    import gc

    store, clock = build_store(tmp_path)
    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(listing(app).count))
    app = make_app(store, clock, freeze_heap=freeze_heap)
    async with app.run_test(size=SIZE) as pilot:
        assert await settled(pilot, lambda: listing(app).count > 0 and frozen == ([listing(app).count] if freeze_heap else []))
        shown = listing(app).count
        assert frozen == ([shown] if freeze_heap else [])  # once, with the list on screen
        app.poll_now()
        app.poll_now()
        assert frozen == ([shown, shown] if freeze_heap else [])  # and once after the first sync step


async def test_on_a_narrow_terminal_f_brings_the_filters_back_while_they_have_the_focus(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        sidebar = app.screen.query_one("#sidebar")
        assert not sidebar.display
        await pilot.press("f")
        await pilot.pause()
        assert sidebar.display and app.focused.id == "folders"
        await pilot.press("escape")  # back to the list
        app.screen.query_one("#conversations").focus()
        await pilot.pause()
        assert not sidebar.display
