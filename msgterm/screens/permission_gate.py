"""The one permission gate of the main screen, for keys, the palette and the options menu
alike: which actions need the Send Email/SMS to clients permission, and the words of a
refusal (PRODUCT.md §1)."""

from __future__ import annotations

from collections.abc import Callable

from msgterm.domain.permissions import StaffMember

#: Actions that need the permission, and what a refusal calls them.
GATED = {
    "toggle_mute": "mute conversations",
    "mark_unread": "mark conversations as unread",
    "archive": "archive conversations",
    "new_conversation": "start conversations",
    "retry": "retry failed messages",
    "reply": "send messages",
    "undo": "undo triage actions",
    "assign": "assign conversations",
    "add_note": "write internal notes",
    "snooze": "snooze conversations",
    "toggle_pin": "pin conversations",
    "cancel_scheduled": "cancel scheduled messages",
    "insert_template": "send messages",
    "send_later": "schedule messages",
    "link_client": "link a number to a client",
}


class PermissionGate:
    def __init__(self, staff: StaffMember, say: Callable[[str], None]) -> None:
        self.staff = staff
        self._say = say

    def greys(self, action: str) -> bool:
        """Whether ``action`` is shown greyed out for this staff member."""
        return action in GATED and not self.staff.can_send

    def refused(self, action: str) -> bool:
        """Whether ``action`` is refused to this staff member; if so, say why."""
        if not self.greys(action):
            return False
        self._say(
            f"{self.staff.username} ({self.staff.role}) cannot {GATED[action]}: "
            "that needs the Send Email/SMS to clients permission."
        )
        return True
