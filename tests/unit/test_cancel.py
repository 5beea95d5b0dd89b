"""A newer search cancels the reads of the one it replaces (issue 17, point 3)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from msgterm.store.base import Superseded

#: A read that takes far longer than any test may wait (about a minute on either backend).
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500000000) SELECT count(*) FROM n"


def test_a_cancelled_read_stops_and_says_it_was_superseded(any_store):
    outcome: list[object] = []
    handles = []
    entered = threading.Event()

    def search() -> None:
        try:
            with any_store.cancellable() as handle:
                handles.append(handle)
                entered.set()
                with any_store.read() as conn:
                    outcome.append(conn.execute(text(ENDLESS)).scalar())
        except Superseded as error:
            outcome.append(error)

    worker = threading.Thread(target=search, daemon=True)
    worker.start()
    assert entered.wait(10)
    deadline = time.monotonic() + 30  # a guard for a failing test only: cancelling takes milliseconds
    while worker.is_alive() and time.monotonic() < deadline:
        handles[0].cancel()  # again until it lands: the query may not have begun at the first
        worker.join(0.05)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Superseded)
    with any_store.read() as conn:  # the connection went back to the pool in working order
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_cancelling_after_the_scope_ended_touches_nobody_elses_read(any_store):
    with any_store.cancellable() as handle, any_store.read() as conn:
        assert conn.execute(text("SELECT 2")).scalar() == 2
    handle.cancel()  # too late: its connection may be serving another read by now
    assert not handle.cancelled
    with any_store.read() as conn:
        assert conn.execute(text("SELECT 3")).scalar() == 3
