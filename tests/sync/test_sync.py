"""Sync against a Twilio-compatible server over real HTTP, through the real twilio client."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BUSINESS, add_client
from fake_twilio import ACCOUNT, TOKEN

from msgterm.cli import main
from msgterm.domain.folders import Folder
from msgterm.settings import TwilioSettings
from msgterm.store import open_store
from msgterm.sync.cycle import INGEST_BATCH, batched_pages
from msgterm.sync.poller import Poller, PollLoop
from msgterm.sync.send import SendPipeline
from msgterm.sync.twilio_provider import TwilioProvider


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def env(twilio, tmp_path, monkeypatch):
    """Environment that points msgterm at the fake server and a fresh store."""
    values = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": twilio.url,
        "MSGTERM_DATABASE_URL": str(tmp_path / "sync.db"),
        "MSGTERM_POLL_INTERVAL": "1",
        "TWILIO_REGION": "au1",  # must not rewrite the custom host
        "TWILIO_EDGE": "sydney",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def settings_for(twilio) -> TwilioSettings:
    return TwilioSettings(account_sid=ACCOUNT, auth_token=TOKEN, number=BUSINESS, api_url=twilio.url, poll_interval=1)


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def exported(env):
    out = cli("export", "--json").output
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def fill_log(twilio, clients: int, per_client: int, start: datetime) -> None:
    for c in range(clients):
        phone = f"+1212555{c + 1000:04d}"
        for i in range(per_client):
            at = start + timedelta(minutes=c * per_client + i)
            if i % 3 == 2:
                twilio.outbound(phone, f"Reminder {c}-{i}", at)
            else:
                twilio.inbound(phone, f"Message {c}-{i}", at)


def message_sids(lines) -> list[str]:
    return [line["sid"] for line in lines if line["kind"] == "message"]


def test_message_json_matches_twilio_openapi(twilio):
    schema = json.loads((Path(__file__).parents[1] / "data" / "twilio_api_v2010_messages.json").read_text())
    props = schema["message"]["properties"]
    record = twilio.public(twilio.inbound("+12125550201", "hi", now()))
    assert set(record) == set(props)
    for key, spec in props.items():
        if record[key] is None:
            assert spec.get("nullable"), key
        elif spec.get("type") == "string":
            assert isinstance(record[key], str), key
        elif spec.get("type") == "integer":
            assert isinstance(record[key], int), key
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(record["date_created"]).tzinfo is not None
    list_props = schema["list_messages_response"]["properties"]
    assert {"To", "From", "DateSent", "DateSent<", "DateSent>", "PageSize", "PageToken"} <= {
        p["name"] for p in schema["list_messages_parameters"]
    }
    import urllib.request

    request = urllib.request.Request(f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
    import base64

    request.add_header("Authorization", "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode())
    payload = json.load(urllib.request.urlopen(request))
    assert set(payload) == set(list_props)


def test_first_sync_of_several_pages_then_resync_stores_nothing_twice(twilio, env):
    add_client(open_store(env["MSGTERM_DATABASE_URL"]), 1, mobile_phone="+12125551000")
    fill_log(twilio, clients=30, per_client=80, start=now() - timedelta(days=3))  # 2400 messages
    result = cli("sync", "--once")
    assert result.exit_code == 0, result.output
    lines = exported(env)
    assert sorted(message_sids(lines)) == sorted(m["sid"] for m in twilio.messages)
    assert any("PageToken=" in path for _, path in twilio.requests)  # followed next_page_uri
    assert cli("sync", "--once").exit_code == 0
    assert sorted(message_sids(exported(env))) == sorted(m["sid"] for m in twilio.messages)
    store = open_store(env["MSGTERM_DATABASE_URL"])
    known = store.conversation_for_client(store.client_by_ref("C001").id)
    assert known.folder is Folder.UNREAD and known.client_name == "First1 Last1"
    automated = [m for m in store.messages(known.id, limit=1000) if m.direction == "outbound"]
    assert automated and all(m.automated for m in automated)
    assert len([c for c in store.conversations(limit=100) if c.client_id is None]) == 29  # unknown senders


def test_status_change_after_it_was_stored(twilio, env):
    record = twilio.outbound("+12125550300", "Your class is tomorrow", now(), status="sent")
    assert cli("sync", "--once").exit_code == 0
    twilio.set_status(record["sid"], "undelivered", 30003, "Unreachable destination handset")
    assert cli("sync", "--once").exit_code == 0
    (line,) = [m for m in exported(env) if m["kind"] == "message"]
    assert line["status"] == "undelivered"
    store = open_store(env["MSGTERM_DATABASE_URL"])
    message = store.messages(store.conversations()[0].id)[0]
    assert message.error_code == 30003


def test_queued_message_sent_from_msgterm_is_refreshed_by_sid(twilio, env):
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    staff = store.add_staff("desk", "Dee", "Front Desk")[0]
    client = add_client(store, 1)
    conversation = store.start_conversation(staff, client)
    result = SendPipeline(store, TwilioProvider(settings_for(twilio))).send(staff, conversation.id, "See you at 6")
    assert result.ok and result.message.status == "queued"
    twilio.set_status(result.message.sid, "delivered", sent=now())
    assert cli("sync", "--once").exit_code == 0
    assert store.message(result.message.id).status == "delivered"
    assert store.conversation(conversation.id).folder is Folder.REPLIED
    assert len([m for m in exported(env) if m["kind"] == "message"]) == 1


def test_a_429_waits_as_long_as_retry_after_says_and_goes_on_from_the_same_page(twilio, env):
    fill_log(twilio, clients=5, per_client=500, start=now() - timedelta(days=1))  # pages of 1,000
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    waits: list[float] = []
    loop = PollLoop(Poller(store, TwilioProvider(settings_for(twilio), sleep=waits.append)), interval=1)

    def limit_the_second_page(query):
        if "PageToken" in query:
            twilio.on_list = None
            twilio.fail_next(429, retry_after="7", method="GET")

    twilio.on_list = limit_the_second_page
    outcome = loop.step()
    assert outcome.state == "synced" and waits == [7.0]
    assert store.message_count() == len(twilio.messages)
    # The limited page (the second of messages to the number) was asked for twice; no read
    # started again from its first page.
    assert sum("PageToken" in path for _, path in twilio.requests) == 2
    assert sum("PageToken" not in path and "Messages.json" in path for _, path in twilio.requests) == 2


def test_a_429_without_retry_after_and_server_errors_back_off_exponentially(twilio, env):
    twilio.inbound("+12125550302", "hello", now())
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    waits: list[float] = []
    loop = PollLoop(Poller(store, TwilioProvider(settings_for(twilio), sleep=waits.append)), interval=1)
    twilio.fail_next(429, times=2, method="GET")
    twilio.fail_next(500, times=2, method="GET")
    assert loop.step().state == "synced" and store.message_count() == 1
    assert [0.5 <= waits[0] <= 1, 1 <= waits[1] <= 2, 2 <= waits[2] <= 4, 4 <= waits[3] <= 8] == [True] * 4, waits


def test_a_call_that_keeps_failing_ends_the_cycle_and_the_loop_backs_off(twilio, env):
    twilio.inbound("+12125550302", "hello", now())
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    loop = PollLoop(Poller(store, TwilioProvider(settings_for(twilio), sleep=lambda s: None)), interval=1)
    twilio.fail_next(500, times=6 * 2, method="GET")
    delays = [loop.step(), loop.step()]
    assert [d.state for d in delays] == ["backoff", "backoff"]
    assert 1.0 <= delays[0].delay <= 2.0 and 2.0 <= delays[1].delay <= 4.0
    assert "server error" in store.sync_status().last_error and "trying again in" in store.sync_status().last_error
    assert loop.step().state == "synced" and store.message_count() == 1
    assert store.sync_status().last_error is None


def test_bad_credentials_pause_sync_with_the_reason(twilio, env, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token-123")
    result = CliRunner().invoke(main, ["sync", "--once"])
    assert result.exit_code == 1
    assert "20003" in result.output and "credentials" in result.output
    assert "wrong-token-123" not in result.output
    status = open_store(env["MSGTERM_DATABASE_URL"]).sync_status()
    assert "20003" in status.paused_reason


def test_malformed_record_is_skipped_and_the_rest_stored(twilio, env):
    good = [twilio.inbound("+12125550303", f"ok {i}", now() - timedelta(minutes=i)) for i in range(3)]
    bad = twilio.inbound("+12125550304", "broken", now())
    bad["date_created"] = "not a date"
    worse = twilio.inbound("+12125550305", "no sid", now())
    worse["sid"] = None
    assert cli("sync", "--once").exit_code == 0
    assert sorted(message_sids(exported(env))) == sorted(m["sid"] for m in good)


@pytest.mark.parametrize("code", [21211, 21610, 21614, 21617, 20003, 30003])
def test_send_failing_with_each_error_code_is_stored_as_failed_in_words(twilio, env, code):
    from msgterm.domain.errors import ValidationError
    from msgterm.domain.provider_errors import PERMANENT

    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    staff = store.add_staff("desk", "Dee", "Front Desk")[0]
    conversation = store.start_conversation(staff, add_client(store, 1))
    twilio.fail_next(401 if code == 20003 else 400, code=code, method="POST")
    result = SendPipeline(store, TwilioProvider(settings_for(twilio))).send(staff, conversation.id, "hello")
    assert not result.ok
    message = store.message(result.message.id)
    assert (message.status, message.error_code, message.sid) == ("failed", code, None)
    assert f"error {code}" in message.error_message
    assert store.conversation(conversation.id).folder is not Folder.REPLIED
    if code in PERMANENT:  # the same text to the same number cannot go through: no retry is offered
        with pytest.raises(ValidationError, match="cannot help"):
            SendPipeline(store, TwilioProvider(settings_for(twilio))).retry(staff, message.id)
        assert len([r for r in twilio.requests if r[0] == "POST"]) == 1
        return
    # A retry reuses the same row.
    retried = SendPipeline(store, TwilioProvider(settings_for(twilio))).retry(staff, message.id)
    assert retried.ok and retried.message.id == message.id and retried.message.sid
    assert store.message_count() == 1


def test_send_command_checks_before_calling_twilio(twilio, env):
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    add_client(store, 1)
    add_client(store, 2, mobile_phone="+12125550202")
    store.add_staff("tester", "Tess", "Front Desk")
    blank = CliRunner().invoke(main, ["send", "C001", "   "])
    assert blank.exit_code == 1 and "blank" in blank.output
    long = CliRunner().invoke(main, ["send", "C001", "x" * 1601])
    assert long.exit_code == 1 and "1601 characters" in long.output
    assert not [r for r in twilio.requests if r[0] == "POST"]
    ok = CliRunner().invoke(main, ["send", "UID001", "See you at 6"])
    assert ok.exit_code == 0, ok.output
    assert "sent to First1 Last1" in ok.output
    twilio.inbound("+12125550202", "STOP", now())
    assert cli("sync", "--once").exit_code == 0
    stopped = CliRunner().invoke(main, ["send", "+1 212 555 0202", "hello?"])
    assert stopped.exit_code == 1 and "opted out" in stopped.output
    assert len([r for r in twilio.requests if r[0] == "POST"]) == 1
    viewer = CliRunner().invoke(main, ["--as", "vic", "send", "C001", "hi"])
    assert viewer.exit_code == 1 and "msgterm staff add vic" in viewer.output


def test_send_interrupted_is_reconciled_not_resent(twilio, env):
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    staff = store.add_staff("desk", "Dee", "Front Desk")[0]
    conversation = store.start_conversation(staff, add_client(store, 1))
    # Crash after Twilio accepted the message but before its SID was stored:
    taken = store.begin_send(staff, conversation.id, "Booked you in")
    twilio.outbound(taken.to_number, "Booked you in", now(), status="queued")
    # Crash before Twilio was called at all:
    lost = store.begin_send(staff, conversation.id, "Never went out")
    provider = TwilioProvider(settings_for(twilio))
    Poller(store, provider).poll_once()
    assert store.message(taken.id).sid is None  # may still be in flight: left alone
    store.clock = lambda: now() + timedelta(seconds=90)
    Poller(store, provider).poll_once()
    assert store.message(taken.id).sid == twilio.messages[0]["sid"]
    assert store.message(lost.id).status == "sending"  # too recent to judge
    store.clock = lambda: now() + timedelta(minutes=5)
    Poller(store, provider).poll_once()
    assert store.message(lost.id).status == "failed" and "Retry" in store.message(lost.id).error_message
    assert not [r for r in twilio.requests if r[0] == "POST"]
    assert len(twilio.messages) == 1


def _spawn(env, *args, log_path=None):
    child_env = {**os.environ, **env}
    out = open(log_path, "w") if log_path else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "msgterm", *args], env=child_env, stdout=out, stderr=out)


def test_pages_are_stored_in_batches_of_whole_pages():
    pages = [[f"m{p}.{i}" for i in range(size)] for p, size in enumerate((4, 4, 3, 5, 1))]
    batches = list(batched_pages(pages, 8))
    assert batches == [pages[0] + pages[1], pages[2] + pages[3], pages[4]]
    assert list(batched_pages([], 8)) == [[]]  # no pages: one empty batch still moves the watermark
    ticks = iter(range(100))  # a slow log: every page takes a second, batches commit every 2
    assert list(batched_pages(pages, 100, seconds=2, clock=lambda: next(ticks))) == [
        pages[0] + pages[1],
        pages[2] + pages[3],
        pages[4],
    ]


SYNC_IN_BATCHES_OF_5000 = """
import msgterm.sync.cycle
msgterm.sync.cycle.INGEST_BATCH = 5_000
from msgterm.cli import main
main(["sync", "--once"])
"""


def test_sigkill_in_the_middle_of_a_sync_then_restart_gives_exactly_the_log(twilio, env, tmp_path):
    # 12,000 messages in batches of 5,000 (the real batch, INGEST_BATCH, needs a log twice
    # as long): the kill can fall between the first batch's commit and the last one's,
    # which moves the watermark.
    fill_log(twilio, clients=20, per_client=600, start=now() - timedelta(days=2))
    assert INGEST_BATCH > 5_000
    process = subprocess.Popen(
        [sys.executable, "-c", SYNC_IN_BATCHES_OF_5000],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = open_store(env["MSGTERM_DATABASE_URL"])
    deadline = time.monotonic() + 30
    while store.message_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = store.message_count()
    assert 0 < partial <= len(twilio.messages)
    if partial < len(twilio.messages):  # killed mid-cycle (a loaded machine may see it finish first)
        assert not store.sync_status().history_complete
    # The killed process's lease is still live, but its holder is gone from this host: taken at once.
    result = cli("sync", "--once")
    assert result.exit_code == 0, result.output
    assert sorted(message_sids(exported(env))) == sorted(m["sid"] for m in twilio.messages)


def _wait_for_line(path, words: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and words in path.read_text()):
        assert time.monotonic() < deadline, f"{path.name} never said {words!r}"
        time.sleep(0.05)


def test_two_processes_on_one_store_only_one_polls_and_the_other_takes_over(twilio, env, tmp_path):
    twilio.inbound("+12125550310", "hi", now())
    a = _spawn(env, "sync", log_path=tmp_path / "a.log")
    _wait_for_line(tmp_path / "a.log", "sync ok")
    b = _spawn(env, "sync", log_path=tmp_path / "b.log")
    try:
        _wait_for_line(tmp_path / "b.log", "sync runs in")
        logs = {name: (tmp_path / f"{name}.log").read_text() for name in ("a", "b")}
        assert "sync ok" in logs["a"] and "sync ok" not in logs["b"]
        assert "sync runs in msgterm sync on" in logs["b"]
        a.send_signal(signal.SIGKILL)
        a.wait()
        killed_at = time.monotonic()
        while "sync ok" not in (tmp_path / "b.log").read_text() and time.monotonic() - killed_at < 10:
            time.sleep(0.1)
        # Two intervals (1 s) for the lease to run out, then the survivor's next try and its
        # cycle: 3.7 s in all on a slow machine. This checks a takeover, not a speed.
        assert "sync ok" in (tmp_path / "b.log").read_text() and time.monotonic() - killed_at <= 2 * 1 + 5
    finally:
        for process in (a, b):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)


def test_auth_token_appears_in_no_log_store_or_export(twilio, env, tmp_path, monkeypatch):
    twilio.inbound("+12125550311", "hi", now())
    assert cli("sync", "--once").exit_code == 0
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "bad-" + TOKEN)
    CliRunner().invoke(main, ["sync", "--once"])
    from msgterm.settings import log_dir

    texts = [p.read_bytes() for p in log_dir().glob("*")]
    store_path = env["MSGTERM_DATABASE_URL"]
    texts += [open(store_path + suffix, "rb").read() for suffix in ("", "-wal") if os.path.exists(store_path + suffix)]
    texts.append(cli("export", "--json").output.encode())
    assert texts and all(TOKEN.encode() not in blob for blob in texts)
    assert any(b"sync ok" in blob for blob in texts)


def test_batch_writes_store_times_exactly_as_single_writes(store):
    """execute_many formats datetimes itself; SQLite compares them as text, so the text must
    be SQLAlchemy's to the character (microseconds always written, even when zero)."""
    from sqlalchemy import insert, select

    from msgterm.store import schema

    times = [datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 20, 9, 0, 0, 7), datetime(999, 1, 2, 3, 4, 5, 600000)]
    with store.write() as conn:
        store.execute_many(conn, insert(schema.change_log), [{"conversation_id": 1, "at": at} for at in times])
        for at in times:
            conn.execute(insert(schema.change_log).values(conversation_id=2, at=at))
    with store.read() as conn:
        raw = conn.exec_driver_sql("SELECT conversation_id, at FROM change_log ORDER BY seq").all()
        read_back = conn.scalars(select(schema.change_log.c.at).order_by(schema.change_log.c.seq)).all()
    batch, single = [at for cid, at in raw if cid == 1], [at for cid, at in raw if cid == 2]
    assert batch == single == ["2026-11-20 09:00:00.000000", "2026-11-20 09:00:00.000007", "0999-01-02 03:04:05.600000"]
    assert read_back == times + times


