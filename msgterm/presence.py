"""This terminal's presence in the store: which conversation it has open, and whether its
composer has the focus. The UI says where it is as often as it likes (no I/O); a thread of
its own writes a change at once and renews the same every few seconds, so that a terminal
that crashed is gone from the others' threads when its presence expires (team.py)."""

from __future__ import annotations

import logging
import threading

from msgterm.domain.permissions import StaffMember
from msgterm.store.team import PRESENCE_LIFETIME, TeamStore

log = logging.getLogger(__name__)

#: How often an unchanged presence is written again (a third of its lifetime).
RENEW_SECONDS = PRESENCE_LIFETIME.total_seconds() / 3


class PresenceWriter:
    def __init__(self, store: TeamStore, staff: StaffMember, terminal: str) -> None:
        self.store = store
        self.staff = staff
        self.terminal = terminal
        self._wanted: tuple[int | None, bool] = (None, False)
        self._written: tuple[int | None, bool] = (None, False)
        self._changed = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def at(self, conversation_id: int | None, *, replying: bool) -> None:
        """Where this terminal is now (called from the UI thread, never waits)."""
        wanted = (conversation_id, replying and conversation_id is not None)
        with self._changed:
            if wanted == self._wanted:
                return
            self._wanted = wanted
            self._changed.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="presence", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Leave every conversation (at quit), waiting briefly for the write."""
        with self._changed:
            self._stopped = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._stopped and self._wanted == self._written:
                    self._changed.wait(RENEW_SECONDS)
                stopped, wanted = self._stopped, self._wanted
            if stopped:
                wanted = (None, False)
            if wanted[0] is not None or wanted != self._written:
                try:
                    self.store.set_presence(self.terminal, self.staff, wanted[0], replying=wanted[1])
                    self._written = wanted
                except Exception as error:  # noqa: BLE001 - presence is best effort: tried again next time
                    log.warning("cannot write this terminal's presence (%s)", type(error).__name__)
                    with self._changed:
                        self._changed.wait(RENEW_SECONDS)
            if stopped:
                return
