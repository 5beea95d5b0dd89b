"""Sync at a real account's size and pace (issue 13): months of history read newest first and
resumed after a crash, cheap quiet cycles on a busy number, a lease that lives as long as
the work, and the faults a mock of Twilio's own API description found.

Against the project's Twilio-compatible server over real HTTP, through the real twilio client.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from conftest import BUSINESS, add_client
from fake_twilio import ACCOUNT, TOKEN, FakeTwilio
from sqlalchemy import select

from msgterm.cli import main
from msgterm.domain.folders import Folder
from msgterm.domain.provider_message import ProviderMessage
from msgterm.settings import TwilioSettings
from msgterm.store import HistoryMark, LeaseLost, open_store, schema
from msgterm.sync import cycle, twilio_provider
from msgterm.sync.poller import LoopState, Poller, PollLoop, holder_is_gone, holder_name
from msgterm.sync.send import SendPipeline
from msgterm.sync.twilio_provider import TwilioProvider


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def env(twilio, tmp_path, monkeypatch):
    values = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": twilio.url,
        "MSGTERM_DATABASE_URL": str(tmp_path / "sync.db"),
        "MSGTERM_POLL_INTERVAL": "1",
        "MSGTERM_HISTORY_DAYS": "40",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def provider_for(twilio, **settings) -> TwilioProvider:
    values = dict(account_sid=ACCOUNT, auth_token=TOKEN, number=BUSINESS, api_url=twilio.url, poll_interval=1) | settings
    return TwilioProvider(TwilioSettings(**values), sleep=lambda seconds: None)


def busy_log(twilio, *, end: datetime, quiet_days: int, quiet_per_day: int, busy_days: int, busy_per_day: int) -> None:
    """A busy number's log: quiet days, then days of automated reminders (nine in ten
    outbound, to a thousand clients) and the clients' answers, the last message at ``end``."""
    records = []
    days = quiet_days + busy_days
    for day in range(days):
        count = busy_per_day if day >= quiet_days else quiet_per_day
        start = end - timedelta(days=days - day)
        for n in range(count):
            at = start + timedelta(seconds=(n + 1) * 86_400 / count)
            number = f"+1212555{(day * 7 + n) % 1000 + 2000:04d}"
            if n % 10 == 3:
                records.append(("inbound", number, f"Answer {day}-{n}", at))
            else:
                records.append(("outbound", number, f"Reminder {day}-{n}: class tomorrow", at))
    twilio.bulk(records)


def stored_sids(store) -> list[str]:
    with store.read() as conn:
        return sorted(conn.scalars(select(schema.message.c.sid).where(schema.message.c.sid.is_not(None))))


def log_sids(twilio) -> list[str]:
    return sorted(m["sid"] for m in twilio.messages)


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# ---- a busy number's first sync, then quiet cycles ---------------------------------------------------


def test_a_busy_numbers_log_is_stored_exactly_then_a_quiet_cycle_makes_at_most_4_list_calls(twilio, env):
    """Ten quiet days and three of 10,000 automated texts: 34,000 messages (first syncs of
    60,000 and 300,000 are bench/sync_memory.py's)."""
    busy_log(twilio, end=utcnow() - timedelta(minutes=1), quiet_days=10, quiet_per_day=400, busy_days=3, busy_per_day=10_000)
    assert len(twilio.messages) == 34_000
    assert cli("sync", "--once").exit_code == 0
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    assert stored_sids(store) == log_sids(twilio)
    status = store.sync_status()
    assert status.history_complete and status.history_messages == 34_000
    first_sync_calls = twilio.list_calls()
    history_calls = sum("DateSent%3E" in path for _, path in twilio.requests)
    assert history_calls <= 34 + 2 * 2  # pages of 1,000 per filter, and the last page of each
    # Between batches, every poll interval, what is new is read too: a day's first page per filter.
    assert first_sync_calls - history_calls <= 2 * len(twilio.messages) / cycle.INGEST_BATCH

    for n in range(50):  # less than a page since the last cycle, on a day of 10,000
        twilio.inbound(f"+1212555{3000 + n:04d}", f"New {n}", utcnow())
    assert cli("sync", "--once").exit_code == 0
    assert twilio.list_calls() - first_sync_calls <= 4  # one page of today, per filter (two at midnight)
    assert stored_sids(store) == log_sids(twilio)


