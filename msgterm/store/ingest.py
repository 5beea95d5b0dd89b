"""What the poller and the send pipeline write: provider messages, sends, the lease."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from operator import itemgetter

from sqlalchemy import BindParameter, Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError

from msgterm.domain import folders
from msgterm.domain.folders import ConversationState, Folder
from msgterm.domain.permissions import Action, StaffMember, require
from msgterm.domain.provider_message import Direction, ProviderMessage, Status, opt_keyword
from msgterm.domain.sanitize import clean_line
from msgterm.domain.segments import segment_info
from msgterm.store import schema
from msgterm.store.base import inserted_id, scalar_int
from msgterm.store.conversations import ConversationStore, conv_t, conversation_record, event_t, msg_t, preview_of
from msgterm.store.directory import client_t
from msgterm.store.records import IngestResult, MessageRecord

log = logging.getLogger(__name__)

sync_t = schema.sync_state
DEFAULT_SYNC = "default"
ALERTS_PER_BATCH = 20
#: What a provider message and its stored row share, by name.
MESSAGE_FIELDS = (
    "direction",
    "body",
    "status",
    "error_code",
    "error_message",
    "from_number",
    "to_number",
    "created_at",
    "sent_at",
    "num_segments",
    "num_media",
)
#: Our sends are refreshed by SID until final, for this long after they were sent.
REFRESH_FOR = timedelta(days=3)
FOLDERS = {folder.value: folder for folder in Folder}  # a dict lookup: Folder(value) is a slow Enum call per row
UNFINISHED_OUTBOUND = next(index for index in msg_t.indexes if index.name == "ix_message_unfinished_outbound").dialect_options[
    "sqlite"
]["where"]


#: What a record the store cannot keep raises while its batch is written: a value the
#: database refuses (DataError, IntegrityError) or that the driver cannot send (a NUL to
#: PostgreSQL, a lone surrogate to SQLite: ValueError, UnicodeError).
UNSTORABLE = (DataError, IntegrityError, ValueError)


class _Rehearsed(Exception):
    """Ends a rehearsal transaction: it worked, and is rolled back."""


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


@dataclass(frozen=True)
class HistoryMark:
    """Where a batch read back from history leaves the history: committed with the batch.

    ``since`` is set by a new store's first cycle (with the watermark that the newer
    messages will be read from); ``reached`` is the oldest time of the batch; ``complete``
    says the whole window has been read.
    """

    reached: datetime | None = None
    complete: bool = False
    since: datetime | None = None
    watermark: datetime | None = None


class IngestStore(ConversationStore):
    # ---- sync state and the polling lease ----------------------------------------------

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

    # ---- messages from the provider ------------------------------------------------------

    def ingest(
        self,
        batch: list[ProviderMessage],
        *,
        watermark: datetime | None = None,
        history: HistoryMark | None = None,
        fence: tuple[str, int] | None = None,
    ) -> IngestResult:
        """Store a batch of the provider's log and move the watermark, in one transaction.

        Messages already stored (by SID) only have their status refreshed; our own sends
        interrupted before their SID was kept are adopted; new ones are inserted in one
        statement, oldest first, and each conversation's folder is moved by the rules once
        for the whole batch. With ``history`` the batch was read back from history, older
        than what is stored: it takes row ids below every stored one (so that ids keep
        following time), older messages do not move folders (``folders.history_message``)
        and it moves the history cursor. With ``fence`` the batch commits only while
        (holder, generation) still holds the lease.

        A record the store cannot keep is skipped (logged by SID, never by its body) and the
        rest of the batch is stored: one odd record must not stop every cycle.
        """
        try:
            return self._ingest(batch, watermark=watermark, history=history, fence=fence)
        except UNSTORABLE:
            unstorable = self._unstorable(batch, history=history)
            if not unstorable or len(unstorable) == len(batch) > 1:
                raise  # not one record's fault (every record failing is a fault of ours)
        # Bodies and numbers stay out of the log: a SID finds the record in Twilio's console.
        log.warning("skipped %d message(s) the store cannot keep: %s", len(unstorable), ", ".join(sorted(unstorable)))
        kept = [item for item in batch if item.sid not in unstorable]
        result = self._ingest(kept, watermark=watermark, history=history, fence=fence)
        return replace(result, skipped=tuple(sorted(unstorable)))

    def _unstorable(self, batch: list[ProviderMessage], *, history: HistoryMark | None) -> set[str]:
        """The SIDs of the records that make a batch fail, found by halving it in
        transactions that are rolled back (a few dozen for one bad record in 10,000)."""
        try:
            self._ingest(batch, history=HistoryMark() if history else None, rehearse=True)
        except _Rehearsed:
            return set()
        except UNSTORABLE:
            if len(batch) == 1:
                return {batch[0].sid}
        else:
            return set()
        middle = len(batch) // 2
        return self._unstorable(batch[:middle], history=history) | self._unstorable(batch[middle:], history=history)

    def _ingest(
        self,
        batch: list[ProviderMessage],
        *,
        watermark: datetime | None = None,
        history: HistoryMark | None = None,
        fence: tuple[str, int] | None = None,
        rehearse: bool = False,
    ) -> IngestResult:
        changed: set[int] = set()
        with self.write() as conn:
            if fence is not None:
                self._check_fence(conn, *fence)
            known = self._known_sids(conn, [m.sid for m in batch])
            updated = 0
            fresh: dict[str, ProviderMessage] = {}
            unsent = self._unsent_by_content(conn) if any(m.direction == Direction.OUTBOUND for m in batch) else {}
            for item in sorted(batch, key=lambda m: (m.created_at, m.sid)):
                if item.sid in known:
                    if self._refresh(conn, known[item.sid], item):
                        updated += 1
                        changed.add(known[item.sid].conversation_id)
                elif item.sid not in fresh:
                    waiting = unsent.get((item.to_number, item.body)) if item.direction == Direction.OUTBOUND else None
                    if waiting:
                        changed.add(self._adopt_unsent(conn, waiting.pop(0), item))
                        updated += 1
                    else:
                        fresh[item.sid] = item
            new_items = list(fresh.values())
            alerts = self._store_new(conn, new_items, changed, history=history is not None) if new_items else []
            values: dict = {} if watermark is None else {"watermark": watermark}
            if history is not None:
                values |= self._history_values(conn, history, len(new_items))
            if values:
                self._sync_row(conn)
                conn.execute(update(sync_t).where(sync_t.c.name == DEFAULT_SYNC).values(**values))
            if rehearse:
                raise _Rehearsed
        return IngestResult(len(new_items), updated, frozenset(changed), tuple(alerts))

    def _history_values(self, conn: Connection, mark: HistoryMark, stored: int) -> dict:
        values: dict = {"history_messages": sync_t.c.history_messages + stored, "history_complete": mark.complete}
        if mark.since is not None:
            values |= {"history_since": mark.since, "history_reached": None, "history_messages": stored}
        if mark.watermark is not None:
            values["watermark"] = mark.watermark
        if mark.reached is not None:
            values["history_reached"] = mark.reached
        return values

    def _known_sids(self, conn: Connection, sids: list[str]) -> dict:
        rows = conn.execute(
            select(msg_t.c.sid, msg_t.c.id, msg_t.c.conversation_id, msg_t.c.status, msg_t.c.error_code, msg_t.c.sent_at).where(
                self.among(msg_t.c.sid, sids)
            )
        )
        return {row.sid: row for row in rows}

    def _refresh(self, conn: Connection, row, item: ProviderMessage) -> bool:
        if row.status == item.status and row.error_code == item.error_code and row.sent_at == item.sent_at:
            return False
        conn.execute(
            update(msg_t)
            .where(msg_t.c.id == row.id)
            .values(
                status=item.status,
                error_code=item.error_code,
                error_message=item.error_message,
                sent_at=item.sent_at,
                num_segments=item.num_segments,
            )
        )
        self._touch(conn, [row.conversation_id])
        return True

    def _unsent_by_content(self, conn: Connection) -> dict[tuple[str, str], list]:
        """Our sends still without a SID, by (to, body): a crash mid-send left them so."""
        waiting: dict[tuple[str, str], list] = {}
        for row in conn.execute(
            select(msg_t.c.id, msg_t.c.conversation_id, msg_t.c.to_number, msg_t.c.body)
            .where(
                msg_t.c.sid.is_(None),
                msg_t.c.direction == Direction.OUTBOUND,
                msg_t.c.status.in_((Status.SENDING, Status.UNCONFIRMED)),
            )
            .order_by(msg_t.c.id)
        ):
            waiting.setdefault((row.to_number, row.body), []).append(row)
        return waiting

    def _adopt_unsent(self, conn: Connection, row, item: ProviderMessage) -> int:
        """A message of ours found in the log: keep the SID on our row instead of a second copy."""
        conn.execute(
            update(msg_t)
            .where(msg_t.c.id == row.id)
            .values(
                sid=item.sid,
                status=item.status,
                error_code=item.error_code,
                error_message=item.error_message,
                sent_at=item.sent_at,
            )
        )
        self._apply(conn, row.conversation_id, folders.staff_outbound_message, event=None, staff=None)
        return row.conversation_id

    def _conversation_ids(self, conn: Connection, phones: set[str]) -> dict[str, int]:
        query = select(conv_t.c.phone, conv_t.c.id).where(
            conv_t.c.business_number == self.business_number, self.among(conv_t.c.phone, phones)
        )
        return dict(conn.execute(query).all())

    def _store_new(
        self, conn: Connection, items: list[ProviderMessage], changed: set[int], *, history: bool = False
    ) -> list[tuple[int, str, str]]:
        """Insert new messages (oldest first), apply the folder rules per conversation; returns alerts.

        A conversation gets one alert per batch, for its newest message from the client, and
        a batch raises at most ALERTS_PER_BATCH (a first sync of months must not ring 900 times).
        A batch from ``history`` takes the ids just below the lowest stored one and raises no
        alerts; the conversations it creates start from their newest messages by the usual
        rules, and the ones that exist already take it by ``folders.history_message``.
        """
        numbers = [item.client_number for item in items]
        conversations = self._conversation_ids(conn, set(numbers))
        unknown = [item for item, number in zip(items, numbers, strict=True) if number not in conversations]
        created: set[int] = set()
        if unknown:
            self._create_conversations(conn, unknown)
            fresh_ids = self._conversation_ids(conn, {item.client_number for item in unknown})
            conversations |= fresh_ids
            created = set(fresh_ids.values())
        columns: dict[str, list] = {
            "sid": [item.sid for item in items],
            "conversation_id": [conversations[number] for number in numbers],
            **{name: [getattr(item, name) for item in items] for name in MESSAGE_FIELDS},
            "staff_id": [None] * len(items),
            "automated": [item.direction != Direction.INBOUND for item in items],
        }
        if history:
            lowest = scalar_int(conn, select(func.coalesce(func.min(msg_t.c.id), 1)))
            first_id = lowest - len(items)
            columns["id"] = list(range(first_id, lowest))
            self.execute_columns(conn, insert(msg_t), columns)
            self.index_messages(conn, first_id - 1, up_to=lowest - 1)
        else:
            indexed_up_to = self.last_message_id(conn)
            self.execute_columns(conn, insert(msg_t), columns)
            self.index_messages(conn, indexed_up_to)
        del columns
        per_conversation: dict[int, list[ProviderMessage]] = {}
        for item, number in zip(items, numbers, strict=True):
            per_conversation.setdefault(conversations[number], []).append(item)
        changed.update(per_conversation)
        states = self._states(conn, list(per_conversation))
        rows, alerted, keywords = [], [], []
        for conversation_id, arrived in per_conversation.items():
            state, last_activity = states[conversation_id]
            latest = None
            alert = None
            for item in arrived:
                inbound = item.direction == Direction.INBOUND
                if history and conversation_id not in created and item.created_at < last_activity:
                    outcome = folders.history_message(state, inbound)
                else:
                    outcome = (folders.inbound_message if inbound else folders.automated_outbound_message)(state)
                state = outcome.state
                if outcome.alert:
                    alert = item
                if inbound and opt_keyword(item.body):
                    keywords.append((conversation_id, item.body))
                if item.created_at >= last_activity:
                    latest, last_activity = item, item.created_at
            row: dict[str, object] = {"cid": conversation_id, "folder": state.folder.value, "unread_count": state.unread_count}
            if latest is not None:
                row |= {
                    "last_activity_at": latest.created_at,
                    "last_preview": preview_of(latest.body),
                    "last_direction": latest.direction,
                }
            rows.append(row)
            if alert is not None:
                alerted.append((conversation_id, alert.body))
        self._write_states(conn, rows)
        self._touch(conn, per_conversation)
        if history:
            # Read back newest first: a client's newest STOP or START decides, not an older one.
            decided = self._opt_decided(conn, {cid for cid, _body in keywords})
            for conversation_id, body in reversed(keywords):
                if conversation_id not in decided:
                    decided.add(conversation_id)
                    self._apply_opt_keyword(conn, conversation_id, body)
            return []
        for conversation_id, body in keywords:
            self._apply_opt_keyword(conn, conversation_id, body)
        alerted = alerted[-ALERTS_PER_BATCH:]
        titles = self._titles(conn, [cid for cid, _body in alerted])
        return [(cid, titles[cid], clean_line(body)[:80]) for cid, body in alerted]

    def _create_conversations(self, conn: Connection, items: list[ProviderMessage]) -> None:
        """One conversation per new number (linked to its client), starting at its first message."""
        first: dict[str, ProviderMessage] = {}
        for item in items:
            first.setdefault(item.client_number, item)
        owners: dict[str, int] = {}
        owned = select(client_t.c.mobile_phone, client_t.c.id).where(self.among(client_t.c.mobile_phone, first))
        for phone, client_pk in conn.execute(owned.order_by(client_t.c.id.desc())):
            owners[phone] = client_pk  # the lowest id wins, as in client_by_phone
        conn.execute(
            insert(conv_t),
            [
                {
                    "business_number": self.business_number,
                    "phone": phone,
                    "client_id": owners.get(phone),
                    "folder": folders.NEW_CONVERSATION.folder.value,
                    "unread_count": 0,
                    "muted": False,
                    "last_activity_at": item.created_at,
                    "last_preview": "",
                    "last_direction": "",
                    "created_at": item.created_at,
                }
                for phone, item in first.items()
            ],
        )

    def _states(self, conn: Connection, conversation_ids: list[int]) -> dict[int, tuple[ConversationState, datetime]]:
        rows = conn.execute(
            select(conv_t.c.id, conv_t.c.folder, conv_t.c.unread_count, conv_t.c.muted, conv_t.c.last_activity_at).where(
                self.among(conv_t.c.id, conversation_ids)
            )
        ).all()
        return {
            cid: (ConversationState(FOLDERS[folder], unread_count, bool(muted)), last_activity)
            for cid, folder, unread_count, muted, last_activity in rows
        }

    def _write_states(self, conn: Connection, rows: list[dict]) -> None:
        """One executemany per shape: conversations whose latest message changed, and the rest.

        In id order: the rows then change page by page, which halves SQLite's work for a
        batch that touches most of a big store's conversations.
        """
        rows = sorted(rows, key=itemgetter("cid"))
        for with_activity in (True, False):
            shaped = [row for row in rows if ("last_activity_at" in row) is with_activity]
            if not shaped:
                continue
            values: dict[str, BindParameter] = {"folder": bindparam("folder"), "unread_count": bindparam("unread_count")}
            if with_activity:
                values |= {name: bindparam(name) for name in ("last_activity_at", "last_preview", "last_direction")}
            self.execute_many(conn, update(conv_t).where(conv_t.c.id == bindparam("cid")).values(**values), shaped)

    def _titles(self, conn: Connection, conversation_ids: list[int]) -> dict[int, str]:
        rows = conn.execute(self._conversation_query().where(self.among(conv_t.c.id, conversation_ids)))
        return {row.id: conversation_record(row).title for row in rows}

    def _opt_decided(self, conn: Connection, conversation_ids: set[int]) -> set[int]:
        """Conversations with an opt-out or opt-in on record already (from newer messages)."""
        if not conversation_ids:
            return set()
        query = select(event_t.c.conversation_id).where(
            self.among(event_t.c.conversation_id, conversation_ids), event_t.c.kind.in_(("opt_out", "opt_in"))
        )
        return set(conn.scalars(query))

    def _apply_opt_keyword(self, conn: Connection, conversation_id: int, body: str) -> None:
        keyword = opt_keyword(body)
        if keyword is None:
            return
        client_pk = conn.scalar(select(conv_t.c.client_id).where(conv_t.c.id == conversation_id))
        if client_pk is None:
            return
        self.set_opted_out(conn, client_pk, keyword == "out")
        self._apply(
            conn,
            conversation_id,
            folders.automated_outbound_message,
            event="opt_out" if keyword == "out" else "opt_in",
            staff=None,
            detail=body.strip()[:20],
        )

    def unfinished_outbound(self, limit: int = 500, younger_than: timedelta = REFRESH_FOR) -> list[MessageRecord]:
        """Our own sends (not another system's) whose status is not final yet, to refresh by SID.

        Only those younger than ``younger_than``: a text that never gets a delivery receipt
        stays ``sent`` for ever and would be asked about every cycle. The condition is the
        partial index's own, word for word: SQLite uses a partial index only for a query
        that repeats its terms (with the same constants, not parameters).
        """
        with self.read() as conn:
            ids = conn.scalars(
                select(msg_t.c.id)
                .where(UNFINISHED_OUTBOUND, msg_t.c.automated.is_(False), msg_t.c.created_at >= self.clock() - younger_than)
                .order_by(msg_t.c.id)
                .limit(limit)
            ).all()
        return [self.message(mid) for mid in ids]

    # ---- the send pipeline's writes -----------------------------------------------------------

    def begin_send(self, staff: StaffMember, conversation_id: int, body: str) -> MessageRecord:
        """Store an outbound message as ``sending`` before the provider is called."""
        require(staff, Action.SEND)
        now = self.clock()
        with self.write() as conn:
            phone = conn.scalar(select(conv_t.c.phone).where(conv_t.c.id == conversation_id))
            indexed_up_to = self.last_message_id(conn)
            mid = inserted_id(
                conn.execute(
                    insert(msg_t).values(
                        sid=None,
                        conversation_id=conversation_id,
                        direction=Direction.OUTBOUND,
                        body=body,
                        status=Status.SENDING,
                        from_number=self.business_number,
                        to_number=phone,
                        created_at=now,
                        num_segments=segment_info(body).segments,
                        num_media=0,
                        staff_id=staff.id,
                        automated=False,
                    )
                )
            )
            self.index_messages(conn, indexed_up_to)
            self._bump_activity(conn, conversation_id, now, body, Direction.OUTBOUND)
            self._touch(conn, [conversation_id])
        return self.message(mid)

    def restart_send(self, staff: StaffMember, message_id: int) -> MessageRecord:
        """Put a failed message back to ``sending`` for a retry; the same row is reused."""
        require(staff, Action.RETRY)
        now = self.clock()
        with self.write() as conn:
            conn.execute(
                update(msg_t)
                .where(msg_t.c.id == message_id, msg_t.c.status == Status.FAILED, msg_t.c.sid.is_(None))
                .values(status=Status.SENDING, error_code=None, error_message=None, created_at=now, staff_id=staff.id)
            )
            conversation_id = conn.scalar(select(msg_t.c.conversation_id).where(msg_t.c.id == message_id))
            self._touch(conn, [conversation_id])
        return self.message(message_id)

    def finish_send(self, staff: StaffMember, message_id: int, accepted: ProviderMessage) -> MessageRecord:
        """The provider accepted the message: keep its SID and status; the thread is Replied.

        A poller (this terminal's or another's) may have stored the same SID from the log
        first, as another system's message: that copy is the same text, so it gives way to
        this row. A SID stored for a different recipient is no copy: this row is kept as
        unconfirmed, for the poller to reconcile against the log, never resent.
        """
        with self.write() as conn:
            mine = conn.execute(select(msg_t.c.conversation_id, msg_t.c.to_number).where(msg_t.c.id == message_id)).one()
            other = conn.execute(
                select(msg_t.c.id, msg_t.c.to_number).where(msg_t.c.sid == accepted.sid, msg_t.c.id != message_id)
            ).first()
            if other is not None and other.to_number != mine.to_number:
                conn.execute(
                    update(msg_t)
                    .where(msg_t.c.id == message_id)
                    .values(
                        status=Status.UNCONFIRMED,
                        error_message=f"Twilio answered with {accepted.sid}, which is stored for another number; "
                        "msgterm will look for this message in Twilio's log before anything is resent.",
                    )
                )
                self._touch(conn, [mine.conversation_id])
            else:
                if other is not None:
                    conn.execute(delete(msg_t).where(msg_t.c.id == other.id))
                conn.execute(
                    update(msg_t)
                    .where(msg_t.c.id == message_id)
                    .values(
                        sid=accepted.sid, status=accepted.status, num_segments=accepted.num_segments, sent_at=accepted.sent_at
                    )
                )
                self._apply(conn, mine.conversation_id, folders.staff_outbound_message, event="send", staff=staff)
        return self.message(message_id)

    def fail_send(
        self, message_id: int, code: int | None, text: str, status: str = Status.FAILED, *, fence: tuple[str, int] | None = None
    ) -> MessageRecord:
        """The provider refused the message (or we could not tell): keep why, as ``status``."""
        with self.write() as conn:
            if fence is not None:
                self._check_fence(conn, *fence)
            conn.execute(update(msg_t).where(msg_t.c.id == message_id).values(status=status, error_code=code, error_message=text))
            conversation_id = conn.scalar(select(msg_t.c.conversation_id).where(msg_t.c.id == message_id))
            self._touch(conn, [conversation_id])
        return self.message(message_id)

    def record_opt_out(self, conversation_id: int, detail: str) -> None:
        """Twilio refused a send because the client opted out with the carrier: mark them so."""
        with self.write() as conn:
            client_pk = conn.scalar(select(conv_t.c.client_id).where(conv_t.c.id == conversation_id))
            if client_pk is not None:
                self.set_opted_out(conn, client_pk, True)
            self._apply(
                conn, conversation_id, folders.automated_outbound_message, event="opt_out", staff=None, detail=detail[:20]
            )

    def unsent_messages(self) -> list[MessageRecord]:
        """Messages left ``sending`` (or unconfirmed) without a SID, e.g. by a crash mid-send."""
        with self.read() as conn:
            ids = conn.scalars(
                select(msg_t.c.id).where(
                    msg_t.c.sid.is_(None),
                    msg_t.c.direction == Direction.OUTBOUND,
                    msg_t.c.status.in_((Status.SENDING, Status.UNCONFIRMED)),
                )
            ).all()
        return [self.message(mid) for mid in ids]

    def opted_out_phone(self, phone: str) -> bool:
        with self.read() as conn:
            return bool(conn.scalar(select(client_t.c.opted_out).where(client_t.c.mobile_phone == phone).limit(1)))
