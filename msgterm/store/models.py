"""SQLModel tables of the store.

Times are stored as naive UTC datetimes (SQLite has no time zones and PostgreSQL's
``timestamp`` keeps whatever it is given); the store API converts at its edges. The two
indexed times that a sync changes in bulk, a message's and a conversation's last activity,
are integers on SQLite (``EpochMicroseconds``), the rest SQLite's text.
Columns that the conversation list needs on every paint (last activity, preview,
unread count, folder) live on the conversation row itself so that the list is one
indexed query, never an aggregate over messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from msgterm.store.types import EpochMicroseconds


class Location(SQLModel, table=True):
    """A home location of the business (a studio, a branch)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class ClientType(SQLModel, table=True):
    """A client type such as Member, Prospect or Former member."""

    __tablename__ = "client_type"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class ClientGroup(SQLModel, table=True):
    """A named group of clients; a client belongs to any number of groups."""

    __tablename__ = "client_group"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class ClientGroupMember(SQLModel, table=True):
    """Membership of one client in one group."""

    __tablename__ = "client_group_member"
    client_id: int = Field(foreign_key="client.id", primary_key=True, ondelete="CASCADE")
    group_id: int = Field(foreign_key="client_group.id", primary_key=True, index=True, ondelete="CASCADE")


class Client(SQLModel, table=True):
    """A person from the business's client directory."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(unique=True)
    uid: str | None = Field(default=None, unique=True)
    first_name: str = ""
    last_name: str = ""
    mobile_phone: str | None = Field(default=None, index=True)
    email: str | None = Field(default=None, index=True)
    client_type_id: int | None = Field(default=None, foreign_key="client_type.id", index=True)
    home_location_id: int | None = Field(default=None, foreign_key="location.id", index=True)
    opted_out: bool = False
    #: Lower-cased name, email, UID, client ID and number digits: what search matches on.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ClientNumber(SQLModel, table=True):
    """A number a client texts from besides their directory mobile number: an unknown
    sender's number linked to them ("Link to client…"). A number belongs to one client."""

    __tablename__ = "client_number"
    phone: str = Field(primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True, ondelete="CASCADE")


class Permission(SQLModel, table=True):
    """A permission that a role can grant, such as ``send_messages``."""

    name: str = Field(primary_key=True)
    description: str = ""


class Role(SQLModel, table=True):
    """A staff role (Manager, Front Desk, Viewer)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class RolePermission(SQLModel, table=True):
    """One permission granted by one role."""

    __tablename__ = "role_permission"
    role_id: int = Field(foreign_key="role.id", primary_key=True, ondelete="CASCADE")
    permission: str = Field(foreign_key="permission.name", primary_key=True)


class Staff(SQLModel, table=True):
    """A staff member who may sit at a terminal."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True)
    full_name: str = ""
    role_id: int = Field(foreign_key="role.id")


#: The condition of the pinned index, which a query must repeat word for word to use it.
PINNED = "pinned = true"


