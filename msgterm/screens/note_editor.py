"""Add note…: an internal note for the team, written into the thread and never sent."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from msgterm.widgets.literal import literal


class NoteEditor(ModalScreen[str | None]):
    """enter keeps the note (dismisses with its text), escape drops it."""

    DEFAULT_CSS = """
    NoteEditor { align: center middle; }
    NoteEditor > Vertical { width: 80; height: auto; border: thick $warning; background: $panel; padding: 0 1; }
    NoteEditor Label { color: $text-muted; }
    """
    BINDINGS = [("escape", "dismiss(None)", "Cancel")]

    def __init__(self, whom: str) -> None:
        super().__init__()
        self.whom = whom

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(f"Note on {self.whom} — for the team only, never sent to the client"))
            yield Input(placeholder="@username alerts a colleague", id="note")
            yield Label("enter keeps the note · escape drops it")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value)
