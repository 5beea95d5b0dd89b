"""Replies at the right time: templates, pins, snooze's return, and scheduled sends.

A scheduled message is an outbound row with status ``scheduled`` and its time in
``send_at`` (and ``created_at``, so that it sits at its time in the thread). It changes
no folder, activity or count until it goes out: then the lease holder claims it (status
``sending``, fenced by the lease, so that only one process ever claims it) and sends it
through the send pipeline like any reply, whose reconcile covers a crash after Twilio's
answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, and_, delete, insert, select, update

from msgterm.domain import folders
from msgterm.domain.errors import NotFound, ValidationError
from msgterm.domain.folders import Folder
from msgterm.domain.permissions import Action, StaffMember, require
from msgterm.domain.provider_message import Direction, Status
from msgterm.domain.templates import Template, check_template, merge_values
from msgterm.store import schema
from msgterm.store.conversations import conv_t, event_t, msg_t
from msgterm.store.directory import client_t, location_t
from msgterm.store.drafts import DraftStore
from msgterm.store.lease import LeaseStore
from msgterm.store.records import MessageRecord
from msgterm.store.team import TeamStore, alert_row
from msgterm.store.triage import TriageStore

template_t = schema.template

SCHEDULED = "scheduled"
CANCELED = "canceled"


@dataclass(frozen=True)
class ScheduledSend:
    """A message waiting for its time, for ``msgterm scheduled`` and the thread."""

    message_id: int
    conversation_id: int
    title: str
    send_at: datetime
    body: str
    staff_username: str | None


class LaterStore(TriageStore, TeamStore, LeaseStore, DraftStore):
    # ---- templates ------------------------------------------------------------------------

    def save_template(self, staff: StaffMember, name: str, body: str) -> Template:
        """Add a template, or replace the one of that name; unknown fields are refused."""
        require(staff, Action.TEMPLATES)
        template = check_template(name, body)
        with self.write() as conn:
            conn.execute(delete(template_t).where(template_t.c.name == template.name))
            conn.execute(insert(template_t).values(name=template.name, body=template.body))
        return template

    def templates(self) -> list[Template]:
        with self.read() as conn:
            return [Template(r.name, r.body) for r in conn.execute(select(template_t).order_by(template_t.c.name))]

    def template(self, name: str) -> Template:
        with self.read() as conn:
            row = conn.execute(select(template_t).where(template_t.c.name == name.strip())).first()
        if row is None:
            known = ", ".join(t.name for t in self.templates()) or "none yet: add one with 'msgterm templates add NAME TEXT'"
            raise NotFound(f"there is no template {name!r}; the templates are: {known}")
        return Template(row.name, row.body)

    def remove_template(self, staff: StaffMember, name: str) -> None:
        require(staff, Action.TEMPLATES)
        with self.write() as conn:
            if not conn.execute(delete(template_t).where(template_t.c.name == name.strip())).rowcount:
                raise NotFound(f"there is no template {name!r} (msgterm templates list shows them)")

    def merge_values_for(self, staff: StaffMember, conversation_id: int) -> dict[str, str | None]:
        """The merge fields' values for the conversation's client (None where unknown)."""
        query = (
            select(client_t.c.first_name, client_t.c.last_name, location_t.c.name.label("home_location"))
            .select_from(
                conv_t.outerjoin(client_t, client_t.c.id == conv_t.c.client_id).outerjoin(
                    location_t, location_t.c.id == client_t.c.home_location_id
                )
            )
            .where(conv_t.c.id == conversation_id)
        )
        with self.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"conversation #{conversation_id} does not exist")
        return merge_values(row.first_name or "", row.last_name or "", row.home_location, staff.full_name)

    # ---- pins -----------------------------------------------------------------------------

    def set_pinned(self, staff: StaffMember, conversation_ids: Sequence[int], pinned: bool) -> int:
        """Pin (or unpin) the conversations for the whole front desk; each one that changes
        gets a ``pin``/``unpin`` event. Returns how many changed."""
        require(staff, Action.PIN)
        with self.write() as conn:
            changing = list(
                conn.scalars(select(conv_t.c.id).where(conv_t.c.id.in_(list(conversation_ids)), conv_t.c.pinned != pinned))
            )
            if changing:
                conn.execute(update(conv_t).where(conv_t.c.id.in_(changing)).values(pinned=pinned))
                now = self.clock()
                kind = "pin" if pinned else "unpin"
                self.bulk_insert(
                    conn,
                    event_t,
                    [{"conversation_id": c, "kind": kind, "staff_id": staff.id, "at": now, "detail": ""} for c in changing],
                )
                self._touch(conn, changing)
        return len(changing)

    # ---- snooze ---------------------------------------------------------------------------

    def end_due_snoozes(self, *, fence: tuple[str, int] | None = None) -> list[int]:
        """Conversations whose snooze time has come go back to Unread, with an alert as if
        the client had written (unless muted); the lease holder runs this every cycle."""
        now = self.clock()
        with self.write() as conn:
            if fence is not None:
                self._check_fence(conn, *fence)
            due = list(
                conn.scalars(select(conv_t.c.id).where(conv_t.c.folder == Folder.SNOOZED.value, conv_t.c.snoozed_until <= now))
            )
            titles = self._titles(conn, due)
            alerts = []
            for cid in due:
                count = self.unread_count_since_last_outbound(conn, cid)
                outcome = self._apply(
                    conn,
                    cid,
                    partial(folders.snooze_ended, client_messages_since_last_outbound=count),
                    event="snooze_ended",
                    staff=None,
                )
                if outcome.alert:
                    alerts.append(alert_row(cid, "inbound", None, titles.get(cid, ""), "Snooze ended: back in Unread", now))
            self.bulk_insert(conn, schema.alert, alerts)
        return due

    # ---- scheduled sends ------------------------------------------------------------------

    def schedule_send(self, staff: StaffMember, conversation_id: int, body: str, send_at: datetime) -> MessageRecord:
        """Store a message to go out at ``send_at`` (UTC). The pipeline checks it first."""
        require(staff, Action.SCHEDULE)
        if send_at <= self.clock():
            raise ValidationError("that time has passed; give a time to come")
        with self.write() as conn:
            phone = conn.scalar(select(conv_t.c.phone).where(conv_t.c.id == conversation_id))
            if phone is None:
                raise NotFound(f"conversation #{conversation_id} does not exist")
            mid = self.insert_outbound(conn, staff, conversation_id, phone, body, status=SCHEDULED, at=send_at, send_at=send_at)
            self._event(conn, conversation_id, "schedule", staff, send_at.isoformat(timespec="seconds") + "Z")
            self.drop_draft(conn, staff, conversation_id)  # the draft became this message
            self._touch(conn, [conversation_id])
        return self.message(mid)

    def scheduled_sends(self) -> list[ScheduledSend]:
        """Every message still waiting for its time, soonest first."""
        with self.read() as conn:
            rows = conn.execute(
                select(msg_t.c.id, msg_t.c.conversation_id, msg_t.c.send_at, msg_t.c.body, msg_t.c.staff_id)
                .where(msg_t.c.status == SCHEDULED)
                .order_by(msg_t.c.send_at, msg_t.c.id)
            ).all()
            titles = self._titles(conn, sorted({r.conversation_id for r in rows}))
        usernames = {s.id: s.username for s in self.list_staff()}
        return [
            ScheduledSend(
                r.id, r.conversation_id, titles.get(r.conversation_id, ""), r.send_at, r.body, usernames.get(r.staff_id)
            )
            for r in rows
        ]

    def cancel_scheduled(self, staff: StaffMember, message_id: int) -> MessageRecord:
        """Cancel a scheduled message that has not gone out (it stays in the thread as canceled)."""
        require(staff, Action.SCHEDULE)
        with self.write() as conn:
            row = conn.execute(select(msg_t.c.conversation_id, msg_t.c.status).where(msg_t.c.id == message_id)).first()
            if row is None:
                raise NotFound(f"there is no scheduled message #{message_id} (msgterm scheduled lists them)")
            changed = conn.execute(
                update(msg_t).where(msg_t.c.id == message_id, msg_t.c.status == SCHEDULED).values(status=CANCELED)
            ).rowcount
            if not changed:
                raise ValidationError(
                    f"message #{message_id} is not scheduled any more (it is {row.status}); nothing was changed"
                )
            self._event(conn, row.conversation_id, "cancel_scheduled", staff, str(message_id))
            self._touch(conn, [row.conversation_id])
        return self.message(message_id)

    def due_scheduled(self, limit: int = 100) -> list[MessageRecord]:
        """Scheduled messages whose time has come, soonest first."""
        with self.read() as conn:
            ids = conn.scalars(
                select(msg_t.c.id)
                .where(msg_t.c.status == SCHEDULED, msg_t.c.send_at <= self.clock())
                .order_by(msg_t.c.send_at, msg_t.c.id)
                .limit(limit)
            ).all()
        return [self.message(mid) for mid in ids]

    def claim_scheduled(self, message_id: int, *, fence: tuple[str, int] | None) -> MessageRecord | None:
        """Take a due message for sending: ``scheduled`` becomes ``sending`` at the time it
        goes out, only while this process holds the lease, and only once (a cancel or
        another claim first leaves None)."""
        with self.write() as conn:
            if fence is not None:
                self._check_fence(conn, *fence)
            claimed = conn.execute(
                update(msg_t)
                .where(and_(msg_t.c.id == message_id, msg_t.c.status == SCHEDULED))
                .values(status=Status.SENDING, created_at=self.clock())
            ).rowcount
            if not claimed:
                return None
            row = conn.execute(select(msg_t.c.conversation_id, msg_t.c.body).where(msg_t.c.id == message_id)).one()
            self._bump_activity(conn, row.conversation_id, self.clock(), row.body, Direction.OUTBOUND)
            self._touch(conn, [row.conversation_id])
        return self.message(message_id)

    def _event(self, conn: Connection, conversation_id: int, kind: str, staff: StaffMember | None, detail: str) -> None:
        conn.execute(
            insert(event_t).values(
                conversation_id=conversation_id, kind=kind, staff_id=staff.id if staff else None, at=self.clock(), detail=detail
            )
        )
