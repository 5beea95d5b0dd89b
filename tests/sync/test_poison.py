"""Odd records and odd pages from the provider, and faults in the loop: skipped, reported,
tried again; never fatal, never a traceback with someone's messages in it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from conftest import BUSINESS
from fake_twilio import ACCOUNT, TOKEN

from msgterm.domain.provider_message import ProviderMessage
from msgterm.settings import TwilioSettings
from msgterm.store import open_store
from msgterm.store.errors import BUSY, StoreBusy
from msgterm.sync.poller import LoopState, Poller, PollLoop
from msgterm.sync.twilio_provider import TwilioProvider


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture(params=["sqlite", "postgresql"])
def live_store(request, tmp_path):
    url = tmp_path / "poison.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = open_store(url, business_number=BUSINESS)
    yield store
    store.dispose()


def provider_for(twilio) -> TwilioProvider:
    settings = TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN, number=BUSINESS, api_url=twilio.url, poll_interval=1)
    return TwilioProvider(settings, sleep=lambda seconds: None)


def bodies(store) -> set[str]:
    return {m.body for c in store.conversations() for m in store.messages(c.id, limit=100)}


def test_poison_records_are_skipped_and_the_rest_of_the_page_is_stored(twilio, live_store, caplog):
    start = utcnow() - timedelta(hours=1)
    for n in range(10):
        twilio.inbound(f"+1212555{n + 3000:04d}", f"good {n}", start + timedelta(minutes=n))
    number_body = twilio.inbound("+12125553100", "x", start + timedelta(minutes=11))
    number_body["body"] = 5
    number_from = twilio.inbound("+12125553101", "from a number", start + timedelta(minutes=12))
    number_from["from"] = 12125553101
    huge_count = twilio.inbound("+12125553102", "huge count", start + timedelta(minutes=13))
    huge_count["num_segments"] = "1" + "0" * 30
    twilio.inbound("+12125553103", "lone \ud800 surrogate", start + timedelta(minutes=14))
    twilio.inbound("+12125553104", "nul \x00 byte", start + timedelta(minutes=15))
    twilio._listed.clear()

    loop = PollLoop(Poller(live_store, provider_for(twilio), history_days=1), 1.0)
    with caplog.at_level(logging.WARNING):
        first = loop.step()
    assert first.state is LoopState.SYNCED, first.message
    stored = bodies(live_store)
    assert {f"good {n}" for n in range(10)} <= stored
    # Text the store cannot hold is kept with U+FFFD in its place, not lost.
    assert {"lone \ufffd surrogate", "nul \ufffd byte"} <= stored
    assert not {"x", "from a number", "huge count"} & stored
    logged = caplog.text
    assert number_body["sid"] in logged and number_from["sid"] in logged and huge_count["sid"] in logged
    assert "from a number" not in logged and "12125553101" not in logged

    again = loop.step()
    assert again.state is LoopState.SYNCED, again.message
    assert live_store.message_count() == 12


def test_a_record_the_store_refuses_is_skipped_by_sid_and_the_batch_stored(live_store, caplog):
    """The store's own safety net, below the provider's checks: whatever the database or its
    driver refuses is found by halving the batch, logged by SID and skipped."""
    now = utcnow()
    good = [
        ProviderMessage(f"SMgood{n:028d}", "inbound", f"+1212555{n + 4000:04d}", BUSINESS, f"fine {n}", "received", now, now)
        for n in range(40)
    ]
    # A NUL on PostgreSQL, a lone surrogate on SQLite: neither can be written.
    bad_body = "nul \x00 here" if live_store.dialect == "postgresql" else "lone \udfff here"
    bad = ProviderMessage("SMbad" + "0" * 29, "inbound", "+12125554999", BUSINESS, bad_body, "received", now, now)
    batch = good[:17] + [bad] + good[17:]
    with caplog.at_level(logging.WARNING):
        result = live_store.ingest(batch, watermark=now)
    assert result.skipped == (bad.sid,)
    assert result.new_messages == 40
    assert live_store.message_count() == 40
    assert live_store.sync_status().watermark == now
    assert bad.sid in caplog.text and "here" not in caplog.text


@pytest.mark.parametrize(
    "payload",
    [[], None, {"messages": None}, {"messages": [], "next_page_uri": 5}, "not a page", {"meta": {}}],
    ids=["array", "null", "messages-null", "next-page-number", "string", "no-messages"],
)
def test_a_page_that_is_not_a_message_list_is_a_provider_error_tried_again(twilio, tmp_path, payload, caplog):
    store = open_store(tmp_path / "odd.db", business_number=BUSINESS)
    twilio.inbound("+12125555000", "after the odd page", utcnow() - timedelta(minutes=5))
    twilio.odd_pages.append(payload)
    loop = PollLoop(Poller(store, provider_for(twilio), history_days=1), 1.0)
    with caplog.at_level(logging.WARNING):
        outcome = loop.step()
    assert outcome.state is LoopState.SYNCED, outcome.message
    assert "after the odd page" in bodies(store)
    assert "not a" in caplog.text or "without a list" in caplog.text

    # Odd every time: the cycle ends as a provider error with a backoff, not a traceback.
    twilio.odd_pages.extend([payload] * 20)
    outcome = loop.step()
    assert outcome.state is LoopState.BACKOFF
    assert "Twilio sent a page" in outcome.message and "trying again in" in outcome.message


def test_the_loop_outlives_any_fault_and_says_what_is_true(twilio, tmp_path, monkeypatch):
    store = open_store(tmp_path / "faults.db", business_number=BUSINESS)
    provider = provider_for(twilio)
    loop = PollLoop(Poller(store, provider, history_days=1), 1.0)

    def busy(*args, **kwargs):
        raise StoreBusy(BUSY)

    monkeypatch.setattr(store, "acquire_lease", busy)
    waiting = loop.step()
    assert waiting.state is LoopState.WAITING
    assert waiting.message.startswith("waiting for the store") and 0 < waiting.delay <= 30
    monkeypatch.undo()

    def broken(**kwargs):
        raise RuntimeError("a bug with +12125550142 in its words")

    monkeypatch.setattr(provider, "list_messages", broken)
    stopped = loop.step()
    assert stopped.state is LoopState.STOPPED
    assert stopped.message.startswith("sync stopped: unexpected RuntimeError") and "trying again in" in stopped.message
    assert "0142" not in stopped.message
    monkeypatch.undo()

    assert loop.step().state is LoopState.SYNCED
