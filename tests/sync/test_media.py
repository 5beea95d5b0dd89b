"""MMS through the real twilio client against the Twilio-compatible server: an MMS's Media
list, its files behind Twilio's redirect to the media store, and a file that is gone (issue
"Everything a message carries…", point 1: the provider's part)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import BUSINESS
from fake_twilio import ACCOUNT, TOKEN

from msgterm.domain.provider_message import ProviderMedia
from msgterm.settings import TwilioSettings
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
