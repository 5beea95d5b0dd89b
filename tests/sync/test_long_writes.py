"""Long writes take turns: an import in another process leaves room for every other writer,
and a sync that finds the store locked waits for it instead of giving up."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from conftest import BUSINESS, add_client, inbound, point_at

from msgterm.cli import main
from msgterm.store import engine, open_store

HEADER = "client_id,uid,first_name,last_name,mobile_phone,email,client_type,groups,home_location\n"


def write_directory(path, count: int) -> None:
    rows = (
        f"I{n},IU{n},Imported{n},Client{n},+1646{5550000 + n:07d},i{n}@example.com,Member,VIP;Yoga,Downtown\n"
        for n in range(count)
    )
    path.write_text(HEADER + "".join(rows), encoding="utf-8")


def test_writes_beside_a_big_import_wait_a_moment_not_the_whole_import(tmp_path, monkeypatch):
    db = tmp_path / "shared.db"
    store = open_store(db, business_number=BUSINESS)
    desk = store.add_staff("desk", "Dee Desk", "Front Desk")[0]
    phone = store.client(add_client(store, 1)).mobile_phone
    (conversation,) = inbound(store, phone, "Can I book?").changed_conversations
    store.dispose()

    csv_path = tmp_path / "directory.csv"
    count = 2_500
    write_directory(csv_path, count)
    importer = subprocess.Popen(
        [sys.executable, "-m", "msgterm", "--db", str(db), "clients", "import", str(csv_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    # This terminal gives up on the write lock after 1.5 s: one import transaction for the
    # whole file (seconds) would make these writes fail with "the store is busy".
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 1_500)
    store = open_store(db, business_number=BUSINESS)
    reader = sqlite3.connect(db)
    writes, seen_midway = 0, []
    while importer.poll() is None:
        if writes % 3 == 0:
            store.archive(desk, conversation)
        elif writes % 3 == 1:
            inbound(store, phone, f"message {writes}")
        else:
            store.mark_unread(desk, conversation)
        writes += 1
        imported = reader.execute("SELECT count(*) FROM client").fetchone()[0] - 1
        if 0 < imported < count:
            seen_midway.append(imported)
    out, err = importer.communicate(timeout=120)
    assert importer.returncode == 0, err.decode()
    assert f"imported {count} new".encode() in out
    # Writes went on while the import was partly stored, each within the 1.5 s.
    assert len(seen_midway) >= 3 and len(set(seen_midway)) >= 2, seen_midway
    assert len(store.find_clients("Imported", limit=count + 10)) == count
    bodies = [m.body for m in store.messages(conversation, limit=100)]
    assert sum(1 for body in bodies if body.startswith("message ")) == min(100, writes // 3 + (writes % 3 > 1))


def test_sync_once_waits_for_a_store_another_program_is_writing(tmp_path, monkeypatch, twilio):
    db = tmp_path / "locked.db"
    point_at(twilio, monkeypatch, db)
    open_store(db, business_number=BUSINESS).dispose()
    twilio.inbound("+12125550777", "while the store was locked", datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1))
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 300)

    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another program's long write
    released = threading.Event()

    def release_later():
        time.sleep(2.0)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=release_later, daemon=True).start()
    result = CliRunner().invoke(main, ["sync", "--once"])
    assert result.exit_code == 0, result.output
    assert released.is_set()
    store = open_store(db, business_number=BUSINESS)
    assert [c.last_preview for c in store.conversations()] == ["while the store was locked"]
