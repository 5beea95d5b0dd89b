"""The folder table of PRODUCT.md §1, one function per row.

Each function takes the conversation's current state and returns the state after the
event. The store applies them inside the transaction that records the event, so the
rules live here once and are tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Folder(StrEnum):
    UNREAD = "unread"
    READ = "read"  # the inbox: opened, not answered, not archived
    REPLIED = "replied"
    ARCHIVED = "archived"
    SNOOZED = "snoozed"  # out of sight until a time, then back to Unread


class FolderView(StrEnum):
    """The folders a user can switch between; ALL shows every conversation."""

    UNREAD = "unread"
    REPLIED = "replied"
    ARCHIVED = "archived"
    SNOOZED = "snoozed"
    ALL = "all"
    #: Not a folder of its own: every conversation with a message from msgterm that has not
    #: been delivered (store/conversations.py says which).
    OUTBOX = "outbox"

    @property
    def title(self) -> str:  # type: ignore[override]  # a folder's name on screen, not str.title()
        return self.value.capitalize()

    @property
    def folder(self) -> Folder | None:
        return None if self in (FolderView.ALL, FolderView.OUTBOX) else Folder(self.value)


@dataclass(frozen=True)
class ConversationState:
    folder: Folder
    unread_count: int
    muted: bool


@dataclass(frozen=True)
class Outcome:
    """The state after an event, and whether the event should alert the staff."""

    state: ConversationState
    alert: bool = False


NEW_CONVERSATION = ConversationState(folder=Folder.READ, unread_count=0, muted=False)


def inbound_message(state: ConversationState) -> Outcome:
    """A client texted in: Unread, one more unread, alert unless muted (from any folder)."""
    # Built directly, not with replace(): a sync applies this once per message.
    return Outcome(ConversationState(Folder.UNREAD, state.unread_count + 1, state.muted), alert=not state.muted)


def history_message(state: ConversationState, inbound: bool) -> Outcome:
    """A message older than anything the conversation holds, read back from history.

    It goes under the thread without moving the conversation between folders: an older
    text from the client adds to the unread count only while the conversation is still
    Unread (nobody has opened, answered or archived it since), and history never alerts.
    """
    if inbound and state.folder is Folder.UNREAD:
        return Outcome(ConversationState(Folder.UNREAD, state.unread_count + 1, state.muted))
    return Outcome(state)


def staff_outbound_message(state: ConversationState) -> Outcome:
    """Staff sent from msgterm: Replied (from Archived too), unread cleared."""
    return Outcome(replace(state, folder=Folder.REPLIED, unread_count=0))


def automated_outbound_message(state: ConversationState) -> Outcome:
    """Another system sent it (a reminder, marketing): the folder does not change."""
    return Outcome(state)


def opened(state: ConversationState) -> Outcome:
    """Staff with the permission opened it: an Unread conversation becomes Read."""
    if state.folder is Folder.UNREAD:
        return Outcome(replace(state, folder=Folder.READ, unread_count=0))
    return Outcome(state)


def marked_unread(state: ConversationState, client_messages_since_last_outbound: int) -> Outcome:
    """Mark as Unread: Unread, counting the client's messages since the last outbound one."""
    return Outcome(replace(state, folder=Folder.UNREAD, unread_count=client_messages_since_last_outbound))


def archived(state: ConversationState) -> Outcome:
    return Outcome(replace(state, folder=Folder.ARCHIVED, unread_count=0))


def snoozed(state: ConversationState) -> Outcome:
    """Snooze: out of its folder until a time (the store keeps when); unread cleared."""
    return Outcome(replace(state, folder=Folder.SNOOZED, unread_count=0))


def snooze_ended(state: ConversationState, client_messages_since_last_outbound: int) -> Outcome:
    """The snooze's time came: back to Unread as if the client had written (alert unless muted)."""
    if state.folder is not Folder.SNOOZED:
        return Outcome(state)
    return Outcome(replace(state, folder=Folder.UNREAD, unread_count=client_messages_since_last_outbound), alert=not state.muted)


def muted(state: ConversationState, mute: bool) -> Outcome:
    """Mute or unmute: the folder does not change; only alerts do."""
    return Outcome(replace(state, muted=mute))


class Triage(StrEnum):
    """What a staff member does to conversations from the list, and can undo: the event
    each one records, by the same name."""

    READ = "read"
    MARK_UNREAD = "mark_unread"
    ARCHIVE = "archive"
    MUTE = "mute"
    UNMUTE = "unmute"
    SNOOZE = "snooze"


def undone(before: ConversationState, now: ConversationState, arrived: int) -> ConversationState:
    """Undo a triage action: back to ``before``, unless the client wrote since (``arrived``
    messages). Then the new messages stay in sight: the folder they put the conversation
    in, their unread count on top of the one it had, and only the mute is put back."""
    if not arrived:
        return before
    unread = now.unread_count if now.folder is Folder.UNREAD else 0
    if before.folder is Folder.UNREAD and now.folder is Folder.UNREAD:
        unread = max(unread, before.unread_count + arrived)
    return ConversationState(now.folder, unread, before.muted)
