"""Build a large, realistic msgterm store for the benchmarks.

    uv run python bench/make_store.py --db /tmp/big.db --clients 100000 --messages 1000000

Seeded: the same arguments give the same store. The schema comes from msgterm's own
migrations; rows go in through sqlite3 directly (the generator is not what is measured),
in time order, so that row ids follow time as they do when the poller stores the log.
Conversation #1 holds exactly 2,000 messages and the newest one (the "open a long
conversation" case, first in the All folder), the
word "aquafit" is rare, and client numbers hold fragments such as "0142".
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from msgterm.domain.sanitize import clean_line  # noqa: E402
from msgterm.store import (
    open_store,  # noqa: E402
    schema,  # noqa: E402
)
from msgterm.store.directory import client_search_text  # noqa: E402

BUSINESS = "+12125550100"
LONG_CONVERSATION = 2000
FIRST = "Ada Grace Alan Barbara Edsger Katherine Linus Margaret Ken Dennis Frances Radia Guido Yukihiro Sophie Anita Hedy Jean Carol Tim Joan Donald Niklaus John Mary".split()
LAST = "Lovelace Hopper Turing Liskov Dijkstra Johnson Torvalds Hamilton Thompson Ritchie Allen Perlman Rossum Matsumoto Wilson Borg Lamarr Sammet Shaw Berners Clarke Knuth Wirth Backus Kenneth".split()
TYPES = (("Member", 60), ("Prospect", 25), ("Former member", 15))
GROUPS = (("VIP", 5), ("Yoga regulars", 20), ("Early birds", 10), ("Pilates", 10), ("Corporate", 5))
LOCATIONS = ("Downtown", "Uptown", "Riverside", "Midtown")
CLASSES = "Vinyasa Flow,Hot Yoga,Yin Yoga,Pilates Reformer,Spin,HIIT,Barre,Boxing,Zumba,Mat Pilates".split(",")
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
TIMES = "6am 7am 9am 12pm 5:30pm 6pm 7:15pm".split()
INBOUND = (
    "Hi, is there space in the {cls} class on {day} at {time}?",
    "Can I move my {cls} booking to {day}?",
    "Running 10 min late, please hold my spot",
    "Thanks! See you {day}",
    "Is the {cls} class beginner friendly?",
    "I need to cancel {day}, sorry",
    "Do I need to bring a mat for {cls}?",
    "What time does the studio open on {day}?",
    "Can I freeze my membership for a month?",
    "Perfect, thank you so much",
    "Is parking free after {time}?",
    "My card was declined, can you try again?",
)
OUTBOUND = (
    "Yes, you're booked for {cls} on {day} at {time}",
    "No problem, we moved you to {day} at {time}",
    "Reminder: {cls} tomorrow at {time}. Reply C to cancel.",
    "Thanks for letting us know!",
    "We open at {time} on {day}s",
    "New class alert: {cls} starts {day} at {time}!",
    "Your membership renews on {day}. Questions? Just reply.",
)
RARE = "Our aquafit class is back on {day} at {time}!"


def weighted(rng: random.Random, choices) -> str:
    return rng.choices([name for name, _ in choices], weights=[w for _, w in choices])[0]


def body(rng: random.Random, inbound: bool) -> str:
    if rng.random() < 0.00002:
        template = RARE
    else:
        template = rng.choice(INBOUND if inbound else OUTBOUND)
    return template.format(cls=rng.choice(CLASSES), day=rng.choice(DAYS), time=rng.choice(TIMES))


def _sqlite_writer(column):
    """How the store writes ``column`` into SQLite: the same text or number, to the character."""
    from sqlalchemy.dialects import sqlite

    return column.type.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())


message_time = _sqlite_writer(schema.message.c.created_at)
sent_time = _sqlite_writer(schema.message.c.sent_at)
activity_time = _sqlite_writer(schema.conversation.c.last_activity_at)
created_time = _sqlite_writer(schema.conversation.c.created_at)


def build(path: Path, clients: int, messages: int, seed: int) -> None:
    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = open_store(path, business_number=BUSINESS)
    store.add_staff("bench", "Bench Mark", "Manager")
    store.dispose()

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    for table, names in (
        ("client_type", [t for t, _ in TYPES]),
        ("client_group", [g for g, _ in GROUPS]),
        ("location", LOCATIONS),
    ):
        db.executemany(f"INSERT INTO {table}(name) VALUES (?)", [(n,) for n in names])
    type_ids = {n: i for i, n in db.execute("SELECT id, name FROM client_type")}
    group_ids = {n: i for i, n in db.execute("SELECT id, name FROM client_group")}
    location_ids = {n: i for i, n in db.execute("SELECT id, name FROM location")}

    phones = [f"+1212{200 + i // 10000:03d}{i % 10000:04d}" for i in range(clients)]
    client_rows, members = [], []
    for i in range(clients):
        values = {
            "client_id": f"C{i + 1:06d}",
            "uid": f"CARD-{i + 1:06d}",
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "mobile_phone": phones[i],
        }
        values["email"] = f"{values['first_name']}.{values['last_name']}{i + 1}@example.com".lower()
        client_rows.append(
            (
                values["client_id"],
                values["uid"],
                values["first_name"],
                values["last_name"],
                values["mobile_phone"],
                values["email"],
                type_ids[weighted(rng, TYPES)],
                location_ids[rng.choice(LOCATIONS)],
                0,
                client_search_text(values),
            )
        )
        for group, percent in GROUPS:
            if rng.randrange(100) < percent:
                members.append((i + 1, group_ids[group]))
    db.executemany(
        "INSERT INTO client(client_id, uid, first_name, last_name, mobile_phone, email, client_type_id, home_location_id, opted_out, search_text)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        client_rows,
    )
    db.executemany("INSERT INTO client_group_member(client_id, group_id) VALUES (?, ?)", members)
    db.execute("COMMIT")

    # One conversation per client; one in twenty is an unknown sender instead.
    conversations = clients
    numbers = [phones[c] if c % 20 else f"+1646{300 + c // 10000:03d}{c % 10000:04d}" for c in range(conversations)]
    owners = [c + 1 if c % 20 else None for c in range(conversations)]

    now = datetime.utcnow().replace(microsecond=0)
    start = now - timedelta(days=730)
    step = (now - start) / messages
    last = [None] * conversations  # (time, preview, direction)
    unread = [0] * conversations
    first_seen: list[datetime | None] = [None] * conversations
    batch = []
    db.execute("BEGIN")
    for n in range(messages):
        at = start + step * n
        # Conversation #1 takes every (messages / 2000)th message, the very last among them, so
        # it heads the All folder; the rest are skewed to early ids.
        every = max(1, messages // LONG_CONVERSATION)
        if n % every == every - 1 and n // every < LONG_CONVERSATION:
            c = 0
        else:
            c = 1 + int((conversations - 1) * rng.random() ** 2)
        inbound = rng.random() < 0.55
        text = body(rng, inbound)
        phone = numbers[c]
        batch.append(
            (
                f"SM{seed:04x}{n:028x}",
                c + 1,
                "inbound" if inbound else "outbound",
                text,
                "received" if inbound else "delivered",
                phone if inbound else BUSINESS,
                BUSINESS if inbound else phone,
                message_time(at),
                sent_time(at),
                1,
                0,
                None,
                0 if inbound else 1,
            )
        )
        if first_seen[c] is None:
            first_seen[c] = at
        last[c] = (at, text, "inbound" if inbound else "outbound")
        unread[c] = unread[c] + 1 if inbound else 0
        if len(batch) == 50_000:
            _insert_messages(db, batch)
            batch = []
    _insert_messages(db, batch)
    db.execute("COMMIT")

    db.execute("BEGIN")
    rows = []
    for c in range(conversations):
        at, text, direction = last[c] or (start, "", "")
        roll = rng.random()
        folder = "archived" if roll < 0.08 else ("unread" if unread[c] else "replied" if direction == "outbound" else "read")
        rows.append(
            (
                BUSINESS,
                numbers[c],
                owners[c],
                folder,
                unread[c] if folder == "unread" else 0,
                int(rng.random() < 0.03),
                activity_time(at),
                clean_line(text)[:120],
                direction,
                created_time(first_seen[c] or start),
            )
        )
    db.executemany(
        "INSERT INTO conversation(business_number, phone, client_id, folder, unread_count, muted, last_activity_at,"
        " last_preview, last_direction, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute("COMMIT")
    db.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _insert_messages(db: sqlite3.Connection, batch: list[tuple]) -> None:
    db.executemany(
        "INSERT INTO message(sid, conversation_id, direction, body, status, from_number, to_number, created_at, sent_at,"
        " num_segments, num_media, staff_id, automated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )


def sqlite_path(text: str) -> Path:
    """The store's file. A database URL is refused in words: this benchmark writes SQLite
    files only so far (PostgreSQL is issue 17), and a URL would become a folder here."""
    if "://" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is a database URL; this benchmark takes a SQLite file path")
    return Path(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=sqlite_path)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    began = time.perf_counter()
    build(args.db, args.clients, args.messages, args.seed)
    print(
        f"built {args.db}: {args.clients} clients, {args.clients} conversations, {args.messages} messages "
        f"in {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
