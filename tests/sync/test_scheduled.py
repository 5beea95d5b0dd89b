"""Scheduled sends against the Twilio-compatible server, on SQLite and PostgreSQL: sent at
their time by the lease holder, once, checked again at the time, never in quiet hours
(issue "Reply faster and at the right time"). Time comes from the store's clock, moved by
hand; only the test with real processes waits for a real moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import BUSINESS, add_client, inbound
from fake_twilio import ACCOUNT, TOKEN

from msgterm.domain.errors import ValidationError
from msgterm.domain.folders import Folder
from msgterm.domain.when import QuietHours
from msgterm.settings import TwilioSettings
from msgterm.store import LeaseLost, open_store
from msgterm.sync.poller import Poller, SendTiming
from msgterm.sync.send import SendPipeline
from msgterm.sync.twilio_provider import TwilioProvider

NEW_YORK = ZoneInfo("America/New_York")


def real_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def desk(any_store, clock, twilio):
    """A store on the real clock's time (moved by hand from there), a Front Desk member, a
    client's conversation and the pipeline that schedules."""
    clock.now = real_now()
    staff = any_store.add_staff("desk", "Dee Desk", "Front Desk")[0]
    conversation = any_store.start_conversation(staff, add_client(any_store, 1))
    provider = TwilioProvider(
        TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN, number=BUSINESS, api_url=twilio.url, poll_interval=1)
    )
    return staff, conversation, SendPipeline(any_store, provider), provider


def posts(twilio) -> int:
    return sum(1 for method, _path in twilio.requests if method == "POST")


def test_a_scheduled_message_goes_out_once_at_its_time_and_not_before(any_store, clock, twilio, desk):
    staff, conversation, pipeline, provider = desk
    scheduled = pipeline.schedule(staff, conversation.id, "See you Monday!", clock() + timedelta(hours=1))
    assert scheduled.status == "scheduled" and scheduled.send_at == clock() + timedelta(hours=1)
    assert any_store.conversation(conversation.id).folder is Folder.READ  # a schedule moves no folder
    poller = Poller(any_store, provider)
    poller.poll_once()
    assert posts(twilio) == 0
    assert [s.message_id for s in any_store.scheduled_sends()] == [scheduled.id]
    clock.advance(hours=1)
    report = poller.poll_once()
    assert posts(twilio) == 1 and report.scheduled_sent == 1
    sent = any_store.message(scheduled.id)
    assert sent.sid == twilio.messages[-1]["sid"] and sent.status not in ("scheduled", "sending")
    assert twilio.messages[-1]["body"] == "See you Monday!"
    assert any_store.conversation(conversation.id).folder is Folder.REPLIED
    clock.advance(minutes=5)
    poller.poll_once()
    assert posts(twilio) == 1  # once
    assert any_store.scheduled_sends() == []


def test_a_client_who_opts_out_before_the_time_is_not_sent_to(any_store, clock, twilio, desk):
    staff, conversation, pipeline, provider = desk
    scheduled = pipeline.schedule(staff, conversation.id, "Reminder: class tomorrow", clock() + timedelta(hours=2))
    inbound(any_store, conversation.phone, "STOP")
    clock.advance(hours=2)
    Poller(any_store, provider).poll_once()
    assert posts(twilio) == 0
    failed = any_store.message(scheduled.id)
    assert failed.status == "failed" and "not sent at its time" in failed.error_message
    assert "opted out" in failed.error_message
    # And scheduling to an opted-out client is refused at once.
    with pytest.raises(ValidationError, match="opted out"):
        pipeline.schedule(staff, conversation.id, "Another", clock() + timedelta(hours=1))


def test_a_client_whose_number_changed_is_not_sent_to(any_store, clock, twilio, desk):
    staff, conversation, pipeline, provider = desk
    scheduled = pipeline.schedule(staff, conversation.id, "Hi", clock() + timedelta(minutes=30))
    add_client(any_store, 1, mobile_phone="+12125559999")  # the directory now has another number
    clock.advance(minutes=30)
    Poller(any_store, provider).poll_once()
    assert posts(twilio) == 0
    assert "no longer has this number" in any_store.message(scheduled.id).error_message


