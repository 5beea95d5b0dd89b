"""The UI thread never waits on the store: keys answer while another process holds the
write lock, writes finish in order once it frees, and app-wide events reach the main screen
whatever modal is open."""

from __future__ import annotations

import sqlite3
import time

from app_fixtures import build_store, make_app, settled_start
from conftest import inbound

from msgterm.domain.folders import Folder
from msgterm.store import engine
from msgterm.sync.cycle import CycleReport
from msgterm.sync.poller import LoopOutcome, LoopState
from msgterm.widgets.conversation_list import ConversationList

SIZE = (120, 36)


async def until(pilot, condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await pilot.pause(0.02)


async def test_keys_answer_while_another_process_holds_the_write_lock(tmp_path, monkeypatch):
    # Writers here give up on the lock after 0.2 s, so the write is refused (StoreBusy)
    # several times while the lock is held and must be tried again, not lost or doubled.
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        listing = app.screen.query_one(ConversationList)
        first, second = listing.row(0), listing.row(1)
        holder = sqlite3.connect(tmp_path / "app.db", isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another program's long write
        try:
            await pilot.press("m")  # mute the first...
            await pilot.press("j")
            assert listing.cursor == 1  # ...and the cursor moved at once
            await pilot.press("a")  # archive the second, queued behind the mute
            await pilot.press("k", "j", "j")
            assert listing.cursor == 2
            assert app.screen.calls.writes_pending == 2
            await until(pilot, lambda: first.id in listing.saving, '"saving…" on the waiting row')
            assert "saving…" in listing._draw(listing.index_of(first.id), listing.size.width).text
            assert not store.conversation(first.id).muted  # nothing applied while the lock is held
        finally:
            holder.execute("COMMIT")
            holder.close()
        await until(pilot, lambda: app.screen.calls.writes_pending == 0, "the writes finished after the lock freed")
        await until(pilot, lambda: not listing.saving, '"saving…" cleared')
        assert store.conversation(first.id).muted
        assert store.conversation(second.id).folder is Folder.ARCHIVED
        kinds = [e.kind for e in store.events(first.id)] + [e.kind for e in store.events(second.id)]
        assert kinds.count("mute") == 1 and kinds.count("archive") == 2  # build_store archived one already
        assert app.is_running


async def test_events_reach_the_main_screen_under_any_modal(tmp_path):
    """Help, options, history, new conversation, the palette: one app, each in turn."""
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await pilot.press("4")
        await app.workers.wait_for_complete()
        await pilot.pause()
        main = app.screen
        listing = main.query_one(ConversationList)
        for n, modal in enumerate(["question_mark", "o", "c", "n", "ctrl+p"]):
            before = listing.count
            await pilot.press("enter" if modal in ("o", "c") else "escape", modal)
            await pilot.pause()
            assert app.screen is not main, modal
            (arrived,) = inbound(store, f"+1212555990{n}", "a walk-in while a modal was open").changed_conversations
            report = CycleReport(new=1, changed={arrived})
            app.post_sync(LoopOutcome(LoopState.SYNCED, 1.0, "synced", report))
            await pilot.pause()
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is main, f"back on the main screen from {modal}")
            await until(pilot, lambda b=before: listing.count == b + 1, f"the new conversation in the list under {modal}")
            assert "synced" in str(main.query_one("#status").render())
            await pilot.press("escape", "g")
