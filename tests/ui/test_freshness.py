"""The status line says how fresh the screen is, and how long sync has been failing and why
(issue "Everything a message carries…", point 4)."""

from __future__ import annotations

from datetime import timedelta

from app_fixtures import build_store, make_app, settled, settled_start

from msgterm.sync.poller import LoopOutcome, LoopState
from msgterm.widgets.status_line import StatusLine

SIZE = (120, 36)


async def test_synced_ago_then_failing_for_how_long_in_the_warning_colour_then_fresh_again(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        line = app.screen.query_one(StatusLine)
        app.post_sync(LoopOutcome(LoopState.SYNCED, 1.0, "sync ok"))
        assert await settled(pilot, lambda: line.sync_words() == "synced 0 s ago")
        clock.advance(seconds=4)
        assert line.sync_words() == "synced 4 s ago"
        app.post_sync(LoopOutcome(LoopState.BACKOFF, 8.0, "Twilio did not answer in time; trying again in 8 s"))
        assert await settled(pilot, lambda: line.has_class("failing"))
        assert line.sync_words() == "sync failing: Twilio did not answer in time; trying again in 8 s"
        clock.advance(minutes=3)
        app.post_sync(LoopOutcome(LoopState.BACKOFF, 8.0, "[bold]HTTP 503[/bold] from Twilio"))
        assert await settled(pilot, lambda: "HTTP 503" in line.sync_words())
        assert line.sync_words() == "sync failing for 3 min: [bold]HTTP 503[/bold] from Twilio"  # literal
        assert "[bold]HTTP 503" in str(line.render())
        app.post_sync(LoopOutcome(LoopState.SYNCED, 1.0, "sync ok"))
        assert await settled(pilot, lambda: not line.has_class("failing"))
        assert line.sync_words() == "synced 0 s ago"


async def test_a_terminal_that_does_not_poll_says_when_the_one_that_does_last_synced_or_that_it_fails(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        line = app.screen.query_one(StatusLine)
        elsewhere = "sync runs in msgterm sync on desk-2"
        app.post_sync(LoopOutcome(LoopState.STANDBY, 1.0, elsewhere, synced_at=clock() - timedelta(seconds=7)))
        assert await settled(pilot, lambda: line.sync_words() == "synced 7 s ago")
        app.post_sync(LoopOutcome(LoopState.STANDBY, 1.0, elsewhere, error="Twilio refused the credentials"))
        assert await settled(pilot, lambda: line.sync_words() == "sync failing: Twilio refused the credentials")
        assert line.has_class("failing")
