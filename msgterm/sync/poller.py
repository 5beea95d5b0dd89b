"""The poller: keeps the store in step with the provider's message log (PRODUCT.md §2).

``Poller.poll_once()`` is plain code. The app runs it in a worker, ``msgterm sync`` in a
loop; both go through ``PollLoop`` for the lease, the interval and the backoff.
"""

from __future__ import annotations

import gc
import logging
import os
import random
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from msgterm.domain.provider_message import ProviderMessage
from msgterm.store import LeaseLost, Store
from msgterm.sync.provider import AuthFailed, Provider, ProviderError, RateLimited, Rejected

log = logging.getLogger(__name__)

#: A send younger than this may still be in flight (the request timeout is 20 s): leave it alone.
IN_FLIGHT = timedelta(seconds=60)
#: A message left ``sending`` this long without showing up in the log was not sent.
UNCONFIRMED_GRACE = timedelta(minutes=3)
#: Messages stored per transaction when a cycle brings many pages (a first sync of months).
#: A commit writes (and checkpoints) every index page the batch touched, and in a big store
#: a batch of thousands touches most of them: 25 pages in one commit write far fewer pages
#: than 25 commits. The cost is the write lock, held for the batch: 1-3 s (README).
INGEST_BATCH = 25_000


def batched_pages(pages: list[list[ProviderMessage]], size: int) -> list[list[ProviderMessage]]:
    """Whole pages joined into batches of at least ``size`` messages (the last may be smaller);
    one empty batch when there are no pages, so that the watermark still moves."""
    batches: list[list[ProviderMessage]] = [[]]
    for page in pages:
        if len(batches[-1]) >= size:
            batches.append([])
        batches[-1].extend(page)
    return batches


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block.

    Storing a batch allocates a few objects per message (rows, states, outcomes) that all
    live until its commit and form no cycles; the full collections they set off walk every
    object of the process each time, about a tenth of a sync of 100,000 messages (README).
    Whatever the block leaves behind is collected once it ends.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class CycleReport:
    """What one poll cycle did, for the log line and the app."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    refreshed: int = 0
    reconciled: int = 0
    changed: set[int] = field(default_factory=set)
    alerts: list[tuple[int, str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"sync ok: {self.fetched} fetched, {self.new} new, {self.updated} updated, "
            f"{self.refreshed} statuses refreshed, {self.reconciled} unsent reconciled"
        )


class Poller:
    """One cycle: reconcile interrupted sends, read the log since the watermark, refresh statuses."""

    def __init__(self, store: Store, provider: Provider, *, history_days: int = 90, holder: str | None = None) -> None:
        self.store = store
        self.provider = provider
        self.history_days = history_days
        self.holder = holder or holder_name()

    def poll_once(self, generation: int | None = None) -> CycleReport:
        """One full cycle. With ``generation``, every commit is fenced by the lease."""
        report = CycleReport()
        fence = (self.holder, generation) if generation is not None else None
        started = self.store.clock()
        status = self.store.sync_status()
        if status.watermark is None:
            since = (started - timedelta(days=self.history_days)).date()
        else:
            # DateSent has day granularity: re-read the previous day too; SIDs de-duplicate.
            since = (status.watermark - timedelta(days=1)).date()

        self._reconcile_unsent(report, fence)
        # The log comes newest first; store it oldest first, so that row ids follow time
        # (search lists hits newest first by row id). The watermark commits with the last.
        batches = batched_pages(list(self.provider.list_messages(since))[::-1], INGEST_BATCH)
        for index, batch in enumerate(batches):
            last = index == len(batches) - 1
            self._ingest(report, batch, fence, watermark=started if last else None)
        self._refresh_statuses(report, fence)
        self.store.record_sync_outcome()
        return report

    def _ingest(self, report: CycleReport, batch: list[ProviderMessage], fence, watermark: datetime | None) -> None:
        with collector_paused():
            result = self.store.ingest(batch, watermark=watermark, fence=fence)
        report.fetched += len(batch)
        report.new += result.new_messages
        report.updated += result.updated_messages
        report.changed |= result.changed_conversations
        report.alerts.extend(result.alerts)

    def _refresh_statuses(self, report: CycleReport, fence) -> None:
        """Queued messages have no date_sent and never match the DateSent filter: fetch by SID."""
        stale = self.store.unfinished_outbound()
        fresh = []
        for message in stale:
            try:
                fresh.append(self.provider.fetch_message(message.sid))
            except Rejected as error:
                log.warning("cannot refresh %s: %s", message.sid, error)
        if fresh:
            result = self.store.ingest(fresh, fence=fence)
            report.refreshed += result.updated_messages
            report.changed |= result.changed_conversations

    def _reconcile_unsent(self, report: CycleReport, fence) -> None:
        """Messages left ``sending`` by a crash: find them in the log, never resend them."""
        for message in self.store.unsent_messages():
            if self.store.clock() - message.created_at < IN_FLIGHT:
                continue
            recent = self.provider.recent_to(message.to_number)
            match = [
                m for m in recent
                if m.direction == "outbound" and m.body == message.body and m.created_at >= message.created_at - UNCONFIRMED_GRACE
            ]
            if match:
                result = self.store.ingest([match[-1]], fence=fence)
                report.reconciled += 1
                report.changed |= result.changed_conversations
            elif self.store.clock() - message.created_at >= UNCONFIRMED_GRACE:
                self.store.fail_send(
                    message.id, None,
                    "not sent: msgterm was interrupted while sending and Twilio has no record of this message. Retry to send it.",
                )
                report.reconciled += 1
                report.changed.add(message.conversation_id)


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


@dataclass
class LoopOutcome:
    """What one step of the loop did and how long to wait before the next."""

    state: str  # "synced", "standby", "paused", "backoff", "lease_lost"
    delay: float
    message: str
    report: CycleReport | None = None


class PollLoop:
    """Lease, poll, and decide the wait: the part shared by ``msgterm sync`` and the app."""

    AUTH_RETRY = 60.0

    def __init__(self, poller: Poller, interval: float) -> None:
        self.poller = poller
        self.interval = interval
        self.backoff = Backoff(cap=max(300.0, interval))

    @property
    def lease_ttl(self) -> timedelta:
        # A dead holder's lease runs out within two intervals (PRODUCT.md §2, issue 3).
        return timedelta(seconds=max(self.interval * 1.5, 3.0))

    def step(self) -> LoopOutcome:
        store = self.poller.store
        generation = store.acquire_lease(self.poller.holder, self.lease_ttl)
        if generation is None:
            holder = store.sync_status().lease_holder
            return LoopOutcome("standby", self.interval / 2, f"another process ({holder}) is polling")
        try:
            report = self.poller.poll_once(generation)
        except LeaseLost as error:
            return LoopOutcome("lease_lost", self.interval / 2, f"stopped: {error}")
        except AuthFailed as error:
            store.record_sync_outcome(paused=str(error))
            return LoopOutcome("paused", self.AUTH_RETRY, f"sync paused: {error}")
        except RateLimited as error:
            store.record_sync_outcome(error=str(error))
            return LoopOutcome("backoff", max(error.retry_after, 0.0), str(error))
        except ProviderError as error:
            delay = self.backoff.next_delay()
            store.record_sync_outcome(error=f"{error}; retrying in {delay:.0f} s")
            return LoopOutcome("backoff", delay, f"{error}; retrying in {delay:.1f} s")
        self.backoff.reset()
        return LoopOutcome("synced", self.interval, report.line(), report)

    def release(self) -> None:
        self.poller.store.release_lease(self.poller.holder)
