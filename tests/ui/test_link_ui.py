"""Link to client… from the options menu and with L (issue "Everything a message carries…")."""

from __future__ import annotations

from app_fixtures import build_store, by_name, make_app, open_named, quiet, settled, settled_start, thread_text
from conftest import inbound

from msgterm.screens.new_conversation import NewConversation
from msgterm.screens.options_menu import OptionsMenu

SIZE = (120, 36)


async def test_link_a_walk_in_to_a_client_from_the_options_menu(tmp_path):
    store, clock = build_store(tmp_path)
    (walk_in,) = inbound(store, "+12125559876", "Hi, it's Grace from my new phone").changed_conversations
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "+1 212-555-9876")
        await quiet(pilot)
        await pilot.press("o")
        assert await settled(pilot, lambda: isinstance(app.screen, OptionsMenu))
        await pilot.press("L")
        assert await settled(pilot, lambda: isinstance(app.screen, NewConversation))
        await pilot.press(*"hopper")
        assert await settled(pilot, lambda: app.screen.query_one("#matches").option_count == 1)
        await pilot.press("enter")
        assert await settled(pilot, lambda: store.conversation(walk_in).title == "Grace Hopper")
        await quiet(pilot)
        assert "Grace Hopper" in thread_text(app).splitlines()[0]
        assert any("Linked +1 212-555-9876 to Grace Hopper" in n.message for n in app._notifications)
        # Her directory conversation is another one; a second link of a client's number is refused.
        await open_named(pilot, app, "Ada Lovelace")
        await pilot.press("L")
        await quiet(pilot)
        assert not isinstance(app.screen, NewConversation)
        assert any("is Ada Lovelace's already" in n.message for n in app._notifications)
        assert by_name(store, "Ada Lovelace").client_id is not None
