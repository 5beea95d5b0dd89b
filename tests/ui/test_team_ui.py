"""The team inbox in the app: assign with @, notes with N, is:mine and the Assigned group,
a Viewer refused, alerts routed by assignee, and a colleague's "is replying…" seen from
another terminal on the same store (issue "One front desk, several people")."""

from __future__ import annotations

from app_fixtures import build_store, by_name, make_app, open_named, quiet, settled, settled_start, thread_text
from conftest import inbound

from msgterm.domain.folders import Folder
from msgterm.screens.staff_picker import StaffPicker
from msgterm.widgets.conversation_list import ConversationList
from msgterm.widgets.filter_sidebar import FilterSidebar

SIZE = (120, 36)


def row_text(app, name: str) -> str:
    listing = app.screen.query_one(ConversationList)
    index = next(i for i in range(listing.count) if listing.row(i) and listing.row(i).title == name)
    return "".join(segment.text for segment in listing.render_line(index - listing.scroll_offset.y))


async def test_assign_with_the_picker_shows_initials_and_the_assignee_and_is_mine_finds_it(tmp_path):
    store, clock = build_store(tmp_path)
    store.add_staff("maria", "Maria Lopez", "Front Desk")
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await pilot.press("at")
        assert await settled(pilot, lambda: isinstance(app.screen, StaffPicker))
        await pilot.press(*"mar", "enter")
        assert await settled(pilot, lambda: by_name(store, "Ada Lovelace").assignee_username == "maria")
        await quiet(pilot)
        assert "assigned to Maria Lopez" in thread_text(app)
        assert " ML " in row_text(app, "Ada Lovelace")
        assert by_name(store, "Ada Lovelace").folder is Folder.READ  # assigning is no triage
        # Grace to me: "is:mine" keeps only her.
        await open_named(pilot, app, "Grace Hopper")
        await pilot.press("at")
        assert await settled(pilot, lambda: isinstance(app.screen, StaffPicker))
        await pilot.press(*"dee", "enter")
        assert await settled(pilot, lambda: by_name(store, "Grace Hopper").assignee_username == "desk")
        await pilot.press("escape", "slash", *"is:mine")
        assert await settled(pilot, lambda: app.screen.shown_search_text == "is:mine")
        await quiet(pilot)
        listing = app.screen.query_one(ConversationList)
        assert [listing.row(i).title for i in range(listing.count)] == ["Grace Hopper"]
        # "Nobody" unassigns.
        await pilot.press("escape", "escape")
        await open_named(pilot, app, "Ada Lovelace")
        await pilot.press("at")
        assert await settled(pilot, lambda: isinstance(app.screen, StaffPicker))
        await pilot.press(*"nob", "enter")
        assert await settled(pilot, lambda: by_name(store, "Ada Lovelace").assignee_id is None)
        events = [(e.kind, e.detail) for e in store.events(by_name(store, "Ada Lovelace").id) if e.kind == "assign"]
        assert events == [("assign", "maria"), ("assign", "")]


async def test_the_sidebar_assigned_group_narrows_the_list(tmp_path):
    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    store.assign(desk, [by_name(store, "Alan Turing").id], desk)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await pilot.press("4")
        await quiet(pilot)
        sidebar = app.screen.query_one(FilterSidebar)
        sidebar.query_one("#assigned").value = "me"
        await quiet(pilot)
        listing = app.screen.query_one(ConversationList)
        assert await settled(pilot, lambda: [listing.row(i).title for i in range(listing.count)] == ["Alan Turing"])
        sidebar.query_one("#assigned").value = "nobody"
        await quiet(pilot)
        assert await settled(pilot, lambda: listing.count == 4)
        assert "Alan Turing" not in [listing.row(i).title for i in range(listing.count)]


