"""The poller: keeps the store in step with the provider's message log (PRODUCT.md §2).

``Poller.poll_once()`` is plain code. The app runs it in a worker, ``msgterm sync`` in a
loop; both go through ``PollLoop`` for the lease, the interval and the backoff.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from msgterm.domain.when import QuietHours
from msgterm.store import LeaseLost
from msgterm.store.errors import StoreBusy, describe_database_error
from msgterm.sync.cycle import Cycle, CycleReport, HistoryProgress
from msgterm.sync.ports import SyncLedger
from msgterm.sync.provider import AuthFailed, Provider, ProviderError, RateLimited

log = logging.getLogger(__name__)

#: How ``msgterm sync`` names itself as the lease holder.
SYNC_COMMAND = "msgterm sync"


def holder_name(who: str = "") -> str:
    """Who polls: host and process id (so that a dead holder on this host can be told), a
    random part (so that a process whose id was reused is not taken for the old one), and
    whose terminal it is, for other terminals to say."""
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return f"{name}:{who.replace(':', ' ')}" if who else name


def holder_words(holder: str | None) -> str:
    """Where sync runs, in words: "Maria Lopez's terminal on desk-2", "msgterm sync on vm"."""
    if not holder:
        return "another terminal"
    host, _pid, _random, who = (holder.split(":", 3) + ["", "", ""])[:4]
    if not who:
        return f"another process on {host}"
    if who == SYNC_COMMAND:
        return f"{SYNC_COMMAND} on {host}"
    return f"{who}'s terminal on {host}"


def holder_is_gone(holder: str) -> bool:
    """Whether ``holder`` names a process of this host that no longer runs. A holder on
    another host cannot be told: its lease must run out."""
    host, _, rest = holder.partition(":")
    pid_text, _, _random = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it runs, as another user
        return False
    return False


class LeaseKeeper:
    """Renews the polling lease every third of its lifetime while a cycle works, from a
    thread of its own, so that a slow page or a long batch never lets it run out."""

    def __init__(self, store: SyncLedger, holder: str, generation: int, ttl: timedelta) -> None:
        self.store, self.holder, self.generation, self.ttl = store, holder, generation, ttl
        self.lost: LeaseLost | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="msgterm-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                self.store.renew_lease(self.holder, self.generation, self.ttl)
            except LeaseLost as error:
                self.lost = error
                return
            except Exception as error:  # noqa: BLE001 - a busy store: the next renewal may pass
                log.warning("could not renew the polling lease: %s", error)

    def check(self) -> None:
        """Stop reading as soon as another process has the lease (commits are fenced anyway)."""
        if self.lost is not None:
            raise self.lost


@dataclass(frozen=True)
class SendTiming:
    """What the poller needs to send scheduled messages: the region numbers are read in,
    and the business's quiet hours in its local time zone."""

    region: str = "US"
    quiet_hours: QuietHours | None = None
    zone: tzinfo = UTC


class Poller:
    """Poll cycles of one store against one provider: reconcile interrupted sends, read
    what is new, read back history not yet read, refresh statuses (``cycle.Cycle``)."""

    def __init__(
        self,
        store: SyncLedger,
        provider: Provider,
        *,
        history_days: int = 90,
        holder: str | None = None,
        on_progress: Callable[[HistoryProgress], None] | None = None,
        timing: SendTiming | None = None,
    ) -> None:
        self.store = store
        self.timing = timing or SendTiming()
        self.provider = provider
        self.history_days = history_days
        self.holder = holder or holder_name()
        self.on_progress = on_progress

    def poll_once(
        self, generation: int | None = None, *, lease_ttl: timedelta | None = None, recent_every: float | None = None
    ) -> CycleReport:
        """One full cycle. With ``generation``, every commit is fenced by the lease (and with
        ``lease_ttl`` the lease is renewed while the cycle works). With ``recent_every``, a
        long read of history stops that often, between two batches, to read what is new."""
        report = CycleReport()
        fence = (self.holder, generation) if generation is not None else None
        keeper = LeaseKeeper(self.store, self.holder, generation, lease_ttl) if generation is not None and lease_ttl else None
        with keeper or nullcontext():
            Cycle(self, report, fence, keeper, recent_every).run()
        self.store.record_sync_outcome(fence=fence)
        return report


