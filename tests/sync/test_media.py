"""MMS through the real twilio client against the Twilio-compatible server: an MMS's Media
list, its files behind Twilio's redirect to the media store, and a file that is gone (issue
"Everything a message carries…", point 1: the provider's part)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import BUSINESS
from fake_twilio import ACCOUNT, TOKEN
from test_sync import cli

from msgterm.domain.provider_message import ProviderMedia
from msgterm.export import export_lines
from msgterm.settings import TwilioSettings
from msgterm.store import open_store
from msgterm.sync.poller import Poller
from msgterm.sync.provider import Rejected
from msgterm.sync.twilio_provider import TwilioProvider

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 56  # 14 KB


@pytest.fixture
def provider(twilio):
    settings = TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN, number=BUSINESS, api_url=twilio.url, poll_interval=1)
    return TwilioProvider(settings, sleep=lambda _s: None)


def test_an_mms_lists_its_files_and_each_comes_through_the_redirect(twilio, provider):
    at = datetime.now(UTC).replace(tzinfo=None)
    mms = twilio.inbound("+12125550188", "", at, media=[("image/png", PNG), ("application/pdf", b"%PDF-1.7 receipt")])
    sms = twilio.inbound("+12125550188", "plain", at)
    assert mms["sid"].startswith("MM") and mms["num_media"] == "2"
    (listed,) = [m for page in provider.list_messages(sent_on=at.date()) for m in page if m.sid == mms["sid"]]
    assert listed.num_media == 2
    media = provider.list_media(mms["sid"])
    assert [(m.message_sid, m.content_type) for m in media] == [(mms["sid"], "image/png"), (mms["sid"], "application/pdf")]
    assert all(m.sid.startswith("ME") for m in media)
    assert provider.fetch_media(media[0]) == PNG
    assert provider.fetch_media(media[1]) == b"%PDF-1.7 receipt"
    assert any("/Media/" in path and "media-store" not in path for _, path in twilio.requests)
    assert any(path.startswith("/media-store/") for _, path in twilio.requests)  # followed the redirect
    assert provider.list_media(sms["sid"]) == []


def test_a_file_that_is_gone_says_so(twilio, provider):
    at = datetime.now(UTC).replace(tzinfo=None)
    mms = twilio.inbound("+12125550188", "look", at, media=[("image/jpeg", b"\xff\xd8")])
    with pytest.raises(Rejected, match="20404|not found|does not exist"):
        provider.fetch_media(ProviderMedia("ME" + "0" * 32, mms["sid"], "image/jpeg"))


def _sync(store, provider):
    return Poller(store, provider, history_days=2).poll_once()


def _thread(store, phone: str):
    conversation = store.conversation_for_phone(phone)
    assert conversation is not None
    return store.messages(conversation.id)


def test_the_poller_lists_each_mms_files_with_their_sizes_in_the_same_cycle(twilio, provider, tmp_path):
    """A page mixing SMS and MMS (1 in 20): every message stored, each MMS with its files'
    types and sizes, in the export too; the next cycle asks Twilio for no Media at all."""
    store = open_store(tmp_path / "media.db", business_number=BUSINESS)
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    mms_sids = []
    for n in range(60):
        when = at + timedelta(seconds=n)
        if n % 20 == 7:
            mms_sids.append(twilio.inbound(f"+1212555{n:04d}", "", when, media=[("image/png", PNG)])["sid"])
        else:
            twilio.inbound(f"+1212555{n:04d}", f"text {n}", when)
    mms_sids.append(
        twilio.inbound(
            "+12125550999", "receipt and card", at, media=[("application/pdf", b"%PDF" * 700), ("image/jpeg", b"\xff\xd8" * 90)]
        )["sid"]
    )

    report = _sync(store, provider)

    assert report.new == 61 and report.media == 5
    (mms,) = [m for m in _thread(store, "+12125550999") if m.num_media]
    assert [(f.content_type, f.size, f.error) for f in mms.media] == [("application/pdf", 2800, None), ("image/jpeg", 180, None)]
    (png,) = _thread(store, "+12125550007")
    assert [(f.content_type, f.size) for f in png.media] == [("image/png", len(PNG))]
    assert store.media_unlisted(100) == []
    lines = [json.loads(line) for line in export_lines(store)]
    exported = {line["sid"]: line.get("media") for line in lines if line["kind"] == "message"}
    assert exported[mms_sids[-1]] == [
        {"sid": mms.media[0].sid, "content_type": "application/pdf", "size": 2800},
        {"sid": mms.media[1].sid, "content_type": "image/jpeg", "size": 180},
    ]
    assert sum(1 for media in exported.values() if media) == 4  # an SMS carries no "media"

    twilio.requests.clear()
    _sync(store, provider)
    assert not [path for _, path in twilio.requests if "/Media" in path]


def test_a_file_gone_from_twilio_says_so_and_the_cycle_goes_on(twilio, provider, tmp_path):
    store = open_store(tmp_path / "media.db", business_number=BUSINESS)
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    gone = twilio.inbound("+12125550101", "photo", at, media=[("image/png", PNG)])
    deleted = twilio.inbound("+12125550102", "", at, media=[("image/gif", b"GIF89a")])
    gone["_media"][0]["_bytes"] = None  # listed, but its content 404s
    twilio.fail_next(404, code=20404, path_contains=f"{deleted['sid']}/Media.json")
    report = _sync(store, provider)
    assert report.new == 2
    (photo,) = _thread(store, "+12125550101")
    (file,) = photo.media
    assert file.size is None and file.error is not None and "20404" in file.error
    (empty,) = _thread(store, "+12125550102")
    assert empty.media_listed_at is not None and empty.media == ()


def test_a_media_list_that_keeps_failing_waits_for_the_next_cycle_without_failing_this_one(twilio, provider, tmp_path):
    store = open_store(tmp_path / "media.db", business_number=BUSINESS)
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    mms = twilio.inbound("+12125550101", "look", at, media=[("image/png", PNG)])
    twilio.fail_next(503, times=6, path_contains="/Media.json")
    report = _sync(store, provider)
    assert report.new == 1 and report.media == 0
    assert store.media_unlisted(10) == [(store.message_id_for_sid(mms["sid"]), mms["sid"])]
    assert store.sync_status().last_error is None
    report = _sync(store, provider)
    assert report.media == 1 and store.media_unlisted(10) == []


@pytest.fixture
def env(twilio, tmp_path, monkeypatch):
    values = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": twilio.url,
        "MSGTERM_DATABASE_URL": str(tmp_path / "media-cli.db"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def test_media_fetch_writes_each_file_and_prints_its_path(twilio, env, tmp_path):
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    mms = twilio.inbound("+12125550101", "card and receipt", at, media=[("image/png", PNG), ("application/pdf", b"%PDF-1.7")])
    assert cli("sync", "--once").exit_code == 0
    result = cli("media", "fetch", mms["sid"], "--to", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert [p.parent for p in paths] == [tmp_path / "out"] * 2
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert paths[0].read_bytes() == PNG and paths[1].read_bytes() == b"%PDF-1.7"
    # Without --to the files stay in the cache, where the app opens them from.
    cached = cli("media", "fetch", mms["sid"]).stdout.splitlines()
    assert all(Path(line).is_file() and "xdg-cache" in line for line in cached)


def test_media_fetch_says_what_is_wrong(twilio, env, tmp_path):
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    sms = twilio.inbound("+12125550101", "just words", at)
    gone = twilio.inbound("+12125550102", "", at, media=[("image/png", PNG)])
    gone["_media"][0]["_bytes"] = None
    assert cli("sync", "--once").exit_code == 0

    bad = cli("media", "fetch", "not-a-sid")
    assert bad.exit_code == 2 and "not a message SID" in bad.output

    plain = cli("media", "fetch", sms["sid"])
    assert plain.exit_code == 1 and "has no attachments" in plain.output

    missing = cli("media", "fetch", gone["sid"], "--to", str(tmp_path / "out"))
    assert missing.exit_code == 1 and ("20404" in missing.output or "not found" in missing.output)
    assert not list((tmp_path / "out").glob("*"))
    # The failure is on the stored message, for every terminal's bubble.
    store = open_store(env["MSGTERM_DATABASE_URL"])
    (message,) = _thread(store, "+12125550102")
    assert message.media[0].error and "could not download" in message.media[0].error

    unknown = cli("media", "fetch", "MM" + "0" * 32)
    assert unknown.exit_code == 1 and "cannot list the attachments" in unknown.output


def test_media_fetch_without_twilio_says_how_to_set_it_up(tmp_path):
    result = cli("--db", str(tmp_path / "x.db"), "media", "fetch", "MM" + "0" * 32)
    assert result.exit_code == 1 and "Twilio is not configured" in result.output
