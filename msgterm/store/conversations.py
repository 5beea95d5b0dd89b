"""Conversations, their messages and events, and the folder rules applied to them."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, false, func, insert, or_, select, update

from msgterm.domain import folders
from msgterm.domain.errors import NotFound, ValidationError
from msgterm.domain.folders import ConversationState, Folder, FolderView, Outcome
from msgterm.domain.permissions import Action, StaffMember, require
from msgterm.domain.phones import format_number
from msgterm.domain.provider_message import Direction
from msgterm.domain.sanitize import clean_line
from msgterm.domain.segments import segment_info
from msgterm.store import schema
from msgterm.store.base import inserted_id, scalar_int
from msgterm.store.directory import DirectoryStore, client_t, group_t, location_t, member_t, number_t, staff_t, type_t
from msgterm.store.records import (
    ConversationRecord,
    EventRecord,
    Filters,
    HistoryEntry,
    MediaRecord,
    MessageRecord,
    field_names,
)

conv_t = schema.conversation
assignee_t = schema.staff.alias("assignee")
msg_t = schema.message
event_t = schema.conversation_event
media_t = schema.media
change_t = schema.change_log

PREVIEW_CHARS = 120
#: The Outbox's index condition (models.OUTBOX), word for word.
OUTBOX = next(index for index in msg_t.indexes if index.name == "ix_message_outbox").dialect_options["sqlite"]["where"]
#: A send Twilio has taken but not confirmed delivered is in the Outbox after this long...
PENDING_AFTER = timedelta(minutes=10)
#: ...and any of our undelivered sends for this long (older ones are in their threads).
OUTBOX_DAYS = timedelta(days=7)
FAILED_STATUSES = ("failed", "undelivered")
ON_ITS_WAY = ("queued", "accepted", "sent")

#: The pinned index's condition, word for word (SQLite uses a partial index only then).
PINNED = next(index for index in conv_t.indexes if index.name == "ix_conversation_pinned").dialect_options["sqlite"]["where"]

CONVERSATION_COLUMNS = (
    conv_t.c.id,
    conv_t.c.phone,
    conv_t.c.client_id,
    client_t.c.first_name,
    client_t.c.last_name,
    conv_t.c.folder,
    conv_t.c.unread_count,
    conv_t.c.muted,
    conv_t.c.last_activity_at,
    conv_t.c.last_preview,
    conv_t.c.last_direction,
    client_t.c.opted_out,
    conv_t.c.assignee_id,
    assignee_t.c.username.label("assignee_username"),
    assignee_t.c.full_name.label("assignee_full_name"),
    conv_t.c.pinned,
    conv_t.c.snoozed_until,
)
MESSAGE_COLUMNS = (
    msg_t.c.id,
    msg_t.c.sid,
    msg_t.c.conversation_id,
    msg_t.c.direction,
    msg_t.c.body,
    msg_t.c.status,
    msg_t.c.error_code,
    msg_t.c.error_message,
    msg_t.c.created_at,
    msg_t.c.sent_at,
    msg_t.c.num_segments,
    msg_t.c.num_media,
    staff_t.c.username.label("staff_username"),
    staff_t.c.full_name.label("staff_name"),
    msg_t.c.automated,
    msg_t.c.to_number,
    msg_t.c.send_at,
    msg_t.c.media_listed_at,
)
#: An event and who made it, labelled as EventRecord's fields.
EVENT_COLUMNS = (
    event_t.c.id,
    event_t.c.conversation_id,
    event_t.c.kind,
    staff_t.c.username.label("staff_username"),
    event_t.c.at,
    event_t.c.detail,
)


MESSAGE_RECORD_FIELDS = tuple(name for name in field_names(MessageRecord) if name != "media")
EVENT_RECORD_FIELDS = field_names(EventRecord)
MEDIA_RECORD_FIELDS = field_names(MediaRecord)


def message_record(row) -> MessageRecord:
    """A MessageRecord from a row selected with MESSAGE_COLUMNS (and maybe more), by name."""
    return MessageRecord(**{name: row._mapping[name] for name in MESSAGE_RECORD_FIELDS})


def media_by_message(conn: Connection, message_ids: list[int]) -> dict[int, tuple[MediaRecord, ...]]:
    """The listed files of these messages, in their order, by message id."""
    found: dict[int, list[MediaRecord]] = {}
    if message_ids:
        query = select(*(media_t.c[name] for name in MEDIA_RECORD_FIELDS)).where(media_t.c.message_id.in_(message_ids))
        for row in conn.execute(query.order_by(media_t.c.message_id, media_t.c.position)):
            found.setdefault(row.message_id, []).append(MediaRecord(*row))
    return {message_id: tuple(files) for message_id, files in found.items()}


def message_records(conn: Connection, rows) -> list[MessageRecord]:
    """MessageRecords of rows selected with MESSAGE_COLUMNS, each MMS with its listed files
    (one more query, only when there is an MMS among them)."""
    records = [message_record(row) for row in rows]
    listed = [record.id for record in records if record.num_media and record.media_listed_at is not None]
    if not listed:
        return records
    files = media_by_message(conn, listed)
    return [replace(record, media=files.get(record.id, ())) if record.num_media else record for record in records]


def event_record(row) -> EventRecord:
    return EventRecord(**{name: row._mapping[name] for name in EVENT_RECORD_FIELDS})


def conversation_record(row) -> ConversationRecord:
    name = f"{row.first_name or ''} {row.last_name or ''}".strip() if row.client_id else None
    return ConversationRecord(
        id=row.id,
        phone=row.phone,
        client_id=row.client_id,
        client_name=name or None,
        folder=Folder(row.folder),
        unread_count=row.unread_count,
        muted=bool(row.muted),
        last_activity_at=row.last_activity_at,
        last_preview=row.last_preview,
        last_direction=row.last_direction,
        opted_out=bool(row.opted_out),
        assignee_id=row.assignee_id,
        assignee_username=row.assignee_username,
        assignee_name=(row.assignee_full_name or row.assignee_username) if row.assignee_id else None,
        pinned=bool(row.pinned),
        snoozed_until=row.snoozed_until if row.folder == Folder.SNOOZED.value else None,
    )


def with_people(source):
    """``source`` (which holds the conversation) joined to the client and the assignee, as
    CONVERSATION_COLUMNS need."""
    return source.outerjoin(client_t, client_t.c.id == conv_t.c.client_id).outerjoin(
        assignee_t, assignee_t.c.id == conv_t.c.assignee_id
    )


def _named(table, names: tuple[str, ...]):
    """The ids of the rows of a small name table (types, groups, locations) with these names."""
    return select(table.c.id).where(func.lower(table.c.name).in_([name.lower() for name in names]))


def preview_of(body: str, num_media: int = 0) -> str:
    """A message in a row of the list: its text, or what it carries when it has none."""
    if not body.strip() and num_media:
        return f"📎 {num_media} attachment{'s' if num_media != 1 else ''}"
    return clean_line(body)[:PREVIEW_CHARS]


class ConversationStore(DirectoryStore):
    """Conversations and everything that changes them."""

    # ---- reading ---------------------------------------------------------------------

    def _filtered(self, query, view: FolderView, filters: Filters, *, time_column=None, along_activity: bool = False):
        """Narrow ``query`` (which joins conversation and client) to a folder and filters.

        Names compare without case, so that the search box's ``type:member`` finds "Member".
        ``along_activity``: see ``conversations``.
        """
        time_column = conv_t.c.last_activity_at if time_column is None else time_column
        # "client_id + 0" is the same value, but no index can serve it: SQLite then walks
        # the activity order and tests each conversation against the clients.
        client_ref = conv_t.c.client_id + 0 if along_activity else conv_t.c.client_id
        if view.folder is not None:
            query = query.where(conv_t.c.folder == view.folder.value)
        if view is FolderView.OUTBOX or filters.outbox:
            # The few ids first: as a subquery beside a client filter, SQLite drove the count
            # from the filter's clients (25 ms at 100,000 conversations, with none in the Outbox).
            with self.read() as conn:
                outbox = list(conn.scalars(self._outbox_messages(filters.outbox).with_only_columns(msg_t.c.conversation_id)))
            query = query.where(conv_t.c.id.in_(sorted(set(outbox))) if outbox else false())
        if filters.since is not None:
            query = query.where(time_column >= filters.since)
        if filters.until is not None:
            query = query.where(time_column < filters.until)
        if filters.muted_only:
            query = query.where(conv_t.c.muted.is_(True))
        if filters.client_types or filters.locations:
            # As "client_id IN (clients ...)", which SQLite drives from the client side
            # through indexes; a join would look up the client of every conversation.
            clients = select(client_t.c.id)
            if filters.client_types:
                clients = clients.where(client_t.c.client_type_id.in_(_named(type_t, filters.client_types)))
            if filters.locations:
                clients = clients.where(client_t.c.home_location_id.in_(_named(location_t, filters.locations)))
            query = query.where(client_ref.in_(clients))
        if filters.groups:
            query = query.where(
                client_ref.in_(select(member_t.c.client_id).where(member_t.c.group_id.in_(_named(group_t, filters.groups))))
            )
        assigned = []
        if filters.assignees:
            names = [name.lower() for name in filters.assignees]
            assigned.append(conv_t.c.assignee_id.in_(select(staff_t.c.id).where(func.lower(staff_t.c.username).in_(names))))
        if filters.unassigned:
            assigned.append(conv_t.c.assignee_id.is_(None))
        if assigned:
            query = query.where(or_(*assigned))
        return query

    def _outbox_messages(self, reason: str | None = None):
        """Our sends (and scheduled messages) in the Outbox, through their partial index:
        failed, undelivered, unconfirmed, sending or scheduled, or taken by Twilio and not
        delivered after PENDING_AFTER; from the last OUTBOX_DAYS. ``reason``: "failed" or
        "pending" only."""
        now = self.clock()
        query = select(msg_t.c.id).where(
            OUTBOX,
            msg_t.c.created_at >= now - OUTBOX_DAYS,
            or_(msg_t.c.status.not_in(ON_ITS_WAY), msg_t.c.created_at < now - PENDING_AFTER),
        )
        if reason == "failed":
            query = query.where(msg_t.c.status.in_(FAILED_STATUSES))
        elif reason == "pending":
            query = query.where(msg_t.c.status.not_in(FAILED_STATUSES))
        return query

    def failed_among(self, conversation_ids: list[int]) -> set[int]:
        """Which of these conversations have a failed send in the Outbox (their rows' mark)."""
        if not conversation_ids:
            return set()
        query = self._outbox_messages("failed").with_only_columns(msg_t.c.conversation_id)
        with self.read() as conn:
            return set(conn.scalars(query.where(msg_t.c.conversation_id.in_(conversation_ids))))

    def outbox_reasons(self, conversation_ids: list[int]) -> dict[int, MessageRecord]:
        """Each conversation's newest message in the Outbox, for its row."""
        if not conversation_ids:
            return {}
        query = (
            select(*MESSAGE_COLUMNS)
            .select_from(msg_t.outerjoin(staff_t, staff_t.c.id == msg_t.c.staff_id))
            .where(msg_t.c.id.in_(self._outbox_messages()), msg_t.c.conversation_id.in_(conversation_ids))
            .order_by(msg_t.c.created_at)
        )
        with self.read() as conn:
            return {record.conversation_id: record for record in map(message_record, conn.execute(query))}

    def _conversation_query(self):
        return select(*CONVERSATION_COLUMNS).select_from(with_people(conv_t))

    def conversations(
        self,
        view: FolderView = FolderView.ALL,
        filters: Filters = Filters(),
        *,
        after: tuple[datetime, int] | None = None,
        offset: int = 0,
        limit: int = 100,
        total: int | None = None,
        pinned: bool | None = None,
    ) -> list[ConversationRecord]:
        """A page of conversations, newest activity first (keyset ``after`` or ``offset``);
        only the pinned ones, or only the others, with ``pinned``.

        Given the ``total``, a page in the older half is read from the oldest end, so that
        jumping to the bottom of 100,000 conversations skips a few rows, not all of them.

        A filter by client type, location or group can be read from its clients (every
        match, then sorted) or along the activity order (testing each conversation until the
        page is full). Given the ``total``, a page within the first tenth of the matches is
        read the second way, which then tests few rows unless the filter keeps very few: the
        first page of a type held by 14,000 of 100,000 conversations took 6 ms so, against
        47 ms from the clients.
        """
        along_activity = after is None and total is not None and offset + limit <= total // 10
        query = self._filtered(self._conversation_query(), view, filters, along_activity=along_activity)
        if pinned is not None:
            # By id: "pinned = true" beside a folder or a filter made SQLite walk the folder's
            # index testing every row (55 ms at 100,000 conversations); the ids come from the
            # pinned index alone, and with none pinned the list's query is unchanged.
            ids = self.pinned_ids()
            if pinned and not ids:
                return []
            if ids:
                query = query.where(conv_t.c.id.in_(ids) if pinned else conv_t.c.id.not_in(ids))
        if after is None and total is not None and offset > total // 2:
            limit = max(0, min(limit, total - offset))
            query = query.order_by(conv_t.c.last_activity_at, conv_t.c.id).offset(total - offset - limit).limit(limit)
            with self.read() as conn:
                return [conversation_record(row) for row in reversed(conn.execute(query).all())]
        return self._newest_first(query, after=after, offset=offset, limit=limit)

    def pinned_ids(self) -> list[int]:
        """Every pinned conversation (a front desk pins a handful), through their own index."""
        with self.read() as conn:
            return list(conn.scalars(select(conv_t.c.id).where(PINNED)))

    def _newest_first(
        self, query, *, after: tuple[datetime, int] | None = None, offset: int = 0, limit: int
    ) -> list[ConversationRecord]:
        """Run a conversation query newest activity first, from a keyset position or an offset."""
        if after is not None:
            at, cid = after
            query = query.where(or_(conv_t.c.last_activity_at < at, and_(conv_t.c.last_activity_at == at, conv_t.c.id < cid)))
        query = query.order_by(conv_t.c.last_activity_at.desc(), conv_t.c.id.desc()).offset(offset).limit(limit)
        with self.read() as conn:
            return [conversation_record(row) for row in conn.execute(query)]

    def conversation_ids(self, view: FolderView = FolderView.ALL, filters: Filters = Filters()) -> list[int]:
        """Every conversation of the view, newest activity first ("select all")."""
        query = self._filtered(select(conv_t.c.id).select_from(conv_t), view, filters)
        with self.read() as conn:
            return list(conn.scalars(query.order_by(conv_t.c.last_activity_at.desc(), conv_t.c.id.desc())))

    def conversation_count(self, view: FolderView = FolderView.ALL, filters: Filters = Filters()) -> int:
        return self.folder_counts(filters)[view]

    def folder_counts(self, filters: Filters = Filters()) -> dict[FolderView, int]:
        """How many conversations each folder holds under ``filters`` (Unread counts threads)."""
        query = self._filtered(
            select(conv_t.c.folder, func.count()).select_from(conv_t),
            FolderView.ALL,
            filters,
        ).group_by(conv_t.c.folder)
        with self.read() as conn:
            per_folder = dict(conn.execute(query).all())
        counts: dict[FolderView, int] = {view: per_folder.get(view.value, 0) for view in FolderView if view.folder is not None}
        counts[FolderView.ALL] = sum(per_folder.values())
        outbox = self._filtered(select(func.count()).select_from(conv_t), FolderView.OUTBOX, filters)
        with self.read() as conn:
            counts[FolderView.OUTBOX] = scalar_int(conn, outbox)
        return counts

    def message_count(self) -> int:
        with self.read() as conn:
            return scalar_int(conn, select(func.count()).select_from(msg_t))

    def conversation(self, conversation_id: int) -> ConversationRecord:
        with self.read() as conn:
            row = conn.execute(self._conversation_query().where(conv_t.c.id == conversation_id)).first()
        if row is None:
            raise NotFound(f"conversation #{conversation_id} does not exist")
        return conversation_record(row)

    def _titles(self, conn: Connection, conversation_ids: list[int]) -> dict[int, str]:
        """Each conversation's title (the client's name, else the number)."""
        rows = conn.execute(self._conversation_query().where(self.among(conv_t.c.id, conversation_ids)))
        return {row.id: conversation_record(row).title for row in rows}

    def conversation_for_client(self, client_pk: int) -> ConversationRecord | None:
        with self.read() as conn:
            row = conn.execute(
                self._conversation_query().where(conv_t.c.client_id == client_pk).order_by(conv_t.c.id).limit(1)
            ).first()
        return conversation_record(row) if row else None

    def messages(
        self, conversation_id: int, *, before: tuple[datetime, int] | None = None, limit: int = 200
    ) -> list[MessageRecord]:
        """The last ``limit`` messages of a conversation (before a key), oldest first."""
        query = (
            select(*MESSAGE_COLUMNS)
            .select_from(msg_t.outerjoin(staff_t, staff_t.c.id == msg_t.c.staff_id))
            .where(msg_t.c.conversation_id == conversation_id)
        )
        if before is not None:
            at, mid = before
            query = query.where(or_(msg_t.c.created_at < at, and_(msg_t.c.created_at == at, msg_t.c.id < mid)))
        query = query.order_by(msg_t.c.created_at.desc(), msg_t.c.id.desc()).limit(limit)
        with self.read() as conn:
            return message_records(conn, reversed(conn.execute(query).all()))

    def messages_around(self, conversation_id: int, message_id: int, *, each_side: int = 30) -> list[MessageRecord]:
        """A window of a conversation centred on one message (a search hit), oldest first."""
        middle = self.message(message_id)
        key = (middle.created_at, middle.id)
        query = (
            select(*MESSAGE_COLUMNS)
            .select_from(msg_t.outerjoin(staff_t, staff_t.c.id == msg_t.c.staff_id))
            .where(
                msg_t.c.conversation_id == conversation_id,
                or_(msg_t.c.created_at > key[0], and_(msg_t.c.created_at == key[0], msg_t.c.id > key[1])),
            )
            .order_by(msg_t.c.created_at, msg_t.c.id)
            .limit(each_side)
        )
        with self.read() as conn:
            later = message_records(conn, conn.execute(query).all())
        return self.messages(conversation_id, before=key, limit=each_side) + [middle] + later

    def message(self, message_id: int) -> MessageRecord:
        with self.read() as conn:
            row = conn.execute(
                select(*MESSAGE_COLUMNS)
                .select_from(msg_t.outerjoin(staff_t, staff_t.c.id == msg_t.c.staff_id))
                .where(msg_t.c.id == message_id)
            ).first()
            if row is None:
                raise NotFound(f"message #{message_id} does not exist")
            return message_records(conn, [row])[0]

    def events(self, conversation_id: int) -> list[EventRecord]:
        with self.read() as conn:
            rows = conn.execute(
                select(*EVENT_COLUMNS)
                .select_from(event_t.outerjoin(staff_t, staff_t.c.id == event_t.c.staff_id))
                .where(event_t.c.conversation_id == conversation_id)
                .order_by(event_t.c.at, event_t.c.id)
            ).all()
        return [event_record(row) for row in rows]

    def unread_count_since_last_outbound(self, conn: Connection, conversation_id: int) -> int:
        last_outbound = (
            select(func.max(msg_t.c.created_at))
            .where(
                msg_t.c.conversation_id == conversation_id,
                msg_t.c.direction == Direction.OUTBOUND,
                msg_t.c.status != "scheduled",
                msg_t.c.status != "canceled",
            )
            .scalar_subquery()
        )
        return scalar_int(
            conn,
            select(func.count())
            .select_from(msg_t)
            .where(
                msg_t.c.conversation_id == conversation_id,
                msg_t.c.direction == Direction.INBOUND,
                or_(last_outbound.is_(None), msg_t.c.created_at > last_outbound),
            ),
        )

    # ---- changing --------------------------------------------------------------------

    def _state(self, conn: Connection, conversation_id: int) -> ConversationState:
        row = conn.execute(
            select(conv_t.c.folder, conv_t.c.unread_count, conv_t.c.muted).where(conv_t.c.id == conversation_id)
        ).first()
        if row is None:
            raise NotFound(f"conversation #{conversation_id} does not exist")
        return ConversationState(Folder(row.folder), row.unread_count, bool(row.muted))

    def _apply(
        self,
        conn: Connection,
        conversation_id: int,
        rule: Callable[[ConversationState], Outcome],
        *,
        event: str | None,
        staff: StaffMember | None,
        detail: str = "",
    ) -> Outcome:
        """Apply one folder rule to a conversation, record the event, note the change."""
        before = self._state(conn, conversation_id)
        outcome = rule(before)
        if outcome.state != before:
            conn.execute(
                update(conv_t)
                .where(conv_t.c.id == conversation_id)
                .values(folder=outcome.state.folder.value, unread_count=outcome.state.unread_count, muted=outcome.state.muted)
            )
        if event:
            conn.execute(
                insert(event_t).values(
                    conversation_id=conversation_id,
                    kind=event,
                    staff_id=staff.id if staff else None,
                    at=self.clock(),
                    detail=detail,
                )
            )
        self._touch(conn, [conversation_id])
        return outcome

    def _ensure_conversation(self, conn: Connection, phone: str, at: datetime) -> int:
        found = conn.scalar(select(conv_t.c.id).where(conv_t.c.business_number == self.business_number, conv_t.c.phone == phone))
        if found is not None:
            return found
        return inserted_id(
            conn.execute(
                insert(conv_t).values(
                    business_number=self.business_number,
                    phone=phone,
                    client_id=self.client_by_phone(conn, phone),
                    folder=folders.NEW_CONVERSATION.folder.value,
                    unread_count=0,
                    muted=False,
                    last_activity_at=at,
                    last_preview="",
                    last_direction="",
                    created_at=at,
                )
            )
        )

    def start_conversation(self, staff: StaffMember, client_pk: int) -> ConversationRecord:
        """The conversation with a client, created when there is none yet (New conversation)."""
        require(staff, Action.START)
        existing = self.conversation_for_client(client_pk)
        if existing:
            return existing
        client = self.client(client_pk)
        if not client.mobile_phone:
            raise ValidationError(f"{client.name} has no mobile number; add one to the client directory first")
        with self.write() as conn:
            cid = self._ensure_conversation(conn, client.mobile_phone, self.clock())
            conn.execute(update(conv_t).where(conv_t.c.id == cid).values(client_id=client_pk))
            self._touch(conn, [cid])
        return self.conversation(cid)

    def link_client(self, staff: StaffMember, conversation_id: int, client_pk: int) -> ConversationRecord:
        """Link an unknown sender's conversation to a client of the directory: the thread and
        its history become theirs, and the number becomes one of theirs (besides their
        directory number), so that what comes from it later is theirs too. A number that
        belongs to another client, or a conversation that has a client, is refused."""
        require(staff, Action.LINK)
        client = self.client(client_pk)
        with self.write() as conn:
            row = conn.execute(select(conv_t.c.phone, conv_t.c.client_id).where(conv_t.c.id == conversation_id)).first()
            if row is None:
                raise NotFound(f"conversation #{conversation_id} does not exist")
            number = format_number(row.phone)
            if row.client_id == client_pk:
                raise ValidationError(f"{number} is already {client.name}'s; nothing was changed")
            if row.client_id is not None:
                raise ValidationError(
                    f"{number} belongs to {self.client(row.client_id).name}; only an unknown sender's number can be linked"
                )
            owner = self.client_by_phone(conn, row.phone)
            if owner is not None and owner != client_pk:
                raise ValidationError(
                    f"{number} belongs to {self.client(owner).name} in the client directory; "
                    "change it there (msgterm clients import) before linking it to anyone else"
                )
            conn.execute(update(conv_t).where(conv_t.c.id == conversation_id).values(client_id=client_pk))
            if row.phone != client.mobile_phone:
                conn.execute(insert(number_t).values(phone=row.phone, client_id=client_pk))
                self._refresh_search_text(conn, client_pk)
            self._apply(
                conn,
                conversation_id,
                folders.automated_outbound_message,
                event="link_client",
                staff=staff,
                detail=client.client_id,
            )
        return self.conversation(conversation_id)

    def conversation_for_phone(self, phone: str) -> ConversationRecord | None:
        """The conversation with this number (E.164), if there is one (the first, as with a client's)."""
        with self.read() as conn:
            row = conn.execute(self._conversation_query().where(conv_t.c.phone == phone).order_by(conv_t.c.id).limit(1)).first()
        return conversation_record(row) if row else None

    def _link_conversations(self, conn: Connection, client_pk: int, phone: str | None) -> None:
        if not phone:
            return
        ids = conn.scalars(select(conv_t.c.id).where(conv_t.c.phone == phone, conv_t.c.client_id.is_(None))).all()
        if ids:
            conn.execute(update(conv_t).where(conv_t.c.id.in_(ids)).values(client_id=client_pk))
            for cid in ids:
                conn.execute(
                    insert(event_t).values(
                        conversation_id=cid, kind="link_client", staff_id=None, at=self.clock(), detail="client import"
                    )
                )
            self._touch(conn, ids)

    def _bump_activity(self, conn: Connection, conversation_id: int, at: datetime, body: str, direction: str) -> None:
        """Make this message the conversation's latest, unless a later one is already there."""
        conn.execute(
            update(conv_t)
            .where(conv_t.c.id == conversation_id, conv_t.c.last_activity_at <= at)
            .values(last_activity_at=at, last_preview=preview_of(body), last_direction=direction)
        )

    def insert_outbound(
        self,
        conn: Connection,
        staff: StaffMember,
        conversation_id: int,
        phone: str,
        body: str,
        *,
        status: str,
        at: datetime,
        send_at: datetime | None = None,
    ) -> int:
        """Store a message from msgterm before Twilio has it (no SID yet), searchable at once."""
        indexed_up_to = self.last_message_id(conn)
        mid = inserted_id(
            conn.execute(
                insert(msg_t).values(
                    sid=None,
                    conversation_id=conversation_id,
                    direction=Direction.OUTBOUND,
                    body=body,
                    status=status,
                    from_number=self.business_number,
                    to_number=phone,
                    created_at=at,
                    send_at=send_at,
                    num_segments=segment_info(body).segments,
                    num_media=0,
                    staff_id=staff.id,
                    automated=False,
                )
            )
        )
        self.index_messages(conn, indexed_up_to)
        return mid

    def newest_message_id(self, conversation_id: int) -> int:
        with self.read() as conn:
            return scalar_int(
                conn, select(func.coalesce(func.max(msg_t.c.id), 0)).where(msg_t.c.conversation_id == conversation_id)
            )

    def inbound_after(self, conversation_id: int, message_id: int) -> int:
        """How many client messages came into the conversation after ``message_id``."""
        with self.read() as conn:
            return scalar_int(
                conn,
                select(func.count())
                .select_from(msg_t)
                .where(
                    msg_t.c.conversation_id == conversation_id, msg_t.c.direction == Direction.INBOUND, msg_t.c.id > message_id
                ),
            )

    def last_message_id(self, conn: Connection) -> int:
        return scalar_int(conn, select(func.coalesce(func.max(msg_t.c.id), 0)))

    def index_messages(self, conn: Connection, after_id: int, up_to: int | None = None) -> None:
        """Add the messages with ids after ``after_id`` (up to ``up_to``) to the search index (SQLite's FTS5).

        Every insert of messages goes through here (PostgreSQL's index keeps itself).
        """
        if self.dialect != "sqlite":
            return
        if up_to is None:
            conn.exec_driver_sql("INSERT INTO message_fts(rowid, body) SELECT id, body FROM message WHERE id > ?", (after_id,))
        else:
            conn.exec_driver_sql(
                "INSERT INTO message_fts(rowid, body) SELECT id, body FROM message WHERE id > ? AND id <= ?", (after_id, up_to)
            )

    # ---- changes seen by other terminals ------------------------------------------------

    def change_seq(self) -> int:
        with self.read() as conn:
            return scalar_int(conn, select(func.coalesce(func.max(change_t.c.seq), 0)))

    def changes_since(self, seq: int) -> tuple[int, frozenset[int]]:
        """The newest change number and the conversations changed after ``seq``."""
        with self.read() as conn:
            rows = conn.execute(select(change_t.c.seq, change_t.c.conversation_id).where(change_t.c.seq > seq)).all()
        if not rows:
            return seq, frozenset()
        return max(r.seq for r in rows), frozenset(r.conversation_id for r in rows)

    def history(
        self,
        client_pk: int | None = None,
        *,
        conversation_id: int | None = None,
        newest_first: bool = False,
        chunk: int = 2000,
    ) -> Iterator[HistoryEntry]:
        """Every message and event of one client, one conversation (an unknown sender's) or
        everyone, oldest first.

        Two time-ordered streams read in keyset chunks and merged, so neither an export of
        a large store nor a long contact history is ever held in memory whole.
        """
        conv_filter = [conv_t.c.client_id == client_pk] if client_pk is not None else []
        if conversation_id is not None:
            conv_filter.append(conv_t.c.id == conversation_id)
        people = conv_t.outerjoin(client_t, client_t.c.id == conv_t.c.client_id)
        message_query = (
            select(*MESSAGE_COLUMNS, client_t.c.client_id.label("client_ref"), conv_t.c.phone)
            .select_from(
                msg_t.join(people, conv_t.c.id == msg_t.c.conversation_id).outerjoin(staff_t, staff_t.c.id == msg_t.c.staff_id)
            )
            .where(*conv_filter)
        )
        event_query = (
            select(
                *EVENT_COLUMNS,
                client_t.c.client_id.label("client_ref"),
                conv_t.c.phone,
            )
            .select_from(
                event_t.join(people, conv_t.c.id == event_t.c.conversation_id).outerjoin(
                    staff_t, staff_t.c.id == event_t.c.staff_id
                )
            )
            .where(*conv_filter)
        )

        def messages() -> Iterator[HistoryEntry]:
            for rows in self._chunks(message_query, msg_t.c.created_at, msg_t.c.id, chunk, newest_first):
                with self.read() as conn:
                    records = message_records(conn, rows)
                for row, record in zip(rows, records, strict=True):
                    yield HistoryEntry(record.created_at, 0, record.id, row.client_ref, row.phone, message=record)

        def events() -> Iterator[HistoryEntry]:
            for rows in self._chunks(event_query, event_t.c.at, event_t.c.id, chunk, newest_first):
                for row in rows:
                    record = event_record(row)
                    yield HistoryEntry(record.at, 1, record.id, row.client_ref, row.phone, event=record)

        yield from heapq.merge(messages(), events(), key=lambda entry: entry.sort_key, reverse=newest_first)

    def _chunks(self, query, time_column, id_column, size: int, newest_first: bool = False) -> Iterator[list]:
        """The rows of ``query`` in keyset pages of ``size``, oldest first (or newest)."""
        key = None
        while True:
            page = query
            if key is not None:
                if newest_first:
                    page = page.where(or_(time_column < key[0], and_(time_column == key[0], id_column < key[1])))
                else:
                    page = page.where(or_(time_column > key[0], and_(time_column == key[0], id_column > key[1])))
            order = (time_column.desc(), id_column.desc()) if newest_first else (time_column, id_column)
            with self.read() as conn:
                rows = list(conn.execute(page.order_by(*order).limit(size)))
            yield rows
            if len(rows) < size:
                return
            last = rows[-1]
            key = (last._mapping[time_column.name], last._mapping[id_column.name])