async def test_a_note_shows_in_the_thread_and_leaves_the_folder_alone(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        before = by_name(store, "Barbara Liskov")
        await pilot.press("N")
        assert await settled(pilot, lambda: app.screen.query("#note"))
        await pilot.press(*"Late again, [bold]be kind[/]", "enter")
        assert await settled(pilot, lambda: any(m.note for m in store.messages(before.id)))
        await quiet(pilot)
        after = by_name(store, "Barbara Liskov")
        assert (after.folder, after.last_preview, after.unread_count) == (
            before.folder,
            before.last_preview,
            before.unread_count,
        )
        await open_named(pilot, app, "Barbara Liskov")
        await quiet(pilot)
        text = thread_text(app)
        assert "✎ note · Dee Desk" in text and "Late again, [bold]be kind[/]" in text


async def test_a_viewer_is_refused_assign_and_notes(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock, staff="viewer")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        for key in ("at", "N"):
            await pilot.press(key)
            await quiet(pilot)
            assert not isinstance(app.screen, StaffPicker) and not app.screen.query("#note")
        words = [n.message for n in app._notifications]
        assert any("cannot assign conversations" in w for w in words)
        assert any("cannot write internal notes" in w for w in words)


async def test_alerts_follow_the_assignment_and_mentions(tmp_path):
    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    alex = store.add_staff("alex", "Alex Kim", "Front Desk")[0]
    store.assign(desk, [by_name(store, "Ada Lovelace").id], alex)
    store.assign(desk, [by_name(store, "Grace Hopper").id], desk)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing"):
            inbound(store, by_name(store, name).phone, f"news from {name}")
        store.add_note(alex, by_name(store, "Edsger Dijkstra").id, "@desk he asked for you")
        app.check_alerts()
        assert await settled(pilot, lambda: len([n for n in app._notifications if n.title]) >= 3)
        await quiet(pilot)
        raised = sorted((n.title, n.message) for n in app._notifications if n.title)
        assert raised == [
            ("Mentioned in a note", "Edsger Dijkstra: Alex Kim: @desk he asked for you"),
            ("New message", "Alan Turing: news from Alan Turing"),
            ("New message", "Grace Hopper: news from Grace Hopper"),
        ]  # not Ada's: she is Alex's


async def test_only_my_conversations_alert_with_alerts_mine(tmp_path):
    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    store.assign(desk, [by_name(store, "Grace Hopper").id], desk)
    app = make_app(store, clock, alerts="mine")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        for name in ("Grace Hopper", "Alan Turing"):
            inbound(store, by_name(store, name).phone, f"news from {name}")
        app.check_alerts()
        assert await settled(pilot, lambda: any(n.title for n in app._notifications))
        await quiet(pilot)
        assert [n.message for n in app._notifications if n.title] == ["Grace Hopper: news from Grace Hopper"]


async def test_another_terminal_sees_who_is_replying_and_viewing(tmp_path):
    """The other terminal is the store's own presence calls (what PresenceWriter does there)."""
    store, clock = build_store(tmp_path)
    alex = store.add_staff("alex", "Alex Kim", "Front Desk")[0]
    grace = by_name(store, "Grace Hopper").id
    app = make_app(store, clock, watch_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Grace Hopper")
        line = app.screen.query_one("#presence")
        store.set_presence("alex-terminal", alex, grace, replying=False)
        assert await settled(pilot, lambda: str(line.render()) == "Alex Kim is viewing", timeout=2.5)
        store.set_presence("alex-terminal", alex, grace, replying=True)
        assert await settled(pilot, lambda: str(line.render()) == "Alex Kim is replying…", timeout=2.5)
        store.set_presence("alex-terminal", alex, None, replying=False)
        assert await settled(pilot, lambda: str(line.render()) == "", timeout=2.5)


async def test_this_terminal_tells_the_others_where_it_is(tmp_path):
    store, clock = build_store(tmp_path)
    grace = by_name(store, "Grace Hopper").id
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Grace Hopper")

        def seen() -> list[tuple[str, bool]]:
            return [(p.full_name, p.replying) for p in store.present(grace, besides="another")]

        assert await settled(pilot, lambda: seen() == [("Dee Desk", False)], timeout=2.5)
        await pilot.press("r")
        assert await settled(pilot, lambda: seen() == [("Dee Desk", True)], timeout=2.5)
        await pilot.press("escape")
        await pilot.press("4")  # another view: nothing open
        assert await settled(pilot, lambda: seen() == [], timeout=2.5)
