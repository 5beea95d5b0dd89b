"""The send pipeline's rows: an outbound message stored before the provider is called,
then finished, failed or restarted; the sends the poller refreshes or reconciles."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from msgterm.domain import folders
from msgterm.domain.errors import NotFound
from msgterm.domain.permissions import Action, StaffMember, require
from msgterm.domain.provider_message import Direction, ProviderMessage, Status
from msgterm.store.conversations import conv_t, msg_t
from msgterm.store.directory import client_t
from msgterm.store.drafts import DraftStore
from msgterm.store.lease import LeaseStore
from msgterm.store.records import MessageRecord

#: Our sends are refreshed by SID until final, for this long after they were sent.
REFRESH_FOR = timedelta(days=3)
UNFINISHED_OUTBOUND = next(index for index in msg_t.indexes if index.name == "ix_message_unfinished_outbound").dialect_options[
    "sqlite"
]["where"]


class SendStore(LeaseStore, DraftStore):
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

    def begin_send(self, staff: StaffMember, conversation_id: int, body: str) -> MessageRecord:
        """Store an outbound message as ``sending`` before the provider is called."""
        require(staff, Action.SEND)
        now = self.clock()
        with self.write() as conn:
            phone = conn.scalar(select(conv_t.c.phone).where(conv_t.c.id == conversation_id))
            if phone is None:
                raise NotFound(f"conversation #{conversation_id} does not exist")
            mid = self.insert_outbound(conn, staff, conversation_id, phone, body, status=Status.SENDING, at=now)
            self._bump_activity(conn, conversation_id, now, body, Direction.OUTBOUND)
            self._touch(conn, [conversation_id])
            self.drop_draft(conn, staff, conversation_id)  # the draft became this message
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
