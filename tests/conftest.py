"""Shared fixtures: every test gets its own config, data and log directories and a fixed clock."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

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


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def store(tmp_path, clock) -> Store:
    store = open_store(tmp_path / "store.db", clock=clock, business_number=BUSINESS)
    yield store
    store.dispose()


#: The PostgreSQL server tests make throwaway databases on (.ci/run starts it).
PG_SERVER = os.environ.get("MSGTERM_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


@pytest.fixture
def pg_url():
    """A throwaway PostgreSQL database for one test, dropped afterwards.

    Without a server the test is skipped on a developer's machine, but fails under CI
    (``CI`` set), where .ci/run has started one.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    name = f"msgterm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER}: {error.orig}")
        pytest.skip(f"no PostgreSQL at {PG_SERVER} (CI starts one; see .ci/run)")
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request, tmp_path, clock) -> Store:
    """The store on each backend in turn: modules that use it run their tests on both."""
    url = tmp_path / "store.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
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
