"""One front desk, many terminals (PRODUCT.md §2 and §6): PostgreSQL and a shared SQLite file.

PostgreSQL tests run against the real server on this machine, each in a throwaway
database (conftest.pg_url); the same tests run on SQLite files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from app_fixtures import build_store, make_app
from click.testing import CliRunner
from conftest import BUSINESS, add_client, inbound, staff_send
from fake_twilio import ACCOUNT, TOKEN

from msgterm.cli import main
from msgterm.domain.folders import Folder
from msgterm.domain.provider_message import ProviderMessage
from msgterm.store import LeaseLost, open_store
from msgterm.store.engine import make_engine
from msgterm.store.errors import StoreBusy


def environment(twilio, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": twilio.url,
        "MSGTERM_DATABASE_URL": url,
        "MSGTERM_POLL_INTERVAL": "1",
    }


# ---- every command on PostgreSQL -------------------------------------------------------------------


def test_every_command_works_on_postgresql(pg_url, twilio, tmp_path, monkeypatch):
    for key, value in environment(twilio, pg_url).items():
        monkeypatch.setenv(key, value)
    run = lambda *args: CliRunner().invoke(main, list(args), catch_exceptions=False)  # noqa: E731
    assert run("staff", "add", "tester", "--name", "Tess Ter", "--role", "Manager").exit_code == 0
    csv = tmp_path / "clients.csv"
    csv.write_text(
        "client_id,uid,first_name,last_name,mobile_phone,email,client_type,groups,home_location\n"
        "C1,U1,Ada,Lovelace,(212) 555-0142,ada@example.com,Member,VIP,Downtown\n"
    )
    imported = run("clients", "import", str(csv))
    assert imported.exit_code == 0, imported.output
    twilio.inbound("+12125550142", "Is the pool open?", datetime.now(UTC).replace(tzinfo=None))
    assert run("sync", "--once").exit_code == 0
    sent = run("send", "C1", "Yes, until 9pm")
    assert sent.exit_code == 0, sent.output
    exported = run("export", "--json").output
    assert "Is the pool open?" in exported and "Yes, until 9pm" in exported
    assert "tester" in run("staff", "list").output
    store = open_store(pg_url)
    (conversation,) = store.conversations()
    assert conversation.folder is Folder.REPLIED
    store.dispose()


# ---- exactly one poller ---------------------------------------------------------------------------


def _spawn(env, log_path):
    out = open(log_path, "w")
    return subprocess.Popen([sys.executable, "-m", "msgterm", "sync"], env=env, stdout=out, stderr=out)


def test_one_poller_among_several_processes_and_takeover_after_sigkill(store_url, twilio, tmp_path):
    open_store(store_url).dispose()  # migrate once, before the processes race to
    twilio.inbound("+12125550310", "hi", datetime.now(UTC).replace(tzinfo=None))
    env = environment(twilio, store_url) | {"MSGTERM_POLL_INTERVAL": "2"}
    logs = [tmp_path / f"p{n}.log" for n in range(3)]
    processes = [_spawn(env, log) for log in logs]
    try:
        started = time.monotonic()
        while time.monotonic() - started < 20 and not all(log.read_text().count("\n") >= 2 for log in logs):
            time.sleep(0.2)  # three interpreters starting on two cores: wait for two cycles each
        polling = [n for n, log in enumerate(logs) if "sync ok" in log.read_text()]
        assert len(polling) == 1, [log.read_text() for log in logs]
        holder = polling[0]
        assert all("sync runs in msgterm sync on" in logs[n].read_text() for n in range(3) if n != holder)
        marks = {n: len(logs[n].read_text()) for n in range(3)}
        processes[holder].send_signal(signal.SIGKILL)
        processes[holder].wait()
        killed_at = time.monotonic()
        took_over = []
        while not took_over and time.monotonic() - killed_at < 10:
            took_over = [n for n in range(3) if n != holder and "sync ok" in logs[n].read_text()[marks[n] :]]
            time.sleep(0.1)
        assert len(took_over) == 1
        # Two poll intervals, plus slack for the new holder's first cycle and its log line.
        assert time.monotonic() - killed_at <= 2 * 2 + 1.5
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)


def test_a_stalled_holder_whose_lease_ran_out_cannot_commit(any_store, clock):
    stalled = any_store.acquire_lease("stalled", timedelta(seconds=30))
    clock.advance(seconds=31)  # it slept through its lease
    fresh = any_store.acquire_lease("fresh", timedelta(seconds=30))
    assert fresh == stalled + 1
    batch = [ProviderMessage("SM" + "1" * 32, "inbound", "+12125550142", BUSINESS, "late", "received", clock(), clock())]
    with pytest.raises(LeaseLost):
        any_store.ingest(batch, watermark=clock(), fence=("stalled", stalled))
    assert any_store.message_count() == 0 and any_store.sync_status().watermark is None
    any_store.ingest(batch, watermark=clock(), fence=("fresh", fresh))
    assert any_store.message_count() == 1


# ---- conflicting actions ---------------------------------------------------------------------------


def test_archive_and_reply_end_as_the_rules_say_in_commit_order(any_store, clock):
    manager = any_store.add_staff("manager", "Mona", "Manager")[0]
    add_client(any_store, 1)
    (cid,) = inbound(any_store, any_store.client_by_ref("C001").mobile_phone, "hi").changed_conversations
    any_store.archive(manager, cid)
    staff_send(any_store, manager, cid, "reply after the archive")
    assert any_store.conversation(cid).folder is Folder.REPLIED
    staff_send(any_store, manager, cid, "reply before the archive")
    any_store.archive(manager, cid)
    assert any_store.conversation(cid).folder is Folder.ARCHIVED


SENDER = textwrap.dedent(
    """
    import sys
    from msgterm.settings import TwilioSettings
    from msgterm.store import open_store
    from msgterm.sync.send import SendPipeline
    from msgterm.sync.twilio_provider import TwilioProvider
    url, api, who, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = open_store(url, business_number="{business}")
    staff = store.staff_member(who)
    provider = TwilioProvider(TwilioSettings(account_sid="{account}", auth_token="{token}", number="{business}", api_url=api))
    pipeline = SendPipeline(store, provider, "US")
    conversation = store.conversation_for_client(store.client_by_ref("C001").id)
    for n in range(count):
        result = pipeline.send(staff, conversation.id, f"{{who}} reply {{n}}")
        assert result.ok, result.reason
    """
).format(business=BUSINESS, account=ACCOUNT, token=TOKEN)


def test_two_staff_sending_at_once_each_message_goes_once(store_url, twilio, tmp_path):
    store = open_store(store_url, business_number=BUSINESS)
    for who in ("dee", "max"):
        store.add_staff(who, who, "Front Desk")
    add_client(store, 1)
    store.start_conversation(store.staff_member("dee"), store.client_by_ref("C001").id)
    script = tmp_path / "sender.py"
    script.write_text(SENDER)
    senders = [
        subprocess.Popen([sys.executable, str(script), store_url, twilio.url, who, "15"], stderr=subprocess.PIPE, text=True)
        for who in ("dee", "max")
    ]
    for sender in senders:
        assert sender.wait(timeout=120) == 0, sender.stderr.read()
    posted = [m for m in twilio.messages if m["direction"] != "inbound"]
    assert sorted(m["body"] for m in posted) == sorted(f"{who} reply {n}" for who in ("dee", "max") for n in range(15))
    (conversation,) = store.conversations()
    stored = store.messages(conversation.id)
    assert sorted(m.body for m in stored) == sorted(m["body"] for m in posted)
    assert len({m.sid for m in stored}) == 30 and all(m.status != "failed" for m in stored)
    assert conversation.folder is Folder.REPLIED
    store.dispose()


# ---- the live view across terminals ------------------------------------------------------------------


async def test_a_terminal_sees_another_terminals_changes_within_two_seconds(tmp_path, request):
    for backend in ("sqlite", "postgresql"):
        url = str(tmp_path / "live.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
        store, clock = build_store(tmp_path, url=url)
        other = open_store(url, clock=clock, business_number=BUSINESS)  # the second terminal
        desk = other.staff_member("desk")
        app = make_app(store, clock, watch_changes=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("4")
            listing = app.screen.query_one("#conversations")
            listing.action_cursor_down()
            selected = listing.selected.id
            target = next(c for c in other.conversations() if c.folder is Folder.UNREAD and c.id != selected)
            changed_at = time.monotonic()
            other.archive(desk, target.id)
            while app.store.conversation(target.id).folder is not Folder.ARCHIVED or not _shown_as(
                listing, target.id, Folder.ARCHIVED
            ):
                await pilot.pause(0.05)
                assert time.monotonic() - changed_at < 2, f"{backend}: the archive did not show within 2 s"
            assert listing.selected.id == selected  # the selection stayed where the user left it
            arrival = time.monotonic()
            inbound(other, other.conversation(selected).phone, "one more thing")
            while listing.selected.last_preview != "one more thing":
                await pilot.pause(0.05)
                assert time.monotonic() - arrival < 2, f"{backend}: the new message did not show within 2 s"
        other.dispose()
        store.dispose()


def _shown_as(listing, conversation_id, folder) -> bool:
    return any(
        (row := listing.row(i)) is not None and row.id == conversation_id and row.folder is folder for i in range(listing.count)
    )


async def test_a_reply_written_while_new_messages_arrived_warns_before_sending(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        conversation = next(c for c in store.conversations() if c.title == "Ada Lovelace")
        app.screen.query_one("#conversations").select_id(conversation.id)
        await pilot.press("enter", "r", *"See you then")
        before = len(store.messages(conversation.id))
        other = open_store(store.engine.url.render_as_string(hide_password=False), clock=clock, business_number=BUSINESS)
        inbound(other, conversation.phone, "Actually, can we make it 7?")
        inbound(other, conversation.phone, "Or 7:30")
        await pilot.press("enter")
        await pilot.pause()
        assert len(store.messages(conversation.id)) == before + 2  # nothing sent
        notices = [n.message for n in app._notifications]
        assert any("2 new messages since you opened this conversation" in n for n in notices)
        await pilot.press("enter")  # read them; send as it is
        await app.workers.wait_for_complete()
        assert store.messages(conversation.id)[-1].body == "See you then"
        other.dispose()


# ---- a busy SQLite file -----------------------------------------------------------------------------


def test_a_write_that_cannot_get_the_lock_is_reported_and_changes_nothing(tmp_path, monkeypatch, clock):
    import msgterm.store.engine as engine_module

    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "busy.db"
    store = open_store(path, clock=clock, business_number=BUSINESS)
    manager = store.add_staff("manager", "Mona", "Manager")[0]
    add_client(store, 1)
    (cid,) = inbound(store, store.client_by_ref("C001").mobile_phone, "hi").changed_conversations
    holder = make_engine(path).raw_connection()
    holder.driver_connection.execute("BEGIN IMMEDIATE")  # another terminal mid-write
    try:
        with pytest.raises(StoreBusy, match="the store is busy"):
            store.archive(manager, cid)
    finally:
        holder.driver_connection.execute("ROLLBACK")
        holder.close()
    assert store.conversation(cid).folder is Folder.UNREAD
    store.archive(manager, cid)  # and once the lock is free, it goes through
    assert store.conversation(cid).folder is Folder.ARCHIVED


def test_terminals_on_one_sqlite_file_writing_at_once_lose_nothing(tmp_path, clock):
    path = tmp_path / "busy.db"
    stores = [open_store(path, business_number=BUSINESS) for _ in range(4)]
    errors = []

    def terminal(n: int) -> None:
        try:
            for i in range(40):
                inbound(stores[n], f"+1212555{2000 + n:04d}", f"terminal {n} message {i}")
        except Exception as error:  # noqa: BLE001 - the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=terminal, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].message_count() == 160
    for store in stores:
        store.dispose()


async def test_a_dropped_postgresql_connection_comes_back_and_the_view_catches_up(pg_url):
    """The server ends every connection of this terminal (pg_terminate_backend): the change
    watcher listens again and the list shows what another terminal did meanwhile."""
    from sqlalchemy import create_engine, text

    store, clock = build_store(None, url=pg_url)
    other = open_store(pg_url, clock=clock, business_number=BUSINESS)
    app = make_app(store, clock, watch_changes=True)
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        listing = app.screen.query_one("#conversations")
        while store._listener is None:  # the watcher is listening
            await pilot.pause(0.05)
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
        assert killed >= 2  # the listener and the other terminal's pool, at least
        target = listing.selected
        inbound(other, other.conversation(target.id).phone, "sent while the line was down")
        deadline = time.monotonic() + 15
        while listing.selected.last_preview != "sent while the line was down":
            await pilot.pause(0.1)
            assert time.monotonic() < deadline, "the view never caught up after the connection was dropped"
        assert app.is_running
    admin.dispose()
    other.dispose()
    store.dispose()
