"""Snapshots of every screen at 120x36, on fixed data and a fixed clock (UTC)."""

from __future__ import annotations

import pytest
from app_fixtures import build_store, make_app
from app_fixtures import quiet as settle
from conftest import time_zone

from msgterm.app import MsgtermApp

SIZE = (120, 36)


def keys(*pressed: str):
    """A run_before that presses ``pressed`` and, after each key, waits until the screen has
    settled: every store read and write finished and its result painted (no fixed waits)."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    with time_zone(monkeypatch, "UTC"):
        yield


def test_main_screen(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4"))


def test_search_hit_opened_at_the_match(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4", "slash", *"yoga", "enter", "enter"))


def test_new_conversation(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("n", *"Ada"))


def test_options_menu(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("enter", "o"))


def test_contact_history(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("enter", "c"))


def test_help(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("question_mark"))


def test_first_run(snap_compare):
    assert snap_compare(MsgtermApp(None, None, first_run_config="/home/desk/.config/msgterm/config.toml"), terminal_size=SIZE)


# ---- states, not only screens ------------------------------------------------------------


def test_an_empty_store(snap_compare, tmp_path):
    from conftest import BUSINESS, T0, FixedClock, migrated_sqlite

    from msgterm.store import open_store

    clock = FixedClock(T0)
    store = open_store(migrated_sqlite(tmp_path / "empty.db"), clock=clock, business_number=BUSINESS)
    store.add_staff("desk", "Dee Desk", "Front Desk")
    store.mark_synced(T0)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys())


def test_a_viewer_reads_without_acting(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock, staff="viewer"), terminal_size=SIZE, run_before=keys("enter"))


def test_a_failed_send_says_why(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    ada = next(c for c in store.conversations() if c.title == "Ada Lovelace")
    sending = store.begin_send(desk, ada.id, "See you at 6pm")
    store.fail_send(sending.id, 30007, "Carrier violation: the message was filtered")
    app = make_app(store, clock)

    async def open_ada(pilot) -> None:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        pilot.app.screen.query_one("#conversations").select_id(ada.id)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_ada)


def test_the_main_screen_at_80x24(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=(80, 24), run_before=keys("4", "enter"))


def test_selected_rows(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4", "x", "j", "j", "x", "j"))


def test_an_opened_conversation_stays_in_the_unread_view(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("j", "enter"))


def test_a_draft_with_its_recipient(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)

    async def write(pilot) -> None:
        await settle(pilot)
        await pilot.press("r", *"Yes, one spot left", "ctrl+j", *"Shall I book it?")
        await settle(pilot)

    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=write)


def test_the_main_screen_at_250_columns(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=(250, 36), run_before=keys("4"))


def test_a_team_thread_with_a_note_and_initials_on_the_rows(snap_compare, tmp_path):
    """Assignees' initials on the rows, the assignee above the thread, a note in its own colour."""
    from app_fixtures import by_name

    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    maria = store.add_staff("maria", "Maria Lopez", "Front Desk")[0]
    barbara = by_name(store, "Barbara Liskov").id
    store.assign(desk, [barbara, by_name(store, "Ada Lovelace").id], maria)
    store.assign(desk, [by_name(store, "Alan Turing").id], desk)
    store.add_note(desk, barbara, "Late twice this week; @maria offer the 7pm class instead")
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4"))


def test_pinned_snoozed_and_a_scheduled_message(snap_compare, tmp_path):
    """A pinned row at the head, a snoozed one marked Z, and a thread with a message
    scheduled for later, "X cancels it" beside it."""
    from datetime import timedelta

    from app_fixtures import by_name

    from msgterm.domain.folders import Triage

    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    ada = by_name(store, "Ada Lovelace").id
    store.set_pinned(desk, [ada], True)
    store.triage(desk, Triage.SNOOZE, [by_name(store, "Alan Turing").id], until=clock() + timedelta(hours=3))
    store.schedule_send(desk, ada, "Your spot in the 6pm Vinyasa is held.", clock() + timedelta(days=1))
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4", "enter"))