def test_a_canceled_message_never_goes_out(any_store, clock, twilio, desk):
    staff, conversation, pipeline, provider = desk
    scheduled = pipeline.schedule(staff, conversation.id, "Maybe", clock() + timedelta(minutes=10))
    assert any_store.cancel_scheduled(staff, scheduled.id).status == "canceled"
    with pytest.raises(ValidationError, match="not scheduled any more"):
        any_store.cancel_scheduled(staff, scheduled.id)
    clock.advance(minutes=10)
    Poller(any_store, provider).poll_once()
    assert posts(twilio) == 0 and any_store.message(scheduled.id).status == "canceled"


def test_nothing_scheduled_fires_inside_quiet_hours(any_store, clock, twilio, desk):
    staff, conversation, pipeline, provider = desk
    clock.now = datetime(2026, 12, 9, 1, 0)  # UTC: 20:00 in New York
    due = clock() + timedelta(hours=1)  # 21:00 there: the quiet hours begin
    scheduled = pipeline.schedule(staff, conversation.id, "Late one", due)
    poller = Poller(any_store, provider, timing=SendTiming(quiet_hours=QuietHours.parse("21:00-08:00"), zone=NEW_YORK))
    clock.advance(hours=1)
    poller.poll_once()
    clock.advance(hours=10, minutes=59)  # 07:59
    poller.poll_once()
    assert posts(twilio) == 0 and any_store.message(scheduled.id).status == "scheduled"
    clock.advance(minutes=1)  # 08:00
    poller.poll_once()
    assert posts(twilio) == 1


def test_a_holder_that_lost_the_lease_claims_nothing(any_store, clock, twilio, desk):
    staff, conversation, pipeline, _provider = desk
    scheduled = pipeline.schedule(staff, conversation.id, "Once", clock() + timedelta(minutes=1))
    stalled = any_store.acquire_lease("stalled", timedelta(seconds=30))
    clock.advance(minutes=1)
    fresh = any_store.acquire_lease("fresh", timedelta(seconds=30))
    with pytest.raises(LeaseLost):
        any_store.claim_scheduled(scheduled.id, fence=("stalled", stalled))
    assert any_store.message(scheduled.id).status == "scheduled"
    assert any_store.claim_scheduled(scheduled.id, fence=("fresh", fresh)).status == "sending"
    assert any_store.claim_scheduled(scheduled.id, fence=("fresh", fresh)) is None  # only once


def test_a_crash_between_twilios_answer_and_the_commit_is_reconciled_not_resent(any_store, clock, twilio, desk):
    staff, conversation, pipeline, provider = desk
    scheduled = pipeline.schedule(staff, conversation.id, "Booked!", clock() + timedelta(minutes=1))
    clock.advance(minutes=1)
    claimed = any_store.claim_scheduled(scheduled.id, fence=None)
    twilio.outbound(claimed.to_number, "Booked!", clock(), status="queued")  # Twilio took it; then the crash
    clock.advance(seconds=90)
    Poller(any_store, provider).poll_once()
    assert posts(twilio) == 0
    assert any_store.message(scheduled.id).sid == twilio.messages[-1]["sid"]


def _spawn(env, log_path):
    out = open(log_path, "w")
    return subprocess.Popen([sys.executable, "-m", "msgterm", "sync"], env=env, stdout=out, stderr=out)


def test_two_sync_processes_and_the_holder_killed_at_the_due_moment_send_it_exactly_once(store_url, twilio, tmp_path):
    store = open_store(store_url, business_number=BUSINESS)
    staff = store.add_staff("desk", "Dee Desk", "Front Desk")[0]
    conversation = store.start_conversation(staff, add_client(store, 1))
    env = {
        **os.environ,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": twilio.url,
        "MSGTERM_DATABASE_URL": store_url,
        "MSGTERM_POLL_INTERVAL": "1",
    }
    logs = [tmp_path / f"p{n}.log" for n in range(2)]
    processes = [_spawn(env, log) for log in logs]
    try:
        began = time.monotonic()
        while time.monotonic() - began < 30 and not any("sync ok" in log.read_text() for log in logs):
            time.sleep(0.1)
        (holder,) = [n for n, log in enumerate(logs) if "sync ok" in log.read_text()]
        due = real_now() + timedelta(seconds=2)
        scheduled = store.schedule_send(staff, conversation.id, "Exactly once", due)
        # Killed at the due moment, a tenth of a second before it: a holder killed after it
        # claimed the message but before Twilio answered leaves it to the reconcile, which
        # marks it failed rather than send it blind (the test above).
        while real_now() < due - timedelta(seconds=0.1):
            time.sleep(0.01)
        processes[holder].send_signal(signal.SIGKILL)
        processes[holder].wait()
        began = time.monotonic()
        while time.monotonic() - began < 20 and store.message(scheduled.id).status in ("scheduled", "sending"):
            time.sleep(0.1)
        other = 1 - holder
        marks = len(logs[other].read_text())
        while time.monotonic() - began < 30 and logs[other].read_text()[marks:].count("sync ok") < 2:
            time.sleep(0.1)  # two more cycles of the survivor: nothing goes out again
        assert posts(twilio) == 1, [log.read_text() for log in logs]
        sent = store.message(scheduled.id)
        assert sent.sid == twilio.messages[-1]["sid"] and twilio.messages[-1]["body"] == "Exactly once"
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)
        store.dispose()