def test_row_ids_follow_time_whichever_order_history_and_new_messages_were_stored_in(twilio, env, monkeypatch):
    """Search lists hits newest first by row id: history read back takes ids below, new messages above."""
    monkeypatch.setattr(twilio_provider, "PAGE_SIZE", 100)
    monkeypatch.setattr(cycle, "INGEST_BATCH", 150)
    busy_log(twilio, end=utcnow() - timedelta(minutes=1), quiet_days=10, quiet_per_day=40, busy_days=2, busy_per_day=300)
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    provider = provider_for(twilio)

    def more(_query):  # a message arrives while history is read; the cycle reads it between batches
        if len(twilio.messages) < 1001:
            twilio.inbound("+12125559999", "arrived meanwhile", utcnow())

    twilio.on_list = more
    poller = Poller(store, provider, history_days=40)
    poller.poll_once(recent_every=0)
    twilio.on_list = None
    twilio.inbound("+12125559998", "after the first sync", utcnow())
    poller.poll_once()
    with store.read() as conn:
        rows = conn.execute(select(schema.message.c.id, schema.message.c.created_at).order_by(schema.message.c.id)).all()
    assert len(rows) == len(twilio.messages) == 1002
    assert [at for _id, at in rows] == sorted(at for _id, at in rows)
    assert rows[0][0] < 0 < rows[-1][0]  # both kinds were stored


