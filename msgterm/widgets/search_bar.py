"""The search box above the conversation list: words and filters, searched as you type."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from msgterm.domain.search_query import SYNTAX_HELP


class SearchBar(Input):
    """Posts Input.Changed as you type; enter goes to the results; escape ends the search."""

    DEFAULT_CSS = """
    SearchBar { display: none; border: tall $accent; }
    SearchBar.-active { display: block; }
    """
    BINDINGS = [Binding("escape", "cancel", "End search"), Binding("down", "to_results", "Results", show=False)]

    class Cancelled(Message):
        """The user left the search: the list shows the folder again."""

    class ToResults(Message):
        """The user wants to walk the results with the keyboard."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="Search: " + SYNTAX_HELP, id=id)

    def open(self) -> None:
        self.add_class("-active")
        self.focus()

    def action_cancel(self) -> None:
        self.value = ""
        self.remove_class("-active")
        self.post_message(self.Cancelled())

    def action_to_results(self) -> None:
        self.post_message(self.ToResults())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.ToResults())
