"""Templates, Send later, quiet hours, snooze and pins in the app (issue "Reply faster and
at the right time"). The store's clock is the app's; nothing waits for a real time."""

from __future__ import annotations

from datetime import UTC, timedelta

from app_fixtures import build_store, by_name, listing, make_app, open_named, quiet, settled, settled_start, thread_text
from conftest import T0, add_client, inbound

from msgterm.domain.folders import Folder
from msgterm.domain.when import QuietHours
from msgterm.screens.quiet_hours_question import QuietHoursQuestion
from msgterm.screens.template_picker import TemplatePicker
from msgterm.screens.when_picker import WhenPicker
from msgterm.widgets.composer import Composer

SIZE = (120, 36)


def options(app) -> list[str]:
    matches = app.screen.query_one("#matches")
    return [str(matches.get_option_at_index(i).prompt) for i in range(matches.option_count)]


async def test_snooze_with_a_preset_leaves_the_folder_and_z_brings_it_back(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await quiet(pilot)
        await pilot.press("s")
        assert await settled(pilot, lambda: isinstance(app.screen, WhenPicker))
        assert [o.split(" · ")[0] for o in options(app)] == ["In 1 hour", "This evening", "Tomorrow morning", "Next Monday"]
        await pilot.press("enter")
        ada = by_name(store, "Ada Lovelace")
        assert await settled(pilot, lambda: by_name(store, "Ada Lovelace").folder is Folder.SNOOZED)
        assert by_name(store, "Ada Lovelace").snoozed_until == T0 + timedelta(hours=1)
        await quiet(pilot)
        assert "snoozed until" in thread_text(app)
        assert any("Snoozed Ada Lovelace · z to undo" in n.message for n in app._notifications)
        await pilot.press("escape", "slash", *"is:snoozed")
        assert await settled(pilot, lambda: app.screen.shown_search_text == "is:snoozed")
        await quiet(pilot)
        assert [listing(app).row(i).id for i in range(listing(app).count)] == [ada.id]
        await pilot.press("escape", "escape", "z")
        assert await settled(pilot, lambda: by_name(store, "Ada Lovelace").folder is Folder.READ)


async def test_snooze_until_a_typed_time_and_a_time_that_is_not_one(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await pilot.press("s")  # the highlighted row: Barbara Liskov, the newest
        assert await settled(pilot, lambda: isinstance(app.screen, WhenPicker))
        await pilot.press(*"soonish")
        assert await settled(pilot, lambda: any("not a time msgterm understands" in o for o in options(app)))
        await pilot.press("enter")  # nothing to take
        assert isinstance(app.screen, WhenPicker)
        for _ in "soonish":
            await pilot.press("backspace")
        await pilot.press(*"in 2h")
        assert await settled(pilot, lambda: options(app) and "not a time" not in options(app)[0] and len(options(app)) == 1)
        await pilot.press("enter")
        assert await settled(pilot, lambda: by_name(store, "Barbara Liskov").folder is Folder.SNOOZED)
        assert by_name(store, "Barbara Liskov").snoozed_until == T0 + timedelta(hours=2)


async def test_p_pins_a_conversation_to_the_head_of_its_folder_and_again_unpins_it(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await pilot.press("4")
        await quiet(pilot)
        rows = listing(app)
        last = rows.row(rows.count - 1)
        assert last.title == "Ada Lovelace"  # the oldest activity
        rows.select_id(last.id)
        await pilot.press("p")
        assert await settled(pilot, lambda: by_name(store, "Ada Lovelace").pinned)
        await pilot.press("g")
        await quiet(pilot)
        assert rows.row(0).title == "Ada Lovelace"
        assert "".join(segment.text for segment in rows.render_line(0 - rows.scroll_offset.y)).rstrip().endswith("P")
        await pilot.press("1")  # and at the head of Unread, where it is too
        await quiet(pilot)
        assert rows.row(0).title == "Ada Lovelace"
        await pilot.press("p")
        assert await settled(pilot, lambda: not by_name(store, "Ada Lovelace").pinned)
        assert [e.kind for e in store.events(last.id) if e.kind in ("pin", "unpin")] == ["pin", "unpin"]


async def test_a_template_fills_in_the_client_and_a_missing_value_is_flagged_and_never_sent(tmp_path):
    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    store.save_template(desk, "Class confirmed", "Hi {first_name}, see you at {home_location}! {staff_first_name}")
    store.save_template(desk, "Closed Sunday", "We're closed on Sundays.")
    phone = store.client(add_client(store, 9, first_name="", last_name="Solo", home_location="")).mobile_phone
    inbound(store, phone, "hello?")
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await pilot.press("r", "ctrl+t")
        assert await settled(pilot, lambda: isinstance(app.screen, TemplatePicker))
        await pilot.press(*"clcon")  # fuzzy: Class confirmed
        assert await settled(pilot, lambda: options(app)[0].startswith("Class confirmed"))
        await pilot.press("enter")
        composer = app.screen.query_one(Composer)
        assert await settled(pilot, lambda: composer.text == "Hi Ada, see you at Downtown! Dee")
        assert not composer.query_one("#unfilled").has_class("shown")
        await pilot.press("escape")
        await open_named(pilot, app, "Solo")
        await pilot.press("r", "ctrl+t")
        assert await settled(pilot, lambda: isinstance(app.screen, TemplatePicker))
        await pilot.press("enter")
        assert await settled(pilot, lambda: composer.text == "Hi {first_name}, see you at {home_location}! Dee")
        warning = composer.query_one("#unfilled")
        assert warning.has_class("shown") and "{first_name}, {home_location}" in str(warning.render())
        solo = by_name(store, "Solo")
        before = len(store.messages(solo.id))
        await pilot.press("enter")
        assert await settled(pilot, lambda: any("still has {first_name}" in n.message for n in app._notifications))
        await quiet(pilot)
        assert len(store.messages(solo.id)) == before  # nothing sent as "Hi ,"


async def test_send_later_schedules_the_text_shows_it_in_the_thread_and_x_cancels_it(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Grace Hopper")
        await pilot.press("r", *"Your massage is tomorrow", "ctrl+l")
        assert await settled(pilot, lambda: isinstance(app.screen, WhenPicker))
        await pilot.press(*"in 2h")
        assert await settled(pilot, lambda: len(options(app)) == 1 and "not a time" not in options(app)[0])
        await pilot.press("enter")
        grace = by_name(store, "Grace Hopper")
        assert await settled(pilot, lambda: any(m.status == "scheduled" for m in store.messages(grace.id)))
        (waiting,) = store.scheduled_sends()
        assert (waiting.body, waiting.send_at) == ("Your massage is tomorrow", T0 + timedelta(hours=2))
        await quiet(pilot)
        assert app.screen.query_one(Composer).text == ""  # it became the scheduled message
        assert "scheduled · " in thread_text(app)
        assert by_name(store, "Grace Hopper").folder is grace.folder  # nothing sent yet: no folder moved
        await pilot.press("escape", "X")
        assert await settled(pilot, lambda: store.message(waiting.message_id).status == "canceled")


async def test_a_send_inside_quiet_hours_asks_and_can_wait_for_their_end(tmp_path):
    store, clock = build_store(tmp_path)
    quiet_hours = QuietHours.parse(f"{(T0 - timedelta(hours=1)):%H:%M}-{(T0 + timedelta(hours=3)):%H:%M}")
    app = make_app(store, clock, quiet_hours=quiet_hours, zone=UTC)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Alan Turing")
        await pilot.press("r", *"See you then", "enter")
        assert await settled(pilot, lambda: isinstance(app.screen, QuietHoursQuestion))
        await pilot.press("enter")  # at the end of the quiet hours
        alan = by_name(store, "Alan Turing")
        assert await settled(pilot, lambda: store.scheduled_sends() != [])
        assert store.scheduled_sends()[0].send_at == T0 + timedelta(hours=3)
        assert not [m for m in store.messages(alan.id) if m.status == "sending" or m.sid and m.body == "See you then"]
