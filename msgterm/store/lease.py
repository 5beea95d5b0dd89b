"""The sync state and the polling lease: who polls, the watermark, the last outcome. Every
commit of the lease holder is fenced by (holder, generation) (``_check_fence``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from msgterm.store import schema
from msgterm.store.conversations import ConversationStore

sync_t = schema.sync_state
DEFAULT_SYNC = "default"


class LeaseLost(Exception):
    """This process no longer holds the polling lease; its batch was not committed."""


@dataclass(frozen=True)
class SyncStatus:
    watermark: datetime | None
    last_sync_at: datetime | None
    last_error: str | None
    paused_reason: str | None
    lease_holder: str | None
    lease_expires_at: datetime | None
    lease_generation: int
    history_since: datetime | None = None
    history_reached: datetime | None = None
    history_messages: int = 0
    history_complete: bool = False


class LeaseStore(ConversationStore):
    def _sync_row(self, conn: Connection, lock: bool = False):
        query = select(sync_t).where(sync_t.c.name == DEFAULT_SYNC)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            conn.execute(insert(sync_t).values(name=DEFAULT_SYNC, lease_generation=0))
            row = conn.execute(query).first()
        return row

    def sync_status(self) -> SyncStatus:
        with self.read() as conn:
            row = conn.execute(select(sync_t).where(sync_t.c.name == DEFAULT_SYNC)).first()
        if row is None:
            return SyncStatus(None, None, None, None, None, None, 0)
        return SyncStatus(
            watermark=row.watermark,
            last_sync_at=row.last_sync_at,
            last_error=row.last_error,
            paused_reason=row.paused_reason,
            lease_holder=row.lease_holder,
            lease_expires_at=row.lease_expires_at,
            lease_generation=row.lease_generation,
            history_since=row.history_since,
            history_reached=row.history_reached,
            history_messages=row.history_messages,
            history_complete=bool(row.history_complete),
        )

    def acquire_lease(self, holder: str, ttl: timedelta, *, holder_is_gone: Callable[[str], bool] | None = None) -> int | None:
        """Take or renew the polling lease. Returns its generation, or None when another holds it.

        A live lease of another holder is taken over at once when ``holder_is_gone`` says that
        holder's process no longer exists (it can tell only for processes on this machine).
        """
        with self.write() as conn:
            row = self._sync_row(conn, lock=True)
            now = self.clock()
            live = row.lease_holder is not None and row.lease_expires_at is not None and row.lease_expires_at > now
            if live and row.lease_holder != holder and not (holder_is_gone and holder_is_gone(row.lease_holder)):
                return None
            generation = row.lease_generation if live else row.lease_generation + 1
            conn.execute(
                update(sync_t)
                .where(sync_t.c.name == DEFAULT_SYNC)
                .values(lease_holder=holder, lease_expires_at=now + ttl, lease_generation=generation)
            )
            return generation

    def renew_lease(self, holder: str, generation: int, ttl: timedelta) -> None:
        """Push the lease's expiry on while a long cycle works; LeaseLost if it is not ours any more."""
        with self.write() as conn:
            renewed = conn.execute(
                update(sync_t)
                .where(sync_t.c.name == DEFAULT_SYNC, sync_t.c.lease_holder == holder, sync_t.c.lease_generation == generation)
                .values(lease_expires_at=self.clock() + ttl)
            ).rowcount
            if not renewed:
                raise LeaseLost(self._lost_words(self._sync_row(conn)))

    def mark_synced(self, at: datetime) -> None:
        """A store whose history is all here already (the demo's): sync reads only what comes after ``at``."""
        with self.write() as conn:
            self._sync_row(conn)
            conn.execute(
                update(sync_t)
                .where(sync_t.c.name == DEFAULT_SYNC)
                .values(watermark=at, history_since=at, history_reached=at, history_complete=True)
            )

    def release_lease(self, holder: str) -> None:
        with self.write() as conn:
            conn.execute(
                update(sync_t)
                .where(sync_t.c.name == DEFAULT_SYNC, sync_t.c.lease_holder == holder)
                .values(lease_holder=None, lease_expires_at=None)
            )

    def _check_fence(self, conn: Connection, holder: str, generation: int) -> None:
        """Commit only while (holder, generation) holds the lease.

        The check runs inside the write transaction, which no takeover can pass, so a lease
        that is still ours commits even when its expiry has passed: nobody else took it.
        """
        row = self._sync_row(conn, lock=True)
        if row.lease_holder != holder or row.lease_generation != generation:
            raise LeaseLost(self._lost_words(row))

    def _lost_words(self, row) -> str:
        if row.lease_holder is None:
            return "the polling lease was given up while this process polled (another process released or reset it)"
        return f"the polling lease expired and {row.lease_holder} took it over (generation {row.lease_generation})"

    def record_sync_outcome(
        self, *, error: str | None = None, paused: str | None = None, fence: tuple[str, int] | None = None
    ) -> None:
        with self.write() as conn:
            if fence is not None:
                self._check_fence(conn, *fence)
            self._sync_row(conn)
            values: dict[str, object] = {"last_error": error, "paused_reason": paused}
            if error is None and paused is None:
                values["last_sync_at"] = self.clock()
            conn.execute(update(sync_t).where(sync_t.c.name == DEFAULT_SYNC).values(**values))
