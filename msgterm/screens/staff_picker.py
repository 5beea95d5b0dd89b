"""Assign to…: type-ahead over the staff's names and usernames; "Nobody" unassigns."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from msgterm.domain.permissions import StaffMember
from msgterm.domain.sanitize import clean_line
from msgterm.widgets.literal import literal

#: The option that unassigns.
NOBODY = "nobody"


class Picked:
    """The choice: a staff member, or None for nobody."""

    def __init__(self, staff: StaffMember | None) -> None:
        self.staff = staff


class StaffPicker(ModalScreen[Picked | None]):
    """Dismisses with Picked (staff or nobody), or None when cancelled."""

    DEFAULT_CSS = """
    StaffPicker { align: center middle; }
    StaffPicker > Vertical { width: 60; height: 18; border: thick $primary; background: $panel; padding: 0 1; }
    StaffPicker OptionList { height: 1fr; }
    """
    BINDINGS = [
        ("escape", "dismiss(None)", "Cancel"),
        ("down", "move(1)", "Next"),
        ("up", "move(-1)", "Previous"),
    ]

    def __init__(self, whom: str, staff: list[StaffMember], current: int | None) -> None:
        super().__init__()
        self.whom = whom
        self.staff = staff
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(f"Assign {self.whom} to…"))
            yield Input(placeholder="name or username", id="who")
            yield OptionList(id="staff")

    def on_mount(self) -> None:
        self.show_matches("")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_matches(event.value)

    def show_matches(self, typed: str) -> None:
        wanted = typed.strip().lower()
        options = self.query_one("#staff", OptionList)
        options.clear_options()
        for member in self.staff:
            if wanted in member.full_name.lower() or wanted in member.username.lower():
                here = "  (assigned now)" if member.id == self.current else ""
                label = f"{clean_line(member.full_name or member.username)}  @{clean_line(member.username)}{here}"
                options.add_option(Option(literal(label), id=str(member.id)))
        if wanted in NOBODY or not wanted:
            options.add_option(Option("Nobody (unassign)", id=NOBODY))
        if options.option_count:
            options.highlighted = 0

    def action_move(self, step: int) -> None:
        options = self.query_one("#staff", OptionList)
        if options.option_count:
            options.highlighted = max(0, min(options.option_count - 1, (options.highlighted or 0) + step))

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        options = self.query_one("#staff", OptionList)
        if options.highlighted is not None:
            self._pick(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def _pick(self, option_id: str | None) -> None:
        if option_id == NOBODY:
            self.dismiss(Picked(None))
        elif option_id is not None:
            self.dismiss(Picked(next(m for m in self.staff if str(m.id) == option_id)))
