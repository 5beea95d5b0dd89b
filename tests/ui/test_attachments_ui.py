"""MMS in the app: the bubble lists each file, v opens it in the system viewer (a picker when
the conversation has several), a download that fails says so on the bubble (issue
"Everything a message carries…", point 1). Files come from the Twilio-compatible server
through the real twilio client and the poller."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from app_fixtures import build_store, make_app, open_named, quiet, settled, settled_start, thread_text
from conftest import BUSINESS
from fake_twilio import ACCOUNT, TOKEN

from msgterm.screens.attachment_picker import AttachmentPicker
from msgterm.screens.image_viewer import ImageViewer
from msgterm.settings import TwilioSettings
from msgterm.sync.poller import Poller
from msgterm.sync.twilio_provider import TwilioProvider

SIZE = (120, 36)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 56  # 14 KB


@pytest.fixture
def viewer(tmp_path, monkeypatch) -> Path:
    """A stand-in for xdg-open: writes the paths it is asked to open to a file."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "viewer.sh"
    script.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("MSGTERM_VIEWER", str(script))
    return opened


def with_mms(tmp_path, twilio, files):
    store, clock = build_store(tmp_path)
    phone = store.find_clients("Ada")[0].mobile_phone
    mms = twilio.inbound(phone, "my membership card", clock(), media=files)
    provider = TwilioProvider(
        TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN, number=BUSINESS, api_url=twilio.url, poll_interval=1),
        sleep=lambda _s: None,
    )
    Poller(store, provider, history_days=1).poll_once()
    return store, clock, provider, mms


def opened_paths(viewer: Path) -> list[str]:
    return viewer.read_text().split() if viewer.exists() else []


async def test_v_opens_the_photo_a_client_sent(tmp_path, twilio, viewer):
    store, clock, provider, _mms = with_mms(tmp_path, twilio, [("image/png", PNG)])
    app = make_app(store, clock, provider=provider)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await quiet(pilot)
        assert "📎 image/png · 14 KB" in thread_text(app)
        await pilot.press("v")
        assert await settled(pilot, lambda: len(opened_paths(viewer)) == 1)
        (path,) = opened_paths(viewer)
        assert path.endswith(".png") and Path(path).read_bytes() == PNG
        assert "xdg-cache" in path  # the platformdirs cache, not the working directory
        assert not [n for n in app._notifications if n.severity == "error"]


async def test_several_attachments_offer_a_list_newest_first(tmp_path, twilio, viewer):
    store, clock, provider, _mms = with_mms(
        tmp_path, twilio, [("image/jpeg", b"\xff\xd8" * 3000), ("application/pdf", b"%PDF-1.7")]
    )
    app = make_app(store, clock, provider=provider)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await quiet(pilot)
        await pilot.press("v")
        assert await settled(pilot, lambda: isinstance(app.screen, AttachmentPicker))
        await pilot.press("down", "enter")
        assert await settled(pilot, lambda: len(opened_paths(viewer)) == 1)
        assert opened_paths(viewer)[0].endswith(".pdf")
        assert not isinstance(app.screen, AttachmentPicker)


async def test_a_download_that_fails_says_so_on_the_bubble(tmp_path, twilio, viewer):
    store, clock, provider, mms = with_mms(tmp_path, twilio, [("image/png", PNG)])
    mms["_media"][0]["_bytes"] = None  # gone from Twilio's media store since it was listed
    app = make_app(store, clock, provider=provider)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await quiet(pilot)
        await pilot.press("v")
        assert await settled(pilot, lambda: "could not download" in thread_text(app))
        assert any("Could not download the attachment" in n.message for n in app._notifications)
        assert opened_paths(viewer) == []
        # The app goes on: another conversation opens as ever.
        await open_named(pilot, app, "Grace Hopper")
        await quiet(pilot)
        assert "Friday" in thread_text(app)


async def test_v_where_there_is_nothing_to_open_says_so(tmp_path, viewer):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await quiet(pilot)
        await pilot.press("v")
        assert await settled(pilot, lambda: any("No attachments" in n.message for n in app._notifications))
        assert opened_paths(viewer) == []
        assert os.environ["MSGTERM_VIEWER"]


async def test_where_the_terminal_draws_images_the_photo_shows_in_the_app(tmp_path, twilio, viewer):
    """With a terminal that draws images (here textual-image's half-cell widget stands in for
    its kitty and Sixel ones), v shows the photo in the app; o opens the system viewer."""
    from textual_image.widget import HalfcellImage

    png = _picture()
    store, clock, provider, _mms = with_mms(tmp_path, twilio, [("image/png", png)])
    app = make_app(store, clock, provider=provider, image_widget=HalfcellImage)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled_start(pilot)
        await open_named(pilot, app, "Ada Lovelace")
        await quiet(pilot)
        await pilot.press("v")
        assert await settled(pilot, lambda: isinstance(app.screen, ImageViewer))
        assert app.screen.query_one("#image", HalfcellImage)
        assert opened_paths(viewer) == []
        await pilot.press("o")
        assert await settled(pilot, lambda: len(opened_paths(viewer)) == 1)
        await pilot.press("escape")
        assert await settled(pilot, lambda: not isinstance(app.screen, ImageViewer))


def _picture() -> bytes:
    from msgterm.sync.simulated import DEMO_MEDIA

    return DEMO_MEDIA["ME0de0000000000000000000000000card"][1]()


def test_the_terminal_is_asked_about_images_only_where_it_may_draw_them():
    from msgterm.inline_images import image_widget_class, wanted

    assert not wanted({"TERM": "xterm-256color"}) and not wanted({"TERM": "tmux-256color"})
    assert wanted({"TERM": "xterm-kitty"}) and wanted({"TERM_PROGRAM": "WezTerm", "TERM": "xterm-256color"})
    assert not wanted({"TERM": "xterm-kitty", "MSGTERM_INLINE_IMAGES": "0"})
    assert wanted({"TERM": "dumb", "MSGTERM_INLINE_IMAGES": "yes"})
    # Not a terminal (the tests): textual-image finds neither Sixel nor kitty's graphics.
    assert image_widget_class({"MSGTERM_INLINE_IMAGES": "1"}) is None
    assert image_widget_class({"TERM": "xterm"}) is None
