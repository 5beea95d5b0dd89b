"""What the poller writes: the provider's messages, in batches, fenced by the lease."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from operator import itemgetter

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError

from msgterm.domain import folders
from msgterm.domain.folders import ConversationState, Folder
from msgterm.domain.provider_message import Direction, ProviderMessage, Status, opt_keyword
from msgterm.domain.sanitize import clean_line
from msgterm.store.base import scalar_int
from msgterm.store.conversations import conv_t, event_t, msg_t, preview_of
from msgterm.store.directory import client_t
from msgterm.store.lease import DEFAULT_SYNC, LeaseStore, sync_t
from msgterm.store.records import IngestResult
from msgterm.store.team import alert_row, alert_t

log = logging.getLogger(__name__)

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
FOLDERS = {folder.value: folder for folder in Folder}  # a dict lookup: Folder(value) is a slow Enum call per row


#: What a record the store cannot keep raises while its batch is written: a value the
#: database refuses (DataError, IntegrityError) or that the driver cannot send (a NUL to
#: PostgreSQL, a lone surrogate to SQLite: ValueError, UnicodeError).
UNSTORABLE = (DataError, IntegrityError, ValueError)


class _Rehearsed(Exception):
    """Ends a rehearsal transaction: it worked, and is rolled back."""


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


class IngestStore(LeaseStore):
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
                    "last_preview": preview_of(latest.body, latest.num_media),
                    "last_direction": latest.direction,
                }
            rows.append(row)
            if alert is not None:
                alerted.append((conversation_id, preview_of(alert.body, alert.num_media)))
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
        now = self.clock()
        self.bulk_insert(conn, alert_t, [alert_row(cid, "inbound", None, titles[cid], body, now) for cid, body in alerted])
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
            names = ["folder", "unread_count"]
            if with_activity:
                names += ["last_activity_at", "last_preview", "last_direction"]
            self.update_by_id(
                conn, conv_t, [row["cid"] for row in shaped], {name: [row[name] for row in shaped] for name in names}
            )

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
