"""Build a large, realistic msgterm store for the benchmarks.

    uv run python bench/make_store.py --db /tmp/big.db --clients 100000 --messages 1000000

    uv run python bench/make_store.py --db postgresql+psycopg://postgres@127.0.0.1/msgterm_bench

Seeded: the same arguments give the same store, on either backend. The schema comes from
msgterm's own migrations; rows go in directly (the generator is not what is measured):
executemany on SQLite, COPY on PostgreSQL with the secondary indexes built after the load,
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


class SqliteRows:
    """Rows into a SQLite store through sqlite3, times written as the store writes them."""

    def __init__(self, path: Path) -> None:
        from sqlalchemy.dialects import sqlite

        dialect = sqlite.dialect()
        self.times = {
            (table.name, column.name): column.type.dialect_impl(dialect).bind_processor(dialect)
            for table in (schema.message, schema.conversation)
            for column in table.columns
            if column.name in ("created_at", "sent_at", "last_activity_at")
        }
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("BEGIN")

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        converters = [self.times.get((table, name)) for name in columns]
        if any(converters):
            rows = [tuple(c(v) if c else v for c, v in zip(converters, row, strict=True)) for row in rows]
        marks = ", ".join("?" * len(columns))
        self.db.executemany(f"INSERT INTO {table}({', '.join(columns)}) VALUES ({marks})", rows)

    def close(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
        self.db.execute("ANALYZE")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()


#: The tables the generator fills; on PostgreSQL their secondary indexes are built after the load.
LOADED = ("client", "client_group_member", "conversation", "message")


class PostgresRows:
    """Rows into a PostgreSQL store with COPY: its secondary indexes dropped first and built
    again after the load (one sort each instead of a million inserts), then ANALYZE."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.db = psycopg.connect(dsn(url), autocommit=True)
        self.indexes = self.db.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' AND tablename = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (list(LOADED),),
        ).fetchall()
        for name, _definition in self.indexes:
            self.db.execute(f'DROP INDEX "{name}"')

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        with self.db.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def close(self) -> None:
        self.db.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in self.indexes:
            self.db.execute(definition)
        for table in ("client", "conversation", "message", "client_type", "client_group", "location"):
            self.db.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
        self.db.execute("VACUUM ANALYZE")
        self.db.close()


def dsn(url: str) -> str:
    """A libpq connection string from msgterm's SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_postgres(url: str) -> None:
    """Drop and create the database of ``url``, as the SQLite builder removes its file."""
    import psycopg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    with psycopg.connect(dsn(str(target.set(database="postgres"))), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{target.database}"')


def is_postgres(db: str) -> bool:
    return db.startswith("postgresql")


def build(db, clients: int, messages: int, seed: int) -> None:
    """Build the store at ``db``: a SQLite path, or a PostgreSQL URL (the database is made anew)."""
    rng = random.Random(seed)
    db = str(db)
    if is_postgres(db):
        fresh_postgres(db)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    store = open_store(db, business_number=BUSINESS)
    store.add_staff("bench", "Bench Mark", "Manager")
    store.dispose()

    out = PostgresRows(db) if is_postgres(db) else SqliteRows(Path(db))
    ids = {}
    for table, names in (
        ("client_type", [t for t, _ in TYPES]),
        ("client_group", [g for g, _ in GROUPS]),
        ("location", LOCATIONS),
    ):
        out.insert(table, ("id", "name"), list(enumerate(names, start=1)))
        ids[table] = {name: n for n, name in enumerate(names, start=1)}

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
                i + 1,
                values["client_id"],
                values["uid"],
                values["first_name"],
                values["last_name"],
                values["mobile_phone"],
                values["email"],
                ids["client_type"][weighted(rng, TYPES)],
                ids["location"][rng.choice(LOCATIONS)],
                False,
                client_search_text(values),
            )
        )
        for group, percent in GROUPS:
            if rng.randrange(100) < percent:
                members.append((i + 1, ids["client_group"][group]))
    out.insert(
        "client",
        ("id", "client_id", "uid", "first_name", "last_name", "mobile_phone", "email", "client_type_id", "home_location_id")
        + ("opted_out", "search_text"),
        client_rows,
    )
    out.insert("client_group_member", ("client_id", "group_id"), members)

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

    # Conversations first (messages refer to them), their last message and folder known
    # only once every message is made: the messages are made first, held, then written.
    batch = []
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
                n + 1,
                f"SM{seed:04x}{n:028x}",
                c + 1,
                "inbound" if inbound else "outbound",
                text,
                "received" if inbound else "delivered",
                phone if inbound else BUSINESS,
                BUSINESS if inbound else phone,
                at,
                at,
                1,
                0,
                None,
                not inbound,
            )
        )
        if first_seen[c] is None:
            first_seen[c] = at
        last[c] = (at, text, "inbound" if inbound else "outbound")
        unread[c] = unread[c] + 1 if inbound else 0

    rows = []
    for c in range(conversations):
        at, text, direction = last[c] or (start, "", "")
        roll = rng.random()
        folder = "archived" if roll < 0.08 else ("unread" if unread[c] else "replied" if direction == "outbound" else "read")
        rows.append(
            (
                c + 1,
                BUSINESS,
                numbers[c],
                owners[c],
                folder,
                unread[c] if folder == "unread" else 0,
                rng.random() < 0.03,
                at,
                clean_line(text)[:120],
                direction,
                first_seen[c] or start,
            )
        )
    out.insert(
        "conversation",
        ("id", "business_number", "phone", "client_id", "folder", "unread_count", "muted", "last_activity_at")
        + ("last_preview", "last_direction", "created_at"),
        rows,
    )
    columns = ("id", "sid", "conversation_id", "direction", "body", "status", "from_number", "to_number", "created_at")
    columns += ("sent_at", "num_segments", "num_media", "staff_id", "automated")
    for offset in range(0, len(batch), 50_000):
        out.insert("message", columns, batch[offset : offset + 50_000])
    out.close()


def database(text: str) -> str:
    """A SQLite path or a PostgreSQL URL (``postgresql+psycopg://user@host/dbname``)."""
    if "://" in text and not is_postgres(text):
        raise argparse.ArgumentTypeError(f"{text!r}: give a SQLite file path or a postgresql+psycopg:// URL")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=database)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    began = time.perf_counter()
    build(args.db, args.clients, args.messages, args.seed)
    shown = args.db if not is_postgres(args.db) else args.db.split("@")[-1]
    print(
        f"built {shown}: {args.clients} clients, {args.clients} conversations, {args.messages} messages "
        f"in {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    main()
