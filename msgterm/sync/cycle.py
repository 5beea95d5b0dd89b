"""One poll cycle: what it reads of the provider's log, in what order, and how it stores it.

A new store reads its history newest first, a batch at a time, so that the newest
conversations show within seconds and older ones fill in behind; the store remembers how
far back it has read (``sync_state.history_reached``), and a sync stopped midway goes on
from there. Every later cycle reads only what is newer than the last one's start (less
``OVERLAP``), a day at a time, oldest day first, and stops paging where it reaches it:
Twilio lists its log newest first by the time a message was sent.

Row ids follow time, because search lists its hits newest first by row id: what is new
takes ids above every stored one (oldest first within a batch), and history, read
backwards, takes ids below (``IngestStore.ingest(history=…)``).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from msgterm.domain.provider_message import Direction, ProviderMedia, ProviderMessage
from msgterm.store import HistoryMark
from msgterm.sync.provider import RateLimited, Rejected, TransientError
from msgterm.sync.send import SendPipeline

if TYPE_CHECKING:
    from msgterm.sync.poller import LeaseKeeper, Poller

log = logging.getLogger(__name__)

#: A send younger than this may still be in flight (the request timeout is 20 s): leave it alone.
IN_FLIGHT = timedelta(seconds=60)
#: A message left ``sending`` this long without showing up in the log was not sent.
UNCONFIRMED_GRACE = timedelta(minutes=3)
#: Messages stored per transaction when a cycle brings many pages (a first sync of months).
#: A commit writes (and checkpoints) every index page the batch touched, so fewer, larger
#: commits store faster; a batch is also held in memory whole, and holds the write lock
#: while it is stored. 10,000 stores as fast as 25,000 did and keeps a first sync's peak
#: memory within 80 MB of a quiet cycle's (docs/performance.md).
INGEST_BATCH = 10_000
#: While pages arrive slowly, a batch commits at least this often, so that what has been
#: read shows in the app and survives a crash.
FLUSH_SECONDS = 2.0
#: How far before the last cycle's start a cycle reads again: our clock and Twilio's may
#: differ by a few minutes, and a message may show in the log a little after its time.
OVERLAP = timedelta(minutes=10)
#: MMS whose files a cycle lists at most, newest first (each costs a list call and a request
#: per file for its size), and for how long: the rest wait for the next cycle, so that
#: months of MMS history never hold up what is new.
MEDIA_PER_CYCLE = 100
MEDIA_SECONDS = 3.0


def batched_pages(
    pages: Iterable[list[ProviderMessage]], size: int, seconds: float = FLUSH_SECONDS, clock: Callable[[], float] = time.monotonic
) -> Iterator[list[ProviderMessage]]:
    """Whole pages joined into batches of at least ``size`` messages, or of what arrived
    within ``seconds``; the last may be smaller, and with no pages there is one empty batch
    (which still moves the watermark). Pages are read only as batches are asked for."""
    batch: list[ProviderMessage] = []
    began = clock()
    yielded = False
    for page in pages:
        batch.extend(page)
        if len(batch) >= size or clock() - began >= seconds:
            yield batch
            yielded, batch, began = True, [], clock()
    if batch or not yielded:
        yield batch


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block.

    Storing a batch allocates a few objects per message (rows, states, outcomes) that all
    live until its commit and form no cycles; the full collections they set off walk every
    object of the process each time, about a tenth of a sync (docs/performance.md).
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


@dataclass(frozen=True)
class HistoryProgress:
    """How far back a store's history has been read, for progress displays."""

    since: datetime
    newest: datetime
    reached: datetime | None
    messages: int
    complete: bool

    @property
    def days_total(self) -> int:
        return max(1, round((self.newest - self.since) / timedelta(days=1)))

    @property
    def days_covered(self) -> int:
        if self.complete:
            return self.days_total
        if self.reached is None:
            return 0
        return min(self.days_total, int((self.newest - self.reached) / timedelta(days=1)))