def test_unfinished_outbound_are_exactly_our_recent_sends_not_final_yet_read_through_their_index(any_store, clock):
    """The poller refreshes these every cycle: our sends in every status Twilio has, with and
    without a SID, not another system's and not those older than REFRESH_FOR; and on SQLite
    the query must use the partial index, not read every message."""
    from sqlalchemy import event

    from msgterm.domain.provider_message import FINAL_STATUSES, ProviderMessage
    from msgterm.store.sends import REFRESH_FOR, UNFINISHED_OUTBOUND

    statuses = [
        "queued",
        "sending",
        "sent",
        "accepted",
        "scheduled",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
        "partially_delivered",
    ]
    any_store.ingest(
        [ProviderMessage("SMin" + "0" * 30, "inbound", "+12125550300", BUSINESS, "hi", "received", clock(), clock())]
    )
    manager = any_store.add_staff("manager", "Max Manager", "Manager")[0]
    conversation_id = any_store.conversations()[0].id
    old = any_store.begin_send(manager, conversation_id, "sent long ago, never confirmed")
    any_store.finish_send(
        manager, old.id, ProviderMessage("SMold" + "0" * 29, "outbound", BUSINESS, "+12125550300", "x", "sent", clock())
    )
    clock.advance(days=REFRESH_FOR.days, seconds=1)
    ours = []
    for n, status in enumerate(statuses):
        sending = any_store.begin_send(manager, conversation_id, f"to client {n}")
        accepted = ProviderMessage(f"SMout{n:029d}", "outbound", BUSINESS, "+12125550300", f"to client {n}", status, clock())
        ours.append(any_store.finish_send(manager, sending.id, accepted))
    any_store.ingest(
        [  # another system's reminder, not final: not ours to refresh
            ProviderMessage("SMauto" + "0" * 28, "outbound", BUSINESS, "+12125550300", "Reminder", "sent", clock(), clock())
        ]
    )
    any_store.begin_send(manager, conversation_id, "still sending, no SID yet")

    statements = []

    def note(_conn, _cursor, sql, params, _context, _many):
        statements.append((sql, params))

    event.listen(any_store.engine, "before_cursor_execute", note)
    unfinished = any_store.unfinished_outbound()
    event.remove(any_store.engine, "before_cursor_execute", note)

    assert [(m.sid, m.status) for m in unfinished] == [(m.sid, m.status) for m in ours if m.status not in FINAL_STATUSES]
    assert [m.status for m in unfinished] == ["queued", "sending", "sent", "accepted", "scheduled"]
    # The index's condition names exactly the final statuses of the domain.
    assert set(re.findall(r"'(\w+)'", UNFINISHED_OUTBOUND.text)) == FINAL_STATUSES | {"outbound"}
    if any_store.dialect == "sqlite":
        sql, params = next((sql, params) for sql, params in statements if "ORDER BY message.id" in sql)
        with any_store.read() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        assert any("ix_message_unfinished_outbound" in row[-1] for row in plan), plan


def test_the_collector_is_paused_while_a_batch_is_stored_and_only_then(store):
    """A batch's short-lived rows must not set off full collections (README, Sync)."""
    import gc

    from msgterm.domain.provider_message import ProviderMessage

    seen = []
    real_ingest = store.ingest

    def ingest(batch, **kwargs):
        seen.append(gc.isenabled())
        return real_ingest(batch, **kwargs)

    store.ingest = ingest

    class Log:
        def list_messages(self, **days):
            at = store.clock() - timedelta(hours=1)
            return [[ProviderMessage("SM" + "1" * 32, "inbound", "+12125550300", BUSINESS, "hi", "received", at, at)]]

    assert gc.isenabled()
    Poller(store, Log()).poll_once()
    assert seen and not any(seen) and gc.isenabled()
    gc.disable()  # paused by someone else: the poller leaves it so
    try:
        seen.clear()
        Poller(store, Log()).poll_once()
        assert seen and not any(seen) and not gc.isenabled()
    finally:
        gc.enable()
