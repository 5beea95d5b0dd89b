"""Plain, frozen values that the store hands out. No ORM row ever leaves the store."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from msgterm.domain.folders import Folder
from msgterm.domain.phones import format_number
from msgterm.domain.provider_message import Direction


def field_names(record_type) -> tuple[str, ...]:
    """The fields of a record type: the labels its query's columns carry."""
    return tuple(f.name for f in fields(record_type))


@dataclass(frozen=True)
class ClientRecord:
    id: int
    client_id: str
    uid: str | None
    first_name: str
    last_name: str
    mobile_phone: str | None
    email: str | None
    client_type: str | None
    home_location: str | None
    opted_out: bool
    groups: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.client_id


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    phone: str
    client_id: int | None
    client_name: str | None
    folder: Folder
    unread_count: int
    muted: bool
    last_activity_at: datetime
    last_preview: str
    last_direction: str
    opted_out: bool = False
    #: Who it is assigned to: staff id, username and name (None: nobody).
    assignee_id: int | None = None
    assignee_username: str | None = None
    assignee_name: str | None = None
    #: Pinned: heads every folder view it belongs to. Snoozed: back in Unread at this time.
    pinned: bool = False
    snoozed_until: datetime | None = None
    #: A text from msgterm to it failed in the last week and has not gone out since (list rows).
    send_failed: bool = False
    #: Set on a search hit: the matching message, whose body and time are the preview.
    hit_message_id: int | None = None

    @property
    def title(self) -> str:
        return self.client_name or format_number(self.phone)

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.last_activity_at, self.id)


@dataclass(frozen=True)
class MediaRecord:
    """One file of an MMS: its type, its size once known (bytes), and why it could not be
    read, if it could not."""

    sid: str
    message_id: int
    position: int
    content_type: str
    size: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file of a conversation, with what opening it needs: its MMS's SID and time."""

    file: MediaRecord
    message_sid: str
    sent_at: datetime
    inbound: bool


@dataclass(frozen=True)
class MessageRecord:
    id: int
    sid: str | None
    conversation_id: int
    direction: str
    body: str
    status: str
    error_code: int | None
    error_message: str | None
    created_at: datetime
    sent_at: datetime | None
    num_segments: int
    num_media: int
    staff_username: str | None
    automated: bool
    to_number: str = ""
    #: The staff member's full name (the username, when none is set), for notes.
    staff_name: str | None = None
    #: A scheduled message's time (status ``scheduled``), UTC.
    send_at: datetime | None = None
    #: When the poller listed this MMS's files (``media``); None while it has not.
    media_listed_at: datetime | None = None
    media: tuple[MediaRecord, ...] = ()

    @property
    def inbound(self) -> bool:
        return self.direction == Direction.INBOUND

    @property
    def note(self) -> bool:
        """An internal note (team.py): staff wrote it for each other; the client never sees it."""
        return self.direction == "note"


@dataclass(frozen=True)
class EventRecord:
    id: int
    conversation_id: int
    kind: str
    staff_username: str | None
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class Filters:
    """What the sidebar and the search box narrow the conversation list to."""

    since: datetime | None = None
    until: datetime | None = None
    client_types: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    muted_only: bool = False
    #: Assigned to one of these usernames, or (``unassigned``) to nobody; both: either.
    assignees: tuple[str, ...] = ()
    unassigned: bool = False
    #: Only conversations in the Outbox for this reason: "failed" (failed, undelivered) or
    #: "pending" (on its way, or scheduled).
    outbox: str | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.outbox
            or self.since
            or self.until
            or self.client_types
            or self.groups
            or self.locations
            or self.muted_only
            or self.assignees
            or self.unassigned
        )


@dataclass(frozen=True)
class FilterValues:
    """The values present in the store, offered by the filter sidebar."""

    client_types: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestResult:
    """What one batch from the provider changed."""

    new_messages: int = 0
    updated_messages: int = 0
    changed_conversations: frozenset[int] = frozenset()
    alerts: tuple[tuple[int, str, str], ...] = ()  # (conversation id, title, preview)
    skipped: tuple[str, ...] = ()  # SIDs of records the store could not keep


@dataclass(frozen=True)
class HistoryEntry:
    """One line of a contact history: a message or an event."""

    at: datetime
    order: int  # messages before events at the same instant
    row_id: int
    client_ref: str | None  # the client's client_id, None for an unknown sender
    phone: str
    message: MessageRecord | None = None
    event: EventRecord | None = None

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        return (self.at, self.order, self.row_id)
