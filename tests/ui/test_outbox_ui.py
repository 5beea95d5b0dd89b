"""The Outbox in the app: 5 lists what did not go out, each row says why, R retries it; and a
bubble says what an MMS carries."""

from __future__ import annotations

from app_fixtures import build_store, by_name, listing, make_app, quiet, settled, settled_start

SIZE = (120, 36)


def row_text(app, index: int) -> str:
    rows = listing(app)
    return "".join(segment.text for segment in rows.render_line(index - rows.scroll_offset.y))


async def test_the_outbox_lists_a_failed_send_with_why_and_r_sends_it_again(tmp_path):
    store, clock = build_store(tmp_path)
    desk = store.staff_member("desk")
    ada = by_name(store, "Ada Lovelace")
    refused = store.begin_send(desk, ada.id, "Your spot is held")
    store.fail_send(refused.id, 20429, "Too many requests")
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await pilot.press("4")  # in every folder, its row carries the mark
        await quiet(pilot)
        rows = listing(app)
        marked = {rows.row(i).title for i in range(rows.count) if row_text(app, i).rstrip().endswith("!")}
        assert marked == {"Ada Lovelace"}
        await pilot.press("5")
        await quiet(pilot)
        assert "Outbox" in str(app.screen.query_one("#list-header").render())
        titles = [listing(app).row(i).title for i in range(listing(app).count)]
        # Grace's reply was taken by Twilio hours ago and never confirmed delivered: in it too.
        assert titles == ["Ada Lovelace", "Grace Hopper"]  # the failed send is the newest activity
        assert listing(app).row(0).last_preview.startswith("failed: Twilio is limiting")
        assert listing(app).row(1).last_preview == "queued"
        assert "› fail" in row_text(app, 0) and "› queued" in row_text(app, 1)
        await pilot.press("R")  # Ada's: a rate limit, which a retry can get past
        assert await settled(pilot, lambda: store.message(refused.id).sid is not None)
        await quiet(pilot)
        rows = listing(app)
        assert await settled(pilot, lambda: [rows.row(i).title for i in range(rows.count)] == ["Grace Hopper"])


async def test_an_mms_without_text_shows_its_attachments_not_a_blank_bubble(tmp_path):
    from app_fixtures import open_named, thread_text
    from conftest import BUSINESS

    from msgterm.domain.provider_message import ProviderMessage

    store, clock = build_store(tmp_path)
    phone = by_name(store, "Alan Turing").phone
    at = clock()
    store.ingest([ProviderMessage("MM" + "3" * 32, "inbound", phone, BUSINESS, "", "received", at, at, num_media=2)])
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Alan Turing")
        await quiet(pilot)
        assert "📎 2 attachments (MMS)" in thread_text(app)
