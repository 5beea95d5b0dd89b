"""Roles, permissions and the checks that gate actions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from msgterm.domain.errors import PermissionDenied


class Perm(StrEnum):
    SEND = "send_messages"


PERMISSION_DESCRIPTIONS = {Perm.SEND: "Send Email/SMS to clients"}

#: The roles every store starts with, and what each may do.
BUILT_IN_ROLES: dict[str, frozenset[Perm]] = {
    "Manager": frozenset(Perm),
    "Front Desk": frozenset({Perm.SEND}),
    "Viewer": frozenset(),
}


class Action(StrEnum):
    """Actions gated by the Send Email/SMS to clients permission."""

    SEND = "send messages"
    START = "start conversations"
    MUTE = "mute conversations"
    UNMUTE = "unmute conversations"
    MARK_UNREAD = "mark conversations as unread"
    ARCHIVE = "archive conversations"
    RETRY = "retry failed messages"
    LINK = "link a number to a client"
    ASSIGN = "assign conversations"
    NOTE = "write internal notes"
    SCHEDULE = "schedule messages"
    SNOOZE = "snooze conversations"
    PIN = "pin conversations"
    TEMPLATES = "change templates"


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    full_name: str
    role: str
    permissions: frozenset[str]

    def can(self, permission: Perm) -> bool:
        return permission.value in self.permissions

    @property
    def can_send(self) -> bool:
        return self.can(Perm.SEND)


def require(staff: StaffMember, action: Action) -> None:
    """Raise PermissionDenied, with what to do about it, unless ``staff`` may do ``action``."""
    if not staff.can(Perm.SEND):
        raise PermissionDenied(
            f"{staff.username} ({staff.role}) cannot {action.value}: that needs the "
            f"'{PERMISSION_DESCRIPTIONS[Perm.SEND]}' permission. Ask a manager to run "
            f"'msgterm staff add {staff.username} --role \"Front Desk\"'."
        )