def test_the_first_batch_holds_the_newest_messages_and_is_committed_while_the_log_is_still_being_read(twilio, env, monkeypatch):
    monkeypatch.setattr(twilio_provider, "PAGE_SIZE", 100)
    monkeypatch.setattr(cycle, "FLUSH_SECONDS", 0.3)
    twilio.page_delay = 0.1
    busy_log(twilio, end=utcnow() - timedelta(minutes=1), quiet_days=5, quiet_per_day=20, busy_days=1, busy_per_day=1000)
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    seen = []
    real_ingest = store.ingest

    def ingest(batch, **kwargs):
        if kwargs.get("history") and batch and not seen:
            seen.append((twilio.list_calls(), min(m.when for m in batch)))
        return real_ingest(batch, **kwargs)

    store.ingest = ingest
    progress = []
    Poller(store, provider_for(twilio), history_days=40, on_progress=progress.append).poll_once()
    (calls_before_first_commit, oldest_in_first_batch), total_calls = seen[0], twilio.list_calls()
    assert calls_before_first_commit < total_calls / 2
    newest = sorted((m["_sent"] for m in twilio.messages), reverse=True)
    assert oldest_in_first_batch >= newest[len(newest) // 2]  # the newest part of the log came first
    assert [p.complete for p in progress][-1] and not progress[0].complete
    assert [p.messages for p in progress] == sorted(p.messages for p in progress) and progress[-1].messages == 1100
    assert progress[0].days_covered < progress[-1].days_covered == progress[-1].days_total == 40


# ---- resuming history -------------------------------------------------------------------------------


class Crash(BaseException):
    """Stands in for kill -9: nothing after it runs, and an open transaction is rolled back."""


def small_busy_log(twilio) -> None:
    """The issue's busy number at a tenth of its size, read in pages of 100 and batches of
    500 (the issue's: pages of 1,000, and a batch every 2 s at 0.4 s a page)."""
    busy_log(twilio, end=utcnow() - timedelta(minutes=1), quiet_days=25, quiet_per_day=40, busy_days=5, busy_per_day=1000)


@pytest.fixture(scope="module")
def clean_first_sync_calls(tmp_path_factory):
    """List calls of a first sync of ``small_busy_log`` that nothing stops."""
    twilio = FakeTwilio(business_number=BUSINESS)
    twilio.start()
    twilio.url = f"http://127.0.0.1:{twilio.server.server_address[1]}"
    try:
        small_busy_log(twilio)
        store = open_store(tmp_path_factory.mktemp("clean") / "clean.db", business_number=BUSINESS)
        original = twilio_provider.PAGE_SIZE
        twilio_provider.PAGE_SIZE = 100
        try:
            Poller(store, provider_for(twilio), history_days=40).poll_once()
        finally:
            twilio_provider.PAGE_SIZE = original
        assert stored_sids(store) == log_sids(twilio)
        return twilio.list_calls()
    finally:
        twilio.stop()


@pytest.mark.parametrize("point", [1, 6, 11, 12])
def test_a_first_sync_crashed_at_any_point_resumes_where_it_was_with_at_most_a_third_more_list_calls(
    twilio, tmp_path, monkeypatch, point, clean_first_sync_calls
):
    """Inside the first batch's transaction, after a middle batch's commit, inside and after
    the last batch: the Nth commit of history (even N) or inside its transaction (odd N)."""
    monkeypatch.setattr(twilio_provider, "PAGE_SIZE", 100)
    monkeypatch.setattr(cycle, "INGEST_BATCH", 500)
    small_busy_log(twilio)  # 6,000 messages: 5,000 in the last five days
    clean_calls = clean_first_sync_calls

    store = open_store(tmp_path / "crashed.db", business_number=BUSINESS)
    commits = 0
    real_ingest, real_store_new = store.ingest, store._store_new

    def ingest(batch, **kwargs):
        nonlocal commits
        result = real_ingest(batch, **kwargs)
        commits += 1
        if commits == point and point % 2 == 0:
            raise Crash
        return result

    def store_new(conn, items, changed, **kwargs):
        result = real_store_new(conn, items, changed, **kwargs)
        if commits + 1 == point and point % 2 == 1:
            raise Crash  # inside the transaction: nothing of this batch is committed
        return result

    store.ingest, store._store_new = ingest, store_new
    with pytest.raises(Crash):
        Poller(store, provider_for(twilio), history_days=40).poll_once()
    crashed_calls = twilio.list_calls()
    stored = store.message_count()
    assert stored <= len(twilio.messages) and not store.sync_status().history_complete

    store = open_store(tmp_path / "crashed.db", business_number=BUSINESS)
    twilio.requests.clear()
    Poller(store, provider_for(twilio), history_days=40).poll_once()
    assert stored_sids(store) == log_sids(twilio)
    if stored:  # went on from how far back it had read, not from the top of the log
        first_history_read = next(path for _, path in twilio.requests if "DateSent%3E" in path)
        assert "DateSent%3C" in first_history_read
    assert crashed_calls + twilio.list_calls() <= 1.3 * clean_calls


SYNC_KILLED_AT_THE_FOURTH_COMMIT = """
import os, signal
from msgterm.store.ingest import IngestStore
from msgterm.sync import cycle, twilio_provider
twilio_provider.PAGE_SIZE = 100
cycle.INGEST_BATCH = 500
real = IngestStore.ingest
commits = []
def ingest(self, batch, **kwargs):
    result = real(self, batch, **kwargs)
    commits.append(1)
    if len(commits) == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
IngestStore.ingest = ingest
from msgterm.cli import main
main(["sync", "--once"])
"""


def test_kill_9_in_a_first_sync_then_sync_once_goes_on_at_once_and_ends_with_exactly_the_log(twilio, env, monkeypatch):
    small_busy_log(twilio)
    killed = subprocess.run(
        [sys.executable, "-c", SYNC_KILLED_AT_THE_FOURTH_COMMIT], env={**os.environ, **env}, capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    status = store.sync_status()
    assert 0 < store.message_count() < len(twilio.messages) and not status.history_complete
    assert status.lease_holder.split(":")[0] == socket.gethostname()  # the dead process's lease is still live
    twilio.requests.clear()
    monkeypatch.setattr(twilio_provider, "PAGE_SIZE", 100)
    result = cli("sync", "--once")  # its holder is gone from this host: no wait for the lease
    assert result.exit_code == 0, result.output
    assert "waiting" not in result.output
    assert stored_sids(store) == log_sids(twilio)
    assert "DateSent%3C" in next(path for _, path in twilio.requests if "DateSent%3E" in path)


# ---- a quiet cycle misses nothing ----------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def synced(twilio, tmp_path):
    """A store whose first sync is done, on a clock the test moves."""
    clock = Clock(utcnow())
    for n in range(5):
        twilio.inbound(f"+121255520{n:02d}", f"old {n}", clock.now - timedelta(days=2, minutes=n))
    store = open_store(tmp_path / "synced.db", clock=clock, business_number=BUSINESS)
    poller = Poller(store, provider_for(twilio), history_days=40)
    poller.poll_once()
    return store, poller, clock


def test_messages_that_arrive_while_a_cycle_pages_are_read_by_the_next(twilio, synced):
    store, poller, clock = synced
    for n in range(1500):
        twilio.inbound(f"+12125553{n % 500:03d}", f"busy {n}", clock.now + timedelta(seconds=n))
    clock.now += timedelta(minutes=30)

    def meanwhile(query):
        if "PageToken" in query:  # on the second page of the cycle
            twilio.on_list = None
            twilio.inbound("+12125554000", "sent while the cycle paged", clock.now + timedelta(seconds=1))

    twilio.on_list = meanwhile
    poller.poll_once()
    clock.now += timedelta(seconds=10)
    poller.poll_once()
    assert stored_sids(store) == log_sids(twilio)


def test_a_message_queued_earlier_and_sent_later_is_read_when_it_is_sent(twilio, synced):
    store, poller, clock = synced
    scheduled = twilio.outbound("+12125554001", "Your Monday reminder", clock.now - timedelta(days=1), status="scheduled")
    poller.poll_once()
    assert scheduled["sid"] not in stored_sids(store)  # no date_sent yet: no DateSent filter lists it
    clock.now += timedelta(hours=20)
    twilio.set_status(scheduled["sid"], "delivered", sent=clock.now)
    clock.now += timedelta(seconds=10)
    poller.poll_once()
    assert scheduled["sid"] in stored_sids(store)


@pytest.mark.parametrize("skew", [timedelta(minutes=-5), timedelta(minutes=5)])
def test_a_few_minutes_between_our_clock_and_twilios_miss_nothing(twilio, synced, skew):
    store, poller, clock = synced
    clock.now += timedelta(minutes=1)
    poller.poll_once()
    # Sent just after the cycle above read the log, by Twilio's clock:
    twilio.inbound("+12125554002", "skewed", clock.now + skew + timedelta(seconds=1))
    clock.now += timedelta(seconds=10)
    poller.poll_once()
    assert stored_sids(store) == log_sids(twilio)


def test_a_cycle_that_fails_halfway_is_read_again_and_a_quiet_one_across_midnight_makes_two_calls_a_filter(twilio, synced):
    store, poller, clock = synced
    watermark = store.sync_status().watermark
    for day in range(3):  # three days offline
        for n in range(30):
            twilio.inbound(f"+12125555{n:03d}", f"day {day} #{n}", clock.now + timedelta(days=day, minutes=n))
    clock.now += timedelta(days=3)
    twilio.fail_next(500, times=twilio_provider.READ_TRIES, path_contains="Messages.json", method="GET")
    loop = PollLoop(poller, interval=1)
    assert loop.step().state is LoopState.BACKOFF
    assert store.sync_status().watermark == watermark
    assert loop.step().state is LoopState.SYNCED
    assert stored_sids(store) == log_sids(twilio)

    clock.now = clock.now.replace(hour=23, minute=58)
    loop.step()
    twilio.requests.clear()
    clock.now += timedelta(minutes=4)  # past midnight
    assert loop.step().state is LoopState.SYNCED
    assert twilio.list_calls() == 2 * 2


# ---- the lease ---------------------------------------------------------------------------------------------


def test_a_cycle_longer_than_its_lease_keeps_it_and_commits(twilio, env, monkeypatch):
    """The issue's first failure: a 1 s interval gives a 3 s lease, and this first sync takes longer."""
    monkeypatch.setattr(twilio_provider, "PAGE_SIZE", 100)
    twilio.page_delay = 0.15
    busy_log(twilio, end=utcnow(), quiet_days=2, quiet_per_day=1200, busy_days=0, busy_per_day=0)
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    loop = PollLoop(Poller(store, provider_for(twilio), history_days=40), interval=1)
    rival = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    taken = []  # another process tries for the lease on every page
    twilio.on_list = lambda _query: taken.append(rival.acquire_lease("rival:1:abcd1234", loop.lease_ttl))
    began = time.monotonic()
    outcome = loop.step()
    assert time.monotonic() - began > loop.lease_ttl.total_seconds()  # or this test proves nothing
    assert outcome.state is LoopState.SYNCED, outcome.message
    assert len(taken) > 10 and set(taken) == {None}
    assert stored_sids(store) == log_sids(twilio)


def test_a_holder_that_lost_the_lease_is_told_who_took_it_and_commits_nothing(any_store, clock):
    generation = any_store.acquire_lease("here:1:a", timedelta(seconds=3))
    clock.now += timedelta(seconds=4)
    any_store.acquire_lease("there:2:b", timedelta(seconds=3))
    with pytest.raises(LeaseLost, match="expired and there:2:b took it over"):
        any_store.renew_lease("here:1:a", generation, timedelta(seconds=3))
    message = ProviderMessage("SM" + "2" * 32, "inbound", "+12125550142", BUSINESS, "late", "received", clock(), clock())
    with pytest.raises(LeaseLost):
        any_store.ingest([message], history=HistoryMark(reached=clock()), fence=("here:1:a", generation))
    with pytest.raises(LeaseLost):
        any_store.record_sync_outcome(error="x", fence=("here:1:a", generation))
    assert any_store.message_count() == 0 and any_store.sync_status().last_error is None


def test_a_lease_still_ours_past_its_expiry_commits_when_nobody_took_it(any_store, clock):
    generation = any_store.acquire_lease("here:1:a", timedelta(seconds=3))
    clock.now += timedelta(seconds=4)  # stalled, but nobody else came
    message = ProviderMessage("SM" + "3" * 32, "inbound", "+12125550142", BUSINESS, "late", "received", clock(), clock())
    any_store.ingest([message], fence=("here:1:a", generation))
    assert any_store.message_count() == 1


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_holder_on_this_host_is_replaced_at_once_and_one_elsewhere_is_waited_out(store, twilio):
    host = socket.gethostname()
    assert holder_is_gone(f"{host}:{dead_pid()}:abcd1234")
    assert not holder_is_gone(f"{host}:{os.getpid()}:abcd1234")  # ourselves
    assert not holder_is_gone(f"elsewhere:{dead_pid()}:abcd1234")
    loop = PollLoop(Poller(store, provider_for(twilio)), interval=1)
    elsewhere, here = f"elsewhere:{dead_pid()}:abcd1234", f"{host}:{dead_pid()}:abcd1234"
    store.acquire_lease(elsewhere, timedelta(seconds=30))
    assert loop.step().state is LoopState.STANDBY
    assert store.acquire_lease(here, timedelta(seconds=30)) is None  # held, by another holder
    store.release_lease(elsewhere)
    store.acquire_lease(here, timedelta(seconds=30))
    assert loop.step().state is LoopState.SYNCED


def test_sync_once_waits_for_a_lease_held_elsewhere_to_run_out_and_says_so(twilio, env):
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    store.acquire_lease("another-host:4242:abcd1234", timedelta(seconds=2))
    twilio.inbound("+12125550310", "hi", utcnow())
    result = CliRunner().invoke(main, ["sync", "--once"])
    assert result.exit_code == 0, result.output
    assert store.message_count() == 1


def test_sync_once_gives_up_after_one_lease_lifetime_when_the_holder_keeps_renewing(twilio, env):
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    generation = store.acquire_lease("another-host:4242:abcd1234", timedelta(seconds=30))
    result = CliRunner().invoke(main, ["sync", "--once"])
    assert result.exit_code == 1
    assert "sync runs in another process on another-host" in result.output
    assert "the store is being synced already" in result.output
    assert store.sync_status().lease_generation == generation


# ---- two processes during a long first sync ---------------------------------------------------------------


def test_two_processes_during_a_long_first_sync_exactly_one_reads(twilio, env, tmp_path):
    busy_log(twilio, end=utcnow(), quiet_days=10, quiet_per_day=600, busy_days=0, busy_per_day=0)
    twilio.page_delay = 0.5  # two filters, three pages each: longer than the 3 s lease
    child_env = {**os.environ, **env}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    a = subprocess.Popen(
        [sys.executable, "-m", "msgterm", "sync"], env=child_env, stdout=open(logs[0], "w"), stderr=subprocess.STDOUT
    )
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    deadline = time.monotonic() + 30
    while not store.sync_status().lease_holder and time.monotonic() < deadline:
        time.sleep(0.05)
    b = subprocess.Popen(
        [sys.executable, "-m", "msgterm", "sync"], env=child_env, stdout=open(logs[1], "w"), stderr=subprocess.STDOUT
    )
    try:
        while not store.sync_status().history_complete and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.sync_status().history_complete
        text = [log.read_text() for log in logs]
        assert "history" not in text[1] and "sync ok" not in text[1] and "sync runs in msgterm sync on" in text[1], text
        assert "stopped" not in text[0] and "lease" not in text[0], text[0]
        assert stored_sids(store) == log_sids(twilio)
    finally:
        for process in (a, b):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


# ---- what a mock of Twilio's API description found ----------------------------------------------------


def test_a_next_page_that_does_not_move_on_stops_the_cycle_with_a_clear_error(twilio, env):
    twilio.inbound("+12125550311", "hi", utcnow())
    twilio.stuck_paging = True
    result = CliRunner().invoke(main, ["sync", "--once"])
    assert result.exit_code == 1
    assert "did not page on" in result.output
    assert twilio.list_calls() <= 2 * (1 + twilio_provider.READ_TRIES)


def test_a_send_whose_sid_the_poller_stored_first_is_one_message_sent_by_staff(twilio, store, clock):
    staff = store.add_staff("desk", "Dee", "Front Desk")[0]
    conversation = store.start_conversation(staff, add_client(store, 1))
    next_sid = f"SM{twilio._n + 1:032x}"
    # Another terminal's poller read it from the log before this send stored its answer:
    store.ingest([ProviderMessage(next_sid, "outbound", BUSINESS, "+12125550201", "See you at 6", "queued", clock(), None)])
    result = SendPipeline(store, provider_for(twilio)).send(staff, conversation.id, "See you at 6")
    assert result.ok and result.message.sid == next_sid and result.message.staff_username == "desk"
    assert not result.message.automated
    assert store.message_count() == 1
    assert store.conversation(conversation.id).folder is Folder.REPLIED


def test_a_send_answered_with_a_sid_stored_for_another_number_is_unconfirmed_not_resent(twilio, store, clock):
    staff = store.add_staff("desk", "Dee", "Front Desk")[0]
    conversation = store.start_conversation(staff, add_client(store, 1))
    next_sid = f"SM{twilio._n + 1:032x}"
    store.ingest([ProviderMessage(next_sid, "inbound", "+12125550999", BUSINESS, "someone else", "received", clock(), clock())])
    result = SendPipeline(store, provider_for(twilio)).send(staff, conversation.id, "See you at 6")
    message = store.message(result.message.id)
    assert message.status == "unconfirmed" and message.sid is None and "another number" in message.error_message
    assert store.message_count() == 2


def test_a_send_refused_with_429_is_tried_again_and_then_failed_in_true_words(twilio, store):
    staff = store.add_staff("desk", "Dee", "Front Desk")[0]
    conversation = store.start_conversation(staff, add_client(store, 1))
    pipeline = SendPipeline(store, provider_for(twilio))
    twilio.fail_next(429, retry_after="0", method="POST")
    assert pipeline.send(staff, conversation.id, "first").ok
    twilio.fail_next(429, times=twilio_provider.SEND_TRIES, method="POST")
    result = pipeline.send(staff, conversation.id, "second")
    assert not result.ok
    message = store.message(result.message.id)
    assert message.status == "failed" and "nothing was sent" in message.error_message
    assert "retrying" not in message.error_message
    assert pipeline.retry(staff, message.id).ok  # a 429 can be retried
    assert len([r for r in twilio.requests if r[0] == "POST"]) == 2 + twilio_provider.SEND_TRIES + 1


def test_a_21610_refusal_opts_the_client_out_and_is_not_offered_for_retry(twilio, store):
    from msgterm.domain.errors import ValidationError

    staff = store.add_staff("desk", "Dee", "Front Desk")[0]
    client = add_client(store, 1)
    conversation = store.start_conversation(staff, client)
    twilio.opted_out.add("+12125550201")
    result = SendPipeline(store, provider_for(twilio)).send(staff, conversation.id, "hello")
    assert not result.ok and "21610" in result.reason
    assert store.client(client).opted_out
    with pytest.raises(ValidationError, match="cannot help"):
        SendPipeline(store, provider_for(twilio)).retry(staff, result.message.id)
    with pytest.raises(ValidationError, match="opted out"):
        SendPipeline(store, provider_for(twilio)).send(staff, conversation.id, "hello again")
    assert len([r for r in twilio.requests if r[0] == "POST"]) == 1


def test_partially_delivered_is_final_and_an_inbound_without_a_sender_is_skipped(twilio, env):
    twilio.inbound("+12125550320", "fine", utcnow())
    nameless = twilio.inbound("+12125550321", "no sender", utcnow())
    nameless["from"] = None
    partial = twilio.outbound("+12125550322", "a long one", utcnow(), status="partially_delivered")
    assert cli("sync", "--once").exit_code == 0
    store = open_store(env["MSGTERM_DATABASE_URL"], business_number=BUSINESS)
    assert nameless["sid"] not in stored_sids(store) and partial["sid"] in stored_sids(store)
    assert all(c.phone for c in store.conversations(limit=10)) and len(store.conversations(limit=10)) == 2
    assert store.unfinished_outbound() == []


def test_every_number_of_a_messaging_services_pool_is_read(twilio, tmp_path):
    pool = ["+12125550100", "+12125550177"]
    twilio.services["MG" + "1" * 32] = pool
    twilio.inbound("+12125550330", "to the main number", utcnow())
    other = twilio.record(
        direction="inbound",
        from_="+12125550331",
        to=pool[1],
        body="to the pool's other number",
        status="received",
        created=utcnow(),
        sent=utcnow(),
    )
    store = open_store(tmp_path / "pool.db", business_number="MG" + "1" * 32)
    listed = provider_for(twilio, number=None, messaging_service_sid="MG" + "1" * 32)
    Poller(store, listed).poll_once()
    assert other["sid"] in stored_sids(store) and store.message_count() == 2
    assert listed.numbers == tuple(pool)
    configured = provider_for(twilio, number=None, messaging_service_sid="MG" + "2" * 32, numbers=tuple(pool))
    assert configured.numbers == tuple(pool)  # configured: nothing to list (and this service is unknown)


def test_history_never_moves_a_conversation_staff_already_handled_and_the_newest_stop_or_start_decides(any_store, clock):
    manager = any_store.add_staff("manager", "Mona", "Manager")[0]
    client = add_client(any_store, 1)
    phone = any_store.client(client).mobile_phone
    now = clock()
    any_store.ingest([ProviderMessage("SM" + "4" * 32, "inbound", phone, BUSINESS, "START", "received", now, now)])
    conversation = any_store.conversations()[0].id
    any_store.archive(manager, conversation)
    older = [
        ProviderMessage(
            "SM" + "5" * 32, "inbound", phone, BUSINESS, "STOP", "received", now - timedelta(days=2), now - timedelta(days=2)
        ),
        ProviderMessage(
            "SM" + "6" * 32, "inbound", phone, BUSINESS, "hello?", "received", now - timedelta(days=3), now - timedelta(days=3)
        ),
    ]
    result = any_store.ingest(older, history=HistoryMark(reached=now - timedelta(days=3)))
    after = any_store.conversation(conversation)
    assert (after.folder, after.unread_count) == (Folder.ARCHIVED, 0)
    assert not any_store.client(client).opted_out  # the newer START stands
    assert result.alerts == ()


def test_other_terminals_say_whose_terminal_syncs(tmp_path):
    from msgterm.sync.poller import holder_words

    assert holder_words(holder_name("Maria Lopez")).startswith("Maria Lopez's terminal on ")
    assert holder_words(holder_name("msgterm sync")).startswith("msgterm sync on ")
    assert holder_words("another-host:4242:abcd1234") == "another process on another-host"
    assert holder_is_gone(holder_name("a:b")) is False  # a colon in a name keeps the pid readable
