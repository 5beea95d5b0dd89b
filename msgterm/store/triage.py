"""Triage of many conversations at once, and its undo: archive, mute, unmute, mark unread
and the read of opening, in one transaction for any number of conversations, each
remembering the state it had so that one undo puts them all back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from msgterm.domain import folders
from msgterm.domain.folders import ConversationState, Folder, Triage
from msgterm.domain.permissions import Action, StaffMember, require
from msgterm.domain.provider_message import Direction
from msgterm.store import schema
from msgterm.store.conversations import ConversationStore, conv_t, msg_t
from msgterm.store.records import ConversationRecord

event_t = schema.conversation_event

#: Conversations read or written per statement (each list is one parameter: `among`).
CHUNK = 5_000
#: The permission each action needs (opening by a Viewer changes nothing, PRODUCT.md §1).
NEEDS = {
    Triage.MARK_UNREAD: Action.MARK_UNREAD,
    Triage.ARCHIVE: Action.ARCHIVE,
    Triage.MUTE: Action.MUTE,
    Triage.UNMUTE: Action.UNMUTE,
    Triage.SNOOZE: Action.SNOOZE,
}


@dataclass(frozen=True)
class Prior:
    """A conversation as it was before a triage action changed it."""

    conversation_id: int
    state: ConversationState
    #: Its newest message then: messages after it arrived since.
    newest_message_id: int


@dataclass(frozen=True)
class Undoable:
    """What one triage action changed, enough to put it back."""

    action: Triage
    priors: tuple[Prior, ...]

    @property
    def conversation_ids(self) -> list[int]:
        return [prior.conversation_id for prior in self.priors]


@dataclass(frozen=True)
class Undone:
    action: Triage
    restored: int
    #: Conversations the client wrote to since: their new messages were left in sight.
    kept_new: tuple[int, ...]


class TriageStore(ConversationStore):
    def triage(
        self, staff: StaffMember, action: Triage, conversation_ids: Sequence[int], *, until: datetime | None = None
    ) -> Undoable:
        """Apply ``action`` to every conversation in one transaction; each acted on gets its
        event. Returns what changed (conversations already in the state are left out).
        A snooze lasts ``until`` (UTC); snoozing again moves the time."""
        if action is Triage.READ and not staff.can_send:
            return Undoable(action, ())
        if action in NEEDS:
            require(staff, NEEDS[action])
        if (action is Triage.SNOOZE) != (until is not None):
            raise ValueError("a snooze, and only a snooze, has an until")
        priors: list[Prior] = []
        with self.write() as conn:
            for start in range(0, len(conversation_ids), CHUNK):
                chunk = list(dict.fromkeys(conversation_ids[start : start + CHUNK]))
                priors += self._triage_chunk(conn, staff, action, chunk, until)
                if until is not None:
                    conn.execute(update(conv_t).where(self.among(conv_t.c.id, chunk)).values(snoozed_until=until))
            self._touch(conn, [prior.conversation_id for prior in priors])
        return Undoable(action, tuple(priors))

    def _triage_chunk(
        self, conn: Connection, staff: StaffMember, action: Triage, ids: list[int], until: datetime | None
    ) -> list[Prior]:
        now = self.clock()
        detail = until.isoformat(timespec="seconds") + "Z" if until is not None else ""
        priors, updates, events = [], [], []
        newest = self._newest_message_ids(conn, ids)
        for cid, before in self._states_of(conn, ids).items():
            if action is Triage.READ and before.folder is not Folder.UNREAD:
                continue  # opening a conversation that is not unread is no event
            after = self._rule(conn, action, cid, before)
            events.append({"conversation_id": cid, "kind": action.value, "staff_id": staff.id, "at": now, "detail": detail})
            if after != before:
                priors.append(Prior(cid, before, newest.get(cid, 0)))
                updates.append(_state_row(cid, after))
        self._write_states_of(conn, updates)
        self.bulk_insert(conn, event_t, events)
        return priors

    def _rule(self, conn: Connection, action: Triage, cid: int, before: ConversationState) -> ConversationState:
        if action is Triage.READ:
            return folders.opened(before).state
        if action is Triage.ARCHIVE:
            return folders.archived(before).state
        if action is Triage.MUTE or action is Triage.UNMUTE:
            return folders.muted(before, action is Triage.MUTE).state
        if action is Triage.SNOOZE:
            return folders.snoozed(before).state
        return folders.marked_unread(before, self.unread_count_since_last_outbound(conn, cid)).state

    def undo(self, staff: StaffMember, undoable: Undoable) -> Undone:
        """Put back what ``undoable`` changed, in one transaction, with an ``undo`` event on
        each conversation naming the action undone. A conversation the client wrote to since
        keeps its new messages in sight (``folders.undone``)."""
        if undoable.action in NEEDS:
            require(staff, NEEDS[undoable.action])
        elif not staff.can_send:
            require(staff, Action.MARK_UNREAD)  # undoing a read marks unread
        now = self.clock()
        kept_new: list[int] = []
        with self.write() as conn:
            for start in range(0, len(undoable.priors), CHUNK):
                priors = undoable.priors[start : start + CHUNK]
                chunk = [p.conversation_id for p in priors]
                current = self._states_of(conn, chunk)
                newest_inbound = self._newest_message_ids(conn, chunk, direction=Direction.INBOUND)
                updates, events = [], []
                for prior in priors:
                    if prior.conversation_id not in current:
                        continue
                    wrote = newest_inbound.get(prior.conversation_id, 0) > prior.newest_message_id
                    arrived = self._inbound_after(conn, prior.conversation_id, prior.newest_message_id) if wrote else 0
                    if arrived:
                        kept_new.append(prior.conversation_id)
                    state = folders.undone(prior.state, current[prior.conversation_id], arrived)
                    updates.append(_state_row(prior.conversation_id, state))
                    events.append(
                        {
                            "conversation_id": prior.conversation_id,
                            "kind": "undo",
                            "staff_id": staff.id,
                            "at": now,
                            "detail": undoable.action.value,
                        }
                    )
                self._write_states_of(conn, updates)
                self.bulk_insert(conn, event_t, events)
            self._touch(conn, undoable.conversation_ids)
        return Undone(undoable.action, len(undoable.priors), tuple(kept_new))

    # ---- one conversation -------------------------------------------------------------------

    def open_conversation(self, staff: StaffMember, conversation_id: int) -> ConversationRecord:
        """Staff opened the conversation. Only staff who may send mark it read (PRODUCT.md §1)."""
        self.triage(staff, Triage.READ, [conversation_id])
        return self.conversation(conversation_id)

    def mark_unread(self, staff: StaffMember, conversation_id: int) -> ConversationRecord:
        self.triage(staff, Triage.MARK_UNREAD, [conversation_id])
        return self.conversation(conversation_id)

    def set_muted(self, staff: StaffMember, conversation_id: int, mute: bool) -> ConversationRecord:
        self.triage(staff, Triage.MUTE if mute else Triage.UNMUTE, [conversation_id])
        return self.conversation(conversation_id)

    def archive(self, staff: StaffMember, conversation_id: int) -> ConversationRecord:
        self.triage(staff, Triage.ARCHIVE, [conversation_id])
        return self.conversation(conversation_id)

    # ---- reading and writing states in bulk ------------------------------------------------

    def _states_of(self, conn: Connection, ids: list[int]) -> dict[int, ConversationState]:
        rows = conn.execute(
            select(conv_t.c.id, conv_t.c.folder, conv_t.c.unread_count, conv_t.c.muted).where(self.among(conv_t.c.id, ids))
        )
        found = {row.id: ConversationState(Folder(row.folder), row.unread_count, bool(row.muted)) for row in rows}
        return {cid: found[cid] for cid in ids if cid in found}  # in the order asked

    def _newest_message_ids(self, conn: Connection, ids: list[int], direction: Direction | None = None) -> dict[int, int]:
        """Each conversation's newest message (or newest in one direction), in one query."""
        query = select(msg_t.c.conversation_id, func.max(msg_t.c.id)).where(self.among(msg_t.c.conversation_id, ids))
        if direction is not None:
            query = query.where(msg_t.c.direction == direction)
        return {cid: newest for cid, newest in conn.execute(query.group_by(msg_t.c.conversation_id))}

    def _inbound_after(self, conn: Connection, conversation_id: int, message_id: int) -> int:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(msg_t)
                .where(
                    msg_t.c.conversation_id == conversation_id, msg_t.c.id > message_id, msg_t.c.direction == Direction.INBOUND
                )
            )
            or 0
        )

    def _write_states_of(self, conn: Connection, rows: list[dict]) -> None:
        self.update_by_id(
            conn,
            conv_t,
            [row["cid"] for row in rows],
            {name: [row[name] for row in rows] for name in ("folder", "unread_count", "muted")},
        )


def _state_row(conversation_id: int, state: ConversationState) -> dict:
    return {"cid": conversation_id, "folder": state.folder.value, "unread_count": state.unread_count, "muted": state.muted}