@dataclass
class CycleReport:
    """What one poll cycle did, for the log line and the app."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    refreshed: int = 0
    reconciled: int = 0
    scheduled_sent: int = 0
    media: int = 0
    changed: set[int] = field(default_factory=set)
    alerts: list[tuple[int, str, str]] = field(default_factory=list)
    history: HistoryProgress | None = None

    def line(self) -> str:
        words = (
            f"sync ok: {self.fetched} fetched, {self.new} new, {self.updated} updated, "
            f"{self.refreshed} statuses refreshed, {self.reconciled} unsent reconciled"
        )
        if self.scheduled_sent:
            words += f", {self.scheduled_sent} scheduled sent"
        if self.media:
            words += f", {self.media} attachments listed"
        if self.history is not None and not self.history.complete:
            words += f"; history {self.history.days_covered} of {self.history.days_total} days so far"
        return words


class Cycle:
    """The reads and writes of one cycle, in order; ``Poller.poll_once`` runs one."""

    def __init__(
        self,
        poller: Poller,
        report: CycleReport,
        fence: tuple[str, int] | None,
        keeper: LeaseKeeper | None,
        recent_every: float | None,
    ) -> None:
        self.store = poller.store
        self.provider = poller.provider
        self.history_days = poller.history_days
        self.on_progress = poller.on_progress
        self.timing = poller.timing
        self.report = report
        self.fence = fence
        self.keeper = keeper
        self.recent_every = recent_every

    def run(self) -> None:
        started = self.store.clock()
        status = self.store.sync_status()
        self.reconcile_unsent()
        self.report.changed.update(self.store.end_due_snoozes(fence=self.fence))
        self.send_scheduled()
        if status.watermark is None or status.history_since is None:
            since = started - timedelta(days=self.history_days)
            self.watermark = started
            self.read_history(since, None, 0, first=HistoryMark(since=since, watermark=started))
        else:
            self.watermark = status.watermark
            self.read_recent()
            if not status.history_complete:
                self.read_history(status.history_since, status.history_reached, status.history_messages)
        self.refresh_statuses()
        self.list_media()

    def _check_lease(self) -> None:
        if self.keeper is not None:
            self.keeper.check()

    def read_recent(self) -> None:
        """What arrived since the last read (less the overlap), a day at a time, oldest day
        first; in each day, pages only down to that point. The watermark commits with the
        last batch: a cycle that fails halfway reads it all again next time (SIDs de-duplicate)."""
        started = self.store.clock()
        since = self.watermark - OVERLAP
        last_day = (started + OVERLAP).date()
        day = since.date()
        while day <= last_day:
            arrived: list[ProviderMessage] = []
            for page in self.provider.list_messages(sent_on=day):
                self._check_lease()
                recent = [m for m in page if m.when >= since]
                arrived.extend(recent)
                if len(recent) < len(page):
                    break  # the rest is older: the last read had it
            arrived.sort(key=lambda m: (m.when, m.sid))
            last = day == last_day
            chunks = [arrived[i : i + INGEST_BATCH] for i in range(0, len(arrived), INGEST_BATCH)] or ([[]] if last else [])
            for index, chunk in enumerate(chunks):
                self.ingest(chunk, watermark=started if last and index == len(chunks) - 1 else None)
            day += timedelta(days=1)
        self.watermark = started

    def read_history(self, since: datetime, reached: datetime | None, messages: int, *, first: HistoryMark | None = None) -> None:
        """History back to ``since``, newest first, from ``reached`` on (its whole day again:
        Twilio's filter has day granularity, and SIDs de-duplicate). Every ``recent_every``
        seconds, between two batches, what is new is read too."""
        pages = self.provider.list_messages(sent_after=since.date(), sent_before=reached.date() if reached else None)
        newest = since + timedelta(days=self.history_days)
        last_recent = time.monotonic()
        for batch in batched_pages(pages, INGEST_BATCH, FLUSH_SECONDS):
            self._check_lease()
            if batch:
                oldest = min(m.when for m in batch)
                reached = oldest if reached is None else min(reached, oldest)
            mark = HistoryMark(reached=reached)
            if first is not None:
                mark, first = replace(first, reached=reached), None
            messages += self.ingest(batch, history=mark)
            self._progress(HistoryProgress(since, newest, reached, messages, complete=False))
            if self.recent_every is not None and time.monotonic() - last_recent >= self.recent_every:
                self.read_recent()
                last_recent = time.monotonic()
        self.ingest([], history=HistoryMark(reached=reached, complete=True))
        self._progress(HistoryProgress(since, newest, reached, messages, complete=True))

    def _progress(self, progress: HistoryProgress) -> None:
        self.report.history = progress
        if self.on_progress is not None:
            self.on_progress(progress)

    def ingest(
        self, batch: list[ProviderMessage], *, watermark: datetime | None = None, history: HistoryMark | None = None
    ) -> int:
        with collector_paused():
            result = self.store.ingest(batch, watermark=watermark, history=history, fence=self.fence)
        report = self.report
        report.fetched += len(batch)
        report.new += result.new_messages
        report.updated += result.updated_messages
        report.changed |= result.changed_conversations
        report.alerts.extend(result.alerts)
        return result.new_messages

    def refresh_statuses(self) -> None:
        """Queued messages have no date_sent and never match the DateSent filter: fetch by SID."""
        fresh = []
        for message in self.store.unfinished_outbound():
            if message.sid is None:
                continue  # not accepted yet: the reconcile of unsent messages looks after it
            self._check_lease()
            try:
                fresh.append(self.provider.fetch_message(message.sid))
            except Rejected as error:
                log.warning("cannot refresh %s: %s", message.sid, error)
        if fresh:
            result = self.store.ingest(fresh, fence=self.fence)
            self.report.refreshed += result.updated_messages
            self.report.changed |= result.changed_conversations

    def list_media(self) -> None:
        """The files of MMS stored without them, newest first, within this cycle's share
        (``MEDIA_PER_CYCLE``, ``MEDIA_SECONDS``). A file whose size cannot be read is stored
        with the reason; an MMS whose files Twilio no longer has is stored with none; a
        fault that a retry may fix leaves the rest for the next cycle. None fails the cycle."""
        deadline = time.monotonic() + MEDIA_SECONDS
        for message_id, sid in self.store.media_unlisted(MEDIA_PER_CYCLE):
            if time.monotonic() >= deadline:
                return
            self._check_lease()
            try:
                listed = self.provider.list_media(sid)
            except Rejected as error:
                if error.status != 404:
                    log.warning("cannot list the attachments of %s: %s", sid, error)
                    continue
                listed = []  # deleted at Twilio: nothing to list, ever
            except (RateLimited, TransientError) as error:
                log.warning("cannot list attachments now (%s); the next cycle goes on", error)
                return
            files = [(media, *self._media_size(media)) for media in listed]
            self.report.changed.add(self.store.record_media(message_id, files, fence=self.fence))
            self.report.media += len(files)

    def _media_size(self, media: ProviderMedia) -> tuple[int | None, str | None]:
        try:
            return self.provider.media_size(media), None
        except Rejected as error:
            return None, str(error)
        except (RateLimited, TransientError):
            return None, None  # unknown for now: a download reads it

    def send_scheduled(self) -> None:
        """Scheduled messages whose time has come, each claimed under the lease (so only one
        process sends it) and sent through the send pipeline; none inside quiet hours."""
        timing = self.timing
        if timing.quiet_hours is not None and timing.quiet_hours.contains(self.store.clock(), timing.zone):
            return
        pipeline = SendPipeline(self.store, self.provider, timing.region)
        for message in self.store.due_scheduled():
            self._check_lease()
            claimed = self.store.claim_scheduled(message.id, fence=self.fence)
            if claimed is None:
                continue  # canceled, or another claim came first
            result = pipeline.send_claimed(claimed)
            self.report.scheduled_sent += result.ok
            self.report.changed.add(message.conversation_id)

    def reconcile_unsent(self) -> None:
        """Messages left ``sending`` by a crash: find them in the log, never resend them."""
        for message in self.store.unsent_messages():
            if self.store.clock() - message.created_at < IN_FLIGHT:
                continue
            recent = self.provider.recent_to(message.to_number)
            match = [
                m
                for m in recent
                if m.direction == Direction.OUTBOUND
                and m.body == message.body
                and m.created_at >= message.created_at - UNCONFIRMED_GRACE
            ]
            if match:
                result = self.store.ingest([match[-1]], fence=self.fence)
                self.report.reconciled += 1
                self.report.changed |= result.changed_conversations
            elif self.store.clock() - message.created_at >= UNCONFIRMED_GRACE:
                self.store.fail_send(
                    message.id,
                    None,
                    "not sent: msgterm was interrupted while sending and Twilio has no record of this message. Retry to send it.",
                    fence=self.fence,
                )
                self.report.reconciled += 1
                self.report.changed.add(message.conversation_id)
