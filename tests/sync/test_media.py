"""MMS through the real twilio client against the Twilio-compatible server: an MMS's Media
list, its files behind Twilio's redirect to the media store, and a file that is gone (issue
"Everything a message carries…", point 1: the provider's part)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import BUSINESS
from fake_twilio import ACCOUNT, TOKEN

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
    mms_sids.append(twilio.inbound("+12125550999", "receipt and card", at, media=[("application/pdf", b"%PDF" * 700), ("image/jpeg", b"\xff\xd8" * 90)])["sid"])

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
