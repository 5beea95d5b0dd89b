"""The shape every picker shares: a heading, a field to type in, and the options that match
what is typed. up/down move, enter or a click picks, escape cancels."""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from msgterm.widgets.literal import literal

PickedT = TypeVar("PickedT")


class TypeAheadPicker(ModalScreen[PickedT]):
    """Subclasses say what matches (``typed``, then ``show_options``) and what a pick means."""

    DEFAULT_CSS = """
    TypeAheadPicker { align: center middle; }
    TypeAheadPicker > Vertical { width: 80; height: 20; border: thick $primary; background: $panel; padding: 0 1; }
    TypeAheadPicker OptionList { height: 1fr; }
    """
    BINDINGS = [
        ("escape", "dismiss(None)", "Cancel"),
        ("down", "move(1)", "Next"),
        ("up", "move(-1)", "Previous"),
    ]

    def __init__(self, heading: str, placeholder: str) -> None:
        super().__init__()
        self.heading = heading
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(self.heading))
            yield Input(placeholder=self.placeholder, id="typed")
            yield OptionList(id="matches")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.typed(event.value)

    def typed(self, text: str) -> None:
        """Find what matches ``text`` and show it (at once, or from a worker)."""
        raise NotImplementedError

    def pick(self, option_id: str) -> None:
        """Dismiss with what the option ``option_id`` stands for."""
        raise NotImplementedError

    def show_options(self, options: list[Option]) -> None:
        matches = self.query_one("#matches", OptionList)
        matches.clear_options()
        matches.add_options(options)
        if options:
            matches.highlighted = 0

    def action_move(self, step: int) -> None:
        matches = self.query_one("#matches", OptionList)
        if matches.option_count:
            matches.highlighted = max(0, min(matches.option_count - 1, (matches.highlighted or 0) + step))

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        matches = self.query_one("#matches", OptionList)
        if matches.highlighted is not None:
            option = matches.get_option_at_index(matches.highlighted)
            if not option.disabled and option.id is not None:
                self.pick(option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.pick(event.option.id)