# ---- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_env(twilio, tmp_path, monkeypatch):
    values = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": twilio.url,
        "MSGTERM_DATABASE_URL": str(tmp_path / "cli.db"),
        "MSGTERM_STAFF": "desk",
        "MSGTERM_CONFIG": str(tmp_path / "none.toml"),
        "TZ": "America/New_York",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    time.tzset()
    store = open_store(values["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    store.add_staff("desk", "Dee Desk", "Front Desk")
    add_client(store, 1, first_name="Ada")
    add_client(store, 2, first_name="")
    yield store
    store.dispose()
    monkeypatch.delenv("TZ")
    time.tzset()


def cli(*args):
    from click.testing import CliRunner

    from msgterm.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_templates_and_scheduled_sends_from_the_command_line(cli_env, twilio):
    store = cli_env
    assert "no templates yet" in cli("templates", "list").output
    assert "saved" in cli("templates", "add", "confirm", "Hi {first_name}, you're booked.").output
    refused = cli("templates", "add", "odd", "Hi {nick}")
    assert refused.exit_code == 1 and "{nick}, which msgterm does not know" in refused.output
    assert cli("templates", "list").output == "confirm: Hi {first_name}, you're booked.\n"

    sent = cli("send", "C001", "--template", "confirm")
    assert sent.exit_code == 0 and twilio.messages[-1]["body"] == "Hi Ada, you're booked."
    blank = cli("send", "C002", "--template", "confirm")
    assert blank.exit_code == 1 and "still has {first_name}" in blank.output
    assert posts(twilio) == 1  # nothing sent as "Hi ,"
    assert cli("send", "C001").exit_code == 2  # what?

    later = cli("send", "--at", "tomorrow 9am", "C001", "See you")
    assert later.exit_code == 0 and "scheduled #" in later.output and "09:00" in later.output
    listed = cli("scheduled").output
    assert "First1 Last1" not in listed and "Ada Last1" in listed and "See you" in listed and "09:00" in listed
    (waiting,) = store.scheduled_sends()
    assert "when they end" not in later.output and posts(twilio) == 1
    bad = cli("send", "--at", "whenever", "C001", "x")
    assert bad.exit_code == 1 and "not a time msgterm understands" in bad.output
    assert "canceled scheduled message" in cli("scheduled", "--cancel", str(waiting.message_id)).output
    assert cli("scheduled").output == "nothing scheduled\n"
    assert "not scheduled any more" in cli("scheduled", "--cancel", str(waiting.message_id)).output
    assert cli("templates", "remove", "confirm").exit_code == 0
    assert "there is no template 'confirm'" in cli("send", "C001", "--template", "confirm").output


def test_sending_inside_quiet_hours_from_the_command_line_asks_for_a_time(cli_env, twilio, monkeypatch):
    now = datetime.now(ZoneInfo("America/New_York"))
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    monkeypatch.setenv("MSGTERM_QUIET_HOURS", f"{start}-{end}")
    refused = cli("send", "C001", "Late reply")
    assert refused.exit_code == 1 and "within the quiet hours" in refused.output and "--anyway" in refused.output
    assert posts(twilio) == 0
    assert cli("send", "--anyway", "C001", "Late reply").exit_code == 0 and posts(twilio) == 1
    monkeypatch.setenv("MSGTERM_QUIET_HOURS", "soon")
    assert 'quiet_hours must be a span of local time like "21:00-08:00"' in cli("send", "C001", "x").output
