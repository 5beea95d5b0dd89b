"""Store calls off the UI thread: reads and writes run in thread workers, results come back
as calls on the UI thread.

A SQLite writer can wait seconds for another process's lock (a sync batch, an import), a
PostgreSQL query can wait on the network: the UI thread never does either. Writes run one
after another in the order they were asked for (a mute then an archive of the same
conversation end archived and muted), and a write refused because the store stayed busy
is tried again until it goes through: it was rolled back, so trying again cannot apply it
twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode
from textual.worker import get_current_worker

from msgterm.domain.errors import MsgtermError
from msgterm.store.errors import StoreBusy

log = logging.getLogger(__name__)

#: How often a write waiting for its turn looks whether the app is closing.
TURN_CHECK_SECONDS = 0.25


class StoreCalls:
    """Runs store calls for ``node`` (a screen) on worker threads."""

    def __init__(self, node: DOMNode) -> None:
        self.node = node
        self._turn = threading.Condition()
        self._issued = 0
        self._finished = 0

    @property
    def writes_pending(self) -> int:
        """Writes asked for and not finished yet."""
        with self._turn:
            return self._issued - self._finished

    def read(self, call: Callable[[], Any], then: Callable[[Any], None], *, group: str = "read", exclusive: bool = True) -> None:
        """``then(call())`` on the UI thread; with ``exclusive`` a newer read of the group
        makes an older one moot (its result is dropped)."""

        def work() -> None:
            try:
                result = call()
            except MsgtermError as error:
                self._say(error)
                return
            if not get_current_worker().is_cancelled:
                self.node.app.call_from_thread(then, result)

        self.node.run_worker(work, thread=True, group=group, exclusive=exclusive, exit_on_error=False)

    def write(
        self,
        call: Callable[[], Any],
        then: Callable[[Any], None] | None = None,
        *,
        failed: Callable[[MsgtermError], None] | None = None,
        waiting: Callable[[], None] | None = None,
        finally_: Callable[[], None] | None = None,
        retry: bool = True,
    ) -> None:
        """Run ``call`` after every write asked for before it. ``then(result)`` when it is
        stored; ``failed(error)`` when the store refused it for a reason (permissions, an
        opted-out client); ``waiting()`` each time the store stayed busy past its timeout
        (the write is tried again, unless ``retry`` is off: a send, which talks to the
        provider between its writes, must never run twice); ``finally_()`` in every case."""
        with self._turn:
            ticket = self._issued
            self._issued += 1

        def work() -> None:
            worker = get_current_worker()
            try:
                with self._turn:
                    while not self._turn.wait_for(lambda: self._finished == ticket, timeout=TURN_CHECK_SECONDS):
                        if worker.is_cancelled:
                            return
                while True:
                    try:
                        result = call()
                        break
                    except StoreBusy:
                        if worker.is_cancelled:
                            return
                        if not retry:
                            raise
                        log.info("the store stayed busy; trying the write again")
                        if waiting is not None:
                            self.node.app.call_from_thread(waiting)
                if then is not None:
                    self.node.app.call_from_thread(then, result)
            except MsgtermError as error:
                if failed is not None:
                    self.node.app.call_from_thread(failed, error)
                else:
                    self._say(error)
            finally:
                with self._turn:
                    self._finished = max(self._finished, ticket + 1)
                    self._turn.notify_all()
                if finally_ is not None and not worker.is_cancelled:
                    self.node.app.call_from_thread(finally_)

        self.node.run_worker(work, thread=True, group="store-write", exclusive=False, exit_on_error=False)

    def _say(self, error: MsgtermError) -> None:
        self.node.app.call_from_thread(self.node.app.notify, str(error), severity="error", markup=False)
