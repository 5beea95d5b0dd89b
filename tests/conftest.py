"""Shared fixtures: every test gets its own config, data and log directories and a fixed clock."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from msgterm.domain.clients import ClientInput
from msgterm.domain.provider_message import ProviderMessage
from msgterm.store import Store, open_store

BUSINESS = "+12125550100"
T0 = datetime(2026, 11, 20, 15, 0, 0)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@contextmanager
def time_zone(monkeypatch, name: str):
    """The process's local time zone is ``name`` (for local days and times) while in it."""
    monkeypatch.setenv("TZ", name)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


_MIGRATED: dict[str, object] = {}


def migrated_sqlite(path: Path) -> Path:
    """A new SQLite store at ``path``, copied from one migrated once per test process:
    running the migrations takes 0.4 s, copying the file a millisecond."""
    if "sqlite" not in _MIGRATED:
        template = Path(tempfile.mkdtemp(prefix="msgterm-template-")) / "migrated.db"
        open_store(template).dispose()
        _MIGRATED["sqlite"] = template
    shutil.copy(_MIGRATED["sqlite"], path)
    os.chmod(path, 0o600)
    return path


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("MSGTERM_", "TWILIO_")):
            monkeypatch.delenv(name)
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / f"xdg-{kind.lower()}"))
    monkeypatch.setenv("MSGTERM_STAFF", "tester")


@pytest.fixture
def twilio():
    """The project's Twilio-compatible server on 127.0.0.1 (tests/fake_twilio.py), for one test."""
    from fake_twilio import FakeTwilio

    fake = FakeTwilio(business_number=BUSINESS)
    fake.url = fake.start()
    yield fake
    fake.stop()


def point_at(twilio, monkeypatch, database) -> None:
    """The environment of a terminal whose Twilio is the fake server and whose store is ``database``."""
    from fake_twilio import ACCOUNT, TOKEN

    for key, value in {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": twilio.url,
        "MSGTERM_DATABASE_URL": str(database),
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A new store's URL (not migrated yet) on each backend in turn, for tests of processes."""
    return str(tmp_path / "shared.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def store(tmp_path, clock) -> Store:
    store = open_store(migrated_sqlite(tmp_path / "store.db"), clock=clock, business_number=BUSINESS)
    yield store
    store.dispose()


#: The PostgreSQL server tests make throwaway databases on (.ci/run starts it).
PG_SERVER = os.environ.get("MSGTERM_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
# Throwaway test databases need no commit to reach the disk before it returns (libpq reads
# PGOPTIONS, in this process and in the msgterm processes tests start): commits stop
# waiting for fsync. What a commit makes visible, and when, is unchanged.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")


def _admin():
    from sqlalchemy import create_engine

    return create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def _create_pg_database() -> str:
    """A new, empty PostgreSQL database; its URL. Skips (fails under CI) without a server."""
    from sqlalchemy.exc import OperationalError

    name = f"msgterm_test_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER}: {error.orig}")
        pytest.skip(f"no PostgreSQL at {PG_SERVER} (CI starts one; see .ci/run)")
    finally:
        admin.dispose()
    return f"{PG_SERVER}/{name}"


def _drop_pg_database(url: str) -> None:
    admin = _admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def pg_url():
    """A throwaway, empty PostgreSQL database for one test, dropped afterwards.

    Without a server the test is skipped on a developer's machine, but fails under CI
    (``CI`` set), where .ci/run has started one.
    """
    url = _create_pg_database()
    yield url
    _drop_pg_database(url)


@pytest.fixture(scope="session")
def _pg_shared():
    """One migrated database per test process, for pg_store_url; dropped at the end."""
    from sqlalchemy import create_engine, inspect

    url = _create_pg_database()
    open_store(url).dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    yield url, engine, "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
    engine.dispose()
    _drop_pg_database(url)


@pytest.fixture
def pg_store_url(_pg_shared):
    """A migrated PostgreSQL store emptied for this test: the process's shared database with
    its tables truncated (creating and migrating a database takes 0.8 s, emptying one 30 ms)."""
    url, engine, truncate = _pg_shared
    with engine.connect() as conn:
        conn.exec_driver_sql(  # a connection an earlier test left open must not hold the truncate up
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        conn.exec_driver_sql(truncate)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path, clock) -> Store:
    """The store on each backend in turn: modules that use it run their tests on both."""
    url = migrated_sqlite(tmp_path / "store.db") if request.param == "sqlite" else request.getfixturevalue("pg_store_url")
    store = open_store(url, clock=clock, business_number=BUSINESS)
    yield store
    store.dispose()


@pytest.fixture
def manager(store):
    return store.add_staff("manager", "Mona Manager", "Manager")[0]


@pytest.fixture
def front_desk(store):
    return store.add_staff("desk", "Dee Desk", "Front Desk")[0]


@pytest.fixture
def viewer(store):
    return store.add_staff("viewer", "Vic Viewer", "Viewer")[0]


def add_client(store: Store, n: int = 1, **overrides) -> int:
    values = dict(
        client_id=f"C{n:03d}",
        uid=f"UID{n:03d}",
        first_name=f"First{n}",
        last_name=f"Last{n}",
        mobile_phone=f"+1212555{n + 200:04d}",
        email=f"client{n}@example.com",
        client_type="Member",
        groups=("Yoga regulars",),
        home_location="Downtown",
    )
    values.update(overrides)
    store.upsert_clients([(0, ClientInput(**values))])
    return store.client_by_ref(values["client_id"]).id


_sid = 0


def inbound(store: Store, phone: str, body: str = "hello", at: datetime | None = None):
    global _sid
    _sid += 1
    at = at or store.clock()
    return store.ingest([ProviderMessage(f"SMin{_sid:030d}", "inbound", phone, BUSINESS, body, "received", at, at)])


def automated(store: Store, phone: str, body: str = "Reminder", at: datetime | None = None):
    global _sid
    _sid += 1
    at = at or store.clock()
    return store.ingest([ProviderMessage(f"SMau{_sid:030d}", "outbound", BUSINESS, phone, body, "delivered", at, at)])


def staff_send(store: Store, staff, conversation_id: int, body: str = "reply"):
    global _sid
    _sid += 1
    sending = store.begin_send(staff, conversation_id, body)
    now = store.clock()
    return store.finish_send(
        staff, sending.id, ProviderMessage(f"SMst{_sid:030d}", "outbound", BUSINESS, sending.to_number, body, "queued", now)
    )
