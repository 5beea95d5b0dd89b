"""The team inbox: assignment, internal notes, alerts for every terminal, and presence
(which terminal has a conversation open, and whether it is replying)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from msgterm.domain.errors import NotFound, ValidationError
from msgterm.domain.permissions import Action, StaffMember, require
from msgterm.domain.sanitize import clean_line
from msgterm.domain.team import AlertRecord, mentioned
from msgterm.store import schema
from msgterm.store.base import inserted_id, scalar_int
from msgterm.store.conversations import ConversationStore, conv_t, event_t, msg_t, preview_of
from msgterm.store.directory import staff_t

alert_t = schema.alert
presence_t = schema.presence

#: Direction and status of an internal note's message row: never sent, never a send.
NOTE = "note"
#: A terminal's presence lasts this long unless renewed (a crashed one's is gone by then).
PRESENCE_LIFETIME = timedelta(seconds=20)
#: How many alerts a terminal reads at once (after a long sleep the newest matter).
ALERTS_READ = 200


def alert_row(conversation_id: int, kind: str, staff_id: int | None, title: str, preview: str, at: datetime) -> dict:
    """A row of the alert table (``kind``: see models.Alert)."""
    return {
        "conversation_id": conversation_id,
        "kind": kind,
        "staff_id": staff_id,
        "title": clean_line(title),
        "preview": clean_line(preview)[:80],
        "at": at,
    }


@dataclass(frozen=True)
class Present:
    """Someone else at a conversation: viewing it, or with the composer open."""

    full_name: str
    replying: bool


class TeamStore(ConversationStore):
    # ---- assignment ---------------------------------------------------------------------

    def assign(self, staff: StaffMember, conversation_ids: Sequence[int], assignee: StaffMember | None) -> int:
        """Assign the conversations to ``assignee`` (None: nobody); each one that changes gets
        an ``assign`` event naming the assignee. Returns how many changed."""
        require(staff, Action.ASSIGN)
        target = assignee.id if assignee is not None else None
        with self.write() as conn:
            rows = conn.execute(select(conv_t.c.id, conv_t.c.assignee_id).where(conv_t.c.id.in_(list(conversation_ids)))).all()
            missing = set(conversation_ids) - {row.id for row in rows}
            if missing:
                raise NotFound(f"conversation #{min(missing)} does not exist")
            changing = [row.id for row in rows if row.assignee_id != target]
            if not changing:
                return 0
            conn.execute(update(conv_t).where(conv_t.c.id.in_(changing)).values(assignee_id=target))
            now, detail = self.clock(), assignee.username if assignee is not None else ""
            self.bulk_insert(
                conn,
                event_t,
                [{"conversation_id": c, "kind": "assign", "staff_id": staff.id, "at": now, "detail": detail} for c in changing],
            )
            self._touch(conn, changing)
        return len(changing)

    # ---- notes ----------------------------------------------------------------------------

    def add_note(self, staff: StaffMember, conversation_id: int, body: str) -> int:
        """Write an internal note into the thread: a message row that is never sent and
        that no folder rule sees (not inbound, not outbound). ``@username`` alerts that
        person. Returns the note's message id."""
        require(staff, Action.NOTE)
        if not body.strip():
            raise ValidationError("the note is empty; write something first")
        with self.write() as conn:
            title = self._title_of(conn, conversation_id)
            indexed_up_to = self.last_message_id(conn)
            note_id = inserted_id(
                conn.execute(
                    insert(msg_t).values(
                        conversation_id=conversation_id,
                        direction=NOTE,
                        body=body,
                        status=NOTE,
                        created_at=self.clock(),
                        staff_id=staff.id,
                        automated=False,
                        num_segments=0,
                        num_media=0,
                        from_number="",
                        to_number="",
                    )
                )
            )
            self.index_messages(conn, indexed_up_to)
            names = mentioned(body)
            if names:
                found = conn.execute(select(staff_t.c.id).where(func.lower(staff_t.c.username).in_(names))).scalars()
                preview = preview_of(f"{staff.full_name or staff.username}: {body}")
                self.bulk_insert(
                    conn, alert_t, [alert_row(conversation_id, "mention", sid, title, preview, self.clock()) for sid in found]
                )
            self._touch(conn, [conversation_id])
        return note_id

    def _title_of(self, conn: Connection, conversation_id: int) -> str:
        titles = self._titles(conn, [conversation_id])
        if conversation_id not in titles:
            raise NotFound(f"conversation #{conversation_id} does not exist")
        return titles[conversation_id]

    # ---- alerts -------------------------------------------------------------------------------

    def alert_seq(self) -> int:
        with self.read() as conn:
            return scalar_int(conn, select(func.coalesce(func.max(alert_t.c.seq), 0)))

    def alerts_since(self, seq: int) -> list[AlertRecord]:
        """The alerts after ``seq``, oldest first, with each conversation's assignee now."""
        query = (
            select(*alert_t.c, conv_t.c.assignee_id)
            .join(conv_t, conv_t.c.id == alert_t.c.conversation_id)
            .where(alert_t.c.seq > seq)
            .order_by(alert_t.c.seq)
            .limit(ALERTS_READ)
        )
        with self.read() as conn:
            return [
                AlertRecord(r.seq, r.conversation_id, r.kind, r.staff_id, r.title, r.preview, r.assignee_id)
                for r in conn.execute(query)
            ]

    # ---- presence -----------------------------------------------------------------------------

    def set_presence(self, terminal: str, staff: StaffMember, conversation_id: int | None, *, replying: bool) -> None:
        """This terminal is at ``conversation_id`` (None: at none), replying or not. A change
        of conversation or of replying goes into the change log for the other terminals; a
        renewal of the same is one small update."""
        with self.write() as conn:
            before = conn.execute(
                select(presence_t.c.conversation_id, presence_t.c.replying).where(presence_t.c.terminal == terminal)
            ).first()
            changed = {before.conversation_id} if before is not None else set()
            if conversation_id is None:
                conn.execute(delete(presence_t).where(presence_t.c.terminal == terminal))
            else:
                values = {
                    "staff_id": staff.id,
                    "conversation_id": conversation_id,
                    "replying": replying,
                    "expires_at": self.clock() + PRESENCE_LIFETIME,
                }
                if before is None:
                    conn.execute(insert(presence_t).values(terminal=terminal, **values))
                else:
                    conn.execute(update(presence_t).where(presence_t.c.terminal == terminal).values(**values))
                conn.execute(delete(presence_t).where(presence_t.c.expires_at < self.clock() - PRESENCE_LIFETIME))
                if before is not None and (before.conversation_id, bool(before.replying)) == (conversation_id, replying):
                    return  # only renewed: nobody needs to look again
                changed.add(conversation_id)
            self._touch(conn, sorted(changed))

    def present(self, conversation_id: int, *, besides: str) -> list[Present]:
        """Who else (other terminals than ``besides``) is at the conversation now, one entry
        per person, replying before viewing."""
        query = (
            select(staff_t.c.full_name, staff_t.c.username, presence_t.c.replying)
            .join(staff_t, staff_t.c.id == presence_t.c.staff_id)
            .where(
                presence_t.c.conversation_id == conversation_id,
                presence_t.c.terminal != besides,
                presence_t.c.expires_at > self.clock(),
            )
            .order_by(presence_t.c.replying.desc(), staff_t.c.full_name)
        )
        with self.read() as conn:
            people: dict[str, Present] = {}
            for row in conn.execute(query):
                name = row.full_name or row.username
                if name not in people:
                    people[name] = Present(name, bool(row.replying))
        return list(people.values())
