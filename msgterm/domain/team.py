"""Team rules that need no database: who an alert concerns, whom a note mentions, and the
initials a list row shows for an assignee."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

#: ``@username`` in a note: letters, digits and . _ - (the characters usernames are made of).
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9._-]*)")


class AlertsFor(StrEnum):
    """The ``alerts`` setting: which new messages raise a notification and the bell."""

    ALL = "all"
    MINE = "mine"
    MINE_AND_UNASSIGNED = "mine_and_unassigned"


@dataclass(frozen=True)
class AlertRecord:
    seq: int
    conversation_id: int
    #: ``inbound`` (a client wrote) or ``mention`` (a note names ``staff_id``).
    kind: str
    staff_id: int | None
    title: str
    preview: str
    #: Who the conversation is assigned to when the alert is read (None: nobody).
    assignee_id: int | None


def concerns(alert: AlertRecord, staff_id: int, setting: AlertsFor) -> bool:
    """Whether the alert is for the staff member at this terminal."""
    if alert.kind == "mention":
        return alert.staff_id == staff_id
    if alert.assignee_id is None:
        return setting is not AlertsFor.MINE
    return alert.assignee_id == staff_id or setting is AlertsFor.ALL


def mentioned(body: str) -> tuple[str, ...]:
    """The usernames a note mentions (lower-cased, each once, in order)."""
    return tuple(dict.fromkeys(name.rstrip(".-_").lower() for name in _MENTION.findall(body)))


def initials(full_name: str, username: str) -> str:
    """Two letters for a list row: first and last name, else the username's first two."""
    words = [w for w in re.split(r"\s+", full_name.strip()) if w]
    if len(words) >= 2:
        return (words[0][0] + words[-1][0]).upper()
    source = words[0] if words else username
    return source[:2].upper()