def test_the_snooze_picker(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("s"))


def test_a_template_with_a_field_the_client_has_no_value_for(snap_compare, tmp_path):
    """The composer flags {first_name} in warning colour when the client has none."""
    from app_fixtures import by_name

    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    store.save_template(desk, "Welcome", "Hi {first_name}, welcome to {home_location}!")
    conversation = by_name(store, "Barbara Liskov").id
    store.save_draft(desk, conversation, "Hi {first_name}, welcome to Uptown!")
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("r"))


def test_the_status_line_when_sync_has_been_failing(snap_compare, tmp_path):
    """The status line says "sync failing for 3 min: <reason>" in the warning colour."""

    from msgterm.sync.poller import LoopOutcome, LoopState

    store, clock = build_store(tmp_path)
    app = make_app(store, clock)

    async def failing(pilot) -> None:
        await settle(pilot)
        app.post_sync(LoopOutcome(LoopState.BACKOFF, 30.0, "Twilio answered HTTP 503; trying again in 30 s"))
        await settle(pilot)
        clock.advance(minutes=3)
        app.post_sync(LoopOutcome(LoopState.BACKOFF, 30.0, "Twilio answered HTTP 503; trying again in 30 s"))
        await settle(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=failing)


def test_the_outbox(snap_compare, tmp_path):
    """Every text from msgterm that did not go out, each row with its state and why."""
    from app_fixtures import by_name

    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    refused = store.begin_send(desk, by_name(store, "Ada Lovelace").id, "Your spot is held")
    store.fail_send(refused.id, 30006, None)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("5"))


def test_a_thread_with_attachments(snap_compare, tmp_path):
    """An MMS with a photo (type and size) and a file that could not be downloaded, and one
    whose files are still being read from Twilio; the rows preview them."""
    from datetime import timedelta

    from app_fixtures import by_name

    from msgterm.domain.provider_message import Direction, ProviderMedia, ProviderMessage, Status

    store, clock = build_store(tmp_path)
    phone = by_name(store, "Ada Lovelace").phone
    for n, body, files in (
        (1, "", 2),
        (2, "and the receipt", 1),
    ):
        at = clock() - timedelta(minutes=10 - n)
        sid = f"MM{n:032x}"
        store.ingest(
            [
                ProviderMessage(
                    sid, Direction.INBOUND, phone, store.business_number, body, Status.RECEIVED, at, at, num_media=files
                )
            ]
        )
        if n == 1:
            message_id = store.message_id_for_sid(sid)
            listed = [(ProviderMedia(f"ME{n:030x}01", sid, "image/jpeg"), 241_733, None)]
            listed.append(
                (
                    ProviderMedia(f"ME{n:030x}02", sid, "image/heic"),
                    None,
                    "could not download: Twilio does not know that resource (error 20404).",
                )
            )
            store.record_media(message_id, listed)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4", "enter"))


def test_a_photo_drawn_in_the_app(snap_compare, tmp_path):
    """v on a client's photo where the terminal draws images (textual-image's half-cell
    widget stands in for its kitty and Sixel ones, which a snapshot cannot show)."""
    from datetime import timedelta

    from app_fixtures import by_name
    from textual_image.widget import HalfcellImage

    from msgterm.domain.provider_message import Direction, ProviderMedia, ProviderMessage, Status
    from msgterm.sync.simulated import DEMO_MEDIA

    store, clock = build_store(tmp_path)
    phone = by_name(store, "Ada Lovelace").phone
    at = clock() - timedelta(minutes=5)
    sid = "MM" + "c" * 32
    store.ingest(
        [ProviderMessage(sid, Direction.INBOUND, phone, store.business_number, "my card", Status.RECEIVED, at, at, num_media=1)]
    )
    card = "ME0de0000000000000000000000000card"
    store.record_media(store.message_id_for_sid(sid), [(ProviderMedia(card, sid, "image/png"), len(DEMO_MEDIA[card][1]()), None)])
    app = make_app(store, clock, image_widget=HalfcellImage)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("4", "enter", "v"))
