"""Drafts: the reply a staff member has typed and not sent, per conversation. Kept in the
store so that a draft survives a restart and follows its writer to another terminal; a
send removes it in the transaction that stores the message (sends.py)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from msgterm.domain.permissions import StaffMember
from msgterm.store import schema
from msgterm.store.base import StoreBase

draft_t = schema.draft


class DraftStore(StoreBase):
    def draft(self, staff: StaffMember, conversation_id: int) -> str:
        """The staff member's unsent text for the conversation ("" when there is none)."""
        with self.read() as conn:
            body = conn.scalar(
                select(draft_t.c.body).where(draft_t.c.staff_id == staff.id, draft_t.c.conversation_id == conversation_id)
            )
        return body or ""

    def draft_ids(self, staff: StaffMember) -> frozenset[int]:
        """The conversations the staff member has a draft in (marked on the list's rows)."""
        with self.read() as conn:
            return frozenset(conn.scalars(select(draft_t.c.conversation_id).where(draft_t.c.staff_id == staff.id)))

    def save_draft(self, staff: StaffMember, conversation_id: int, body: str) -> None:
        """Keep ``body`` as the draft; an empty or blank one removes it."""
        with self.write() as conn:
            if not body.strip():
                self.drop_draft(conn, staff, conversation_id)
                return
            values = {"body": body, "updated_at": self.clock()}
            key = (draft_t.c.staff_id == staff.id) & (draft_t.c.conversation_id == conversation_id)
            if conn.execute(update(draft_t).where(key).values(**values)).rowcount == 0:
                conn.execute(insert(draft_t).values(staff_id=staff.id, conversation_id=conversation_id, **values))

    def drop_draft(self, conn: Connection, staff: StaffMember, conversation_id: int) -> None:
        conn.execute(delete(draft_t).where(draft_t.c.staff_id == staff.id, draft_t.c.conversation_id == conversation_id))
