"""Assign to…: type-ahead over the staff's names and usernames; "Nobody" unassigns."""

from __future__ import annotations

from textual.widgets.option_list import Option

from msgterm.domain.permissions import StaffMember
from msgterm.domain.sanitize import clean_line
from msgterm.screens.type_ahead import TypeAheadPicker
from msgterm.widgets.literal import literal

#: The option that unassigns.
NOBODY = "nobody"


class Picked:
    """The choice: a staff member, or None for nobody."""

    def __init__(self, staff: StaffMember | None) -> None:
        self.staff = staff


class StaffPicker(TypeAheadPicker[Picked | None]):
    """Dismisses with Picked (staff or nobody), or None when cancelled."""

    def __init__(self, whom: str, staff: list[StaffMember], current: int | None) -> None:
        super().__init__(f"Assign {whom} to…", "name or username")
        self.staff = staff
        self.current = current

    def on_mount(self) -> None:
        self.typed("")

    def typed(self, text: str) -> None:
        wanted = text.strip().lower()
        options = []
        for member in self.staff:
            if wanted in member.full_name.lower() or wanted in member.username.lower():
                here = "  (assigned now)" if member.id == self.current else ""
                label = f"{clean_line(member.full_name or member.username)}  @{clean_line(member.username)}{here}"
                options.append(Option(literal(label), id=str(member.id)))
        if wanted in NOBODY:
            options.append(Option("Nobody (unassign)", id=NOBODY))
        self.show_options(options)

    def pick(self, option_id: str) -> None:
        if option_id == NOBODY:
            self.dismiss(Picked(None))
        else:
            self.dismiss(Picked(next(m for m in self.staff if str(m.id) == option_id)))