class Conversation(SQLModel, table=True):
    """The one conversation between the business number and one phone number."""

    __table_args__ = (
        UniqueConstraint("business_number", "phone"),
        Index("ix_conversation_activity", "last_activity_at", "id"),
        Index("ix_conversation_folder_activity", "folder", "last_activity_at", "id"),
        Index("ix_conversation_assignee_activity", "assignee_id", "last_activity_at", "id"),
        # Few are pinned; the list reads them first, on every paint, through this index.
        Index(
            "ix_conversation_pinned",
            "last_activity_at",
            sqlite_where=text(PINNED),
            postgresql_where=text(PINNED),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    business_number: str = ""
    phone: str
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    folder: str = "read"
    unread_count: int = 0
    muted: bool = False
    last_activity_at: datetime = Field(sa_type=EpochMicroseconds)
    last_preview: str = ""
    last_direction: str = ""
    created_at: datetime = Field(sa_type=DateTime)
    #: The staff member the conversation is assigned to (None: nobody, everyone's).
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    #: Pinned conversations head every folder view they belong to, for the whole front desk.
    pinned: bool = False
    #: While the folder is ``snoozed``: when it comes back to Unread.
    snoozed_until: datetime | None = Field(default=None, sa_type=DateTime)


#: Our messages whose status may still change (not in FINAL_STATUSES): few, and the poller
#: asks for them every cycle, so they get a partial index rather than a scan of every message.
#: Every insert tests this, so it is written with "<>": "NOT IN (...)" builds a lookup table
#: each time it runs, which made inserting a sync batch 20% slower.
UNFINISHED_OUTBOUND = (
    "direction = 'outbound' AND sid IS NOT NULL AND status <> 'delivered' AND status <> 'undelivered'"
    " AND status <> 'failed' AND status <> 'received' AND status <> 'read' AND status <> 'canceled'"
    " AND status <> 'partially_delivered'"
)


#: Sent from msgterm (by staff, or scheduled) and not delivered: what the Outbox lists.
OUTBOX = (
    "direction = 'outbound' AND staff_id IS NOT NULL AND status <> 'delivered' AND status <> 'read'"
    " AND status <> 'canceled' AND status <> 'received'"
)

#: An MMS whose files are not listed yet.
MEDIA_UNLISTED = "num_media > 0 AND media_listed_at IS NULL"


class Message(SQLModel, table=True):
    """One SMS, inbound or outbound, as the provider's log knows it; or an internal note
    (direction ``note``), written by staff into the thread and never sent."""

    __table_args__ = (
        Index("ix_message_conversation_time", "conversation_id", "created_at", "id"),
        Index(
            "ix_message_unfinished_outbound",
            "id",
            sqlite_where=text(UNFINISHED_OUTBOUND),
            postgresql_where=text(UNFINISHED_OUTBOUND),
        ),
        # Our own sends not delivered: few (what the Outbox lists), read on every paint of it.
        Index(
            "ix_message_outbox",
            "created_at",
            sqlite_where=text(OUTBOX),
            postgresql_where=text(OUTBOX),
        ),
        # MMS whose files the poller has not listed yet: few, read newest first every cycle.
        Index(
            "ix_message_media_unlisted",
            "id",
            sqlite_where=text(MEDIA_UNLISTED),
            postgresql_where=text(MEDIA_UNLISTED),
        ),
        Index(
            "ix_message_scheduled",
            "send_at",
            sqlite_where=text("status = 'scheduled'"),
            postgresql_where=text("status = 'scheduled'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    sid: str | None = Field(default=None, unique=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    direction: str
    body: str = Field(sa_column=Column(Text, nullable=False, default=""))
    status: str
    error_code: int | None = None
    error_message: str | None = None
    from_number: str = ""
    to_number: str = ""
    created_at: datetime = Field(sa_type=EpochMicroseconds)
    sent_at: datetime | None = Field(default=None, sa_type=DateTime)
    num_segments: int = 1
    num_media: int = 0
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    automated: bool = False
    #: A scheduled send (status ``scheduled``) goes out at this time, from the lease holder.
    send_at: datetime | None = Field(default=None, sa_type=DateTime)
    #: When the poller read this MMS's list of files (the media table); NULL while it has not.
    media_listed_at: datetime | None = Field(default=None, sa_type=DateTime)


class Media(SQLModel, table=True):
    """One file of an MMS, as Twilio's Media subresource lists it. ``size`` is the file's
    length in bytes (from its download's headers); ``error`` says why it could not be read."""

    __table_args__ = (Index("ix_media_message", "message_id", "position"),)
    sid: str = Field(primary_key=True)
    message_id: int = Field(foreign_key="message.id", ondelete="CASCADE")
    position: int = 0
    content_type: str
    size: int | None = None
    error: str | None = None


class ConversationEvent(SQLModel, table=True):
    """A state change of a conversation, for the contact history."""

    __tablename__ = "conversation_event"
    __table_args__ = (Index("ix_event_conversation_time", "conversation_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    kind: str
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(sa_type=DateTime)
    detail: str = ""


class SyncState(SQLModel, table=True):
    """Where the poller is in the provider's log, and who holds the polling lease."""

    __tablename__ = "sync_state"
    name: str = Field(primary_key=True)
    watermark: datetime | None = Field(default=None, sa_type=DateTime)
    last_sync_at: datetime | None = Field(default=None, sa_type=DateTime)
    last_error: str | None = None
    paused_reason: str | None = None
    lease_holder: str | None = None
    lease_expires_at: datetime | None = Field(default=None, sa_type=DateTime)
    lease_generation: int = 0
    #: History: how far back a new store reads (set by its first cycle), the oldest message
    #: time stored so far reading back from the newest, how many it stored, and whether the
    #: whole window is read. A first sync that stops midway goes on from ``history_reached``.
    history_since: datetime | None = Field(default=None, sa_type=DateTime)
    history_reached: datetime | None = Field(default=None, sa_type=DateTime)
    history_messages: int = 0
    history_complete: bool = False


class ChangeLog(SQLModel, table=True):
    """One row per committed change to a conversation; terminals poll it to stay live."""

    __tablename__ = "change_log"
    seq: int | None = Field(default=None, primary_key=True)
    conversation_id: int
    at: datetime = Field(sa_type=DateTime)


class Draft(SQLModel, table=True):
    """A reply not sent yet, one per staff member and conversation: it survives a restart
    and follows the staff member to another terminal."""

    __tablename__ = "draft"
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", primary_key=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_type=DateTime)


class Alert(SQLModel, table=True):
    """Something that may call for a person: a new message from a client (``inbound``, for
    whoever the conversation is assigned to, or everyone) or a mention in a note
    (``mention``, for ``staff_id``). Every terminal reads the alerts after the last it saw
    and raises those that concern its staff member."""

    seq: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    kind: str
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    title: str = ""
    preview: str = ""
    at: datetime = Field(sa_type=DateTime)


class Template(SQLModel, table=True):
    """A saved reply with merge fields (``{first_name}``), shared by every terminal."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    body: str = Field(sa_column=Column(Text, nullable=False))


class Presence(SQLModel, table=True):
    """Which conversation a terminal has open, and whether its composer has the focus: one
    row per terminal, renewed every few seconds; a row past ``expires_at`` is gone (the
    terminal quit or crashed)."""

    terminal: str = Field(primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    replying: bool = False
    expires_at: datetime = Field(sa_type=DateTime)