class Backoff:
    """Exponential backoff with full jitter, capped."""

    def __init__(self, base: float = 2.0, cap: float = 300.0, rng: random.Random | None = None) -> None:
        self.base, self.cap = base, cap
        self.failures = 0
        self.rng = rng or random.Random()

    def next_delay(self) -> float:
        self.failures += 1
        ceiling = min(self.cap, self.base * 2 ** (self.failures - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


class LoopState(StrEnum):
    SYNCED = "synced"
    STANDBY = "standby"  # another process holds the lease
    PAUSED = "paused"  # the credentials were refused
    BACKOFF = "backoff"  # Twilio failed or limited us: waiting before the next try
    LEASE_LOST = "lease_lost"
    WAITING = "waiting"  # another program held the store's write lock past the busy timeout
    STOPPED = "stopped"  # an unexpected fault (the store unreachable, a bug): tried again after a backoff


@dataclass
class LoopOutcome:
    """What one step of the loop did and how long to wait before the next."""

    state: LoopState
    delay: float
    message: str
    report: CycleReport | None = None
    #: While another process polls: when it last synced, and what is wrong if it fails.
    synced_at: datetime | None = None
    error: str | None = None


class PollLoop:
    """Lease, poll, and decide the wait: the part shared by ``msgterm sync`` and the app."""

    AUTH_RETRY = 60.0

    def __init__(self, poller: Poller, interval: float) -> None:
        self.poller = poller
        self.interval = interval
        self.backoff = Backoff(cap=max(300.0, interval))

    @property
    def lease_ttl(self) -> timedelta:
        # A dead holder elsewhere is replaced within two intervals; the holder renews the
        # lease every third of this while it works (LeaseKeeper).
        return timedelta(seconds=max(self.interval * 1.5, 3.0))

    def step(self) -> LoopOutcome:
        """One step; whatever goes wrong in it becomes an outcome with a wait, so the loop
        (the app's poller thread, ``msgterm sync``) never dies of it."""
        try:
            return self._step()
        except StoreBusy:
            delay = min(self.backoff.next_delay(), 30.0)
            return LoopOutcome(
                LoopState.WAITING,
                delay,
                f"waiting for the store (another program is writing to it); trying again in {delay:.0f} s",
            )
        except Exception as error:  # noqa: BLE001 - the loop must outlive any fault; the log keeps the traceback
            delay = self.backoff.next_delay()
            log.error("sync step failed", exc_info=error)
            why = describe_database_error(error) or f"unexpected {type(error).__name__} (details in the log)"
            return LoopOutcome(LoopState.STOPPED, delay, f"sync stopped: {why}; trying again in {delay:.0f} s")

    def _step(self) -> LoopOutcome:
        store = self.poller.store
        holder = self.poller.holder
        generation = store.acquire_lease(holder, self.lease_ttl, holder_is_gone=holder_is_gone)
        if generation is None:
            status = store.sync_status()
            return LoopOutcome(
                LoopState.STANDBY,
                self.interval / 2,
                f"sync runs in {holder_words(status.lease_holder)}",
                synced_at=status.last_sync_at,
                error=status.paused_reason or status.last_error,
            )
        fence = (holder, generation)
        try:
            report = self.poller.poll_once(generation, lease_ttl=self.lease_ttl, recent_every=self.interval)
        except LeaseLost as error:
            return LoopOutcome(LoopState.LEASE_LOST, self.interval / 2, f"stopped: {error}")
        except AuthFailed as error:
            self._record(fence, paused=str(error))
            return LoopOutcome(LoopState.PAUSED, self.AUTH_RETRY, f"sync paused: {error}")
        except ProviderError as error:
            retry_after = error.retry_after if isinstance(error, RateLimited) else None
            delay = retry_after if retry_after is not None else self.backoff.next_delay()
            words = f"{error}; trying again in {delay:.0f} s"
            self._record(fence, error=words)
            return LoopOutcome(LoopState.BACKOFF, delay, words)
        self.backoff.reset()
        return LoopOutcome(LoopState.SYNCED, self.interval, report.line(), report)

    def _record(self, fence: tuple[str, int], **outcome: str) -> None:
        try:
            self.poller.store.record_sync_outcome(fence=fence, **outcome)
        except LeaseLost:
            pass  # the new holder records its own outcomes

    def release(self) -> None:
        self.poller.store.release_lease(self.poller.holder)
