"""New conversation: the To: field finds a client by name, phone, email, UID or client ID."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from msgterm.domain.phones import format_number
from msgterm.domain.sanitize import clean_line
from msgterm.widgets.literal import literal


class NewConversation(ModalScreen[int | None]):
    """Type in To:, move with up/down, enter picks; dismisses with the client's id."""

    DEFAULT_CSS = """
    NewConversation { align: center middle; }
    NewConversation > Vertical { width: 80; height: 20; border: thick $primary; background: $panel; padding: 0 1; }
    NewConversation OptionList { height: 1fr; }
    """
    BINDINGS = [
        ("escape", "dismiss(None)", "Cancel"),
        ("down", "move(1)", "Next"),
        ("up", "move(-1)", "Previous"),
    ]

    def __init__(self, store) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New conversation — To: name, phone, email, UID or client ID")
            yield Input(placeholder="To:", id="to")
            yield OptionList(id="matches")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(thread=True, exclusive=True, group="find-clients", exit_on_error=False)
    def search(self, text: str) -> None:
        found = self.store.find_clients(text, limit=20)
        self.app.call_from_thread(self.show_matches, found)

    def show_matches(self, clients) -> None:
        matches = self.query_one("#matches", OptionList)
        matches.clear_options()
        for client in clients:
            number = format_number(client.mobile_phone) if client.mobile_phone else "no mobile"
            details = " · ".join(x for x in (number, client.email or "", client.client_id, client.uid or "") if x)
            label = literal(f"{clean_line(client.name)}  —  {clean_line(details)}")
            matches.add_option(Option(label, id=str(client.id), disabled=not client.mobile_phone))
        if clients:
            matches.highlighted = 0

    def action_move(self, step: int) -> None:
        matches = self.query_one("#matches", OptionList)
        if matches.option_count:
            matches.highlighted = max(0, min(matches.option_count - 1, (matches.highlighted or 0) + step))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        matches = self.query_one("#matches", OptionList)
        if matches.highlighted is not None:
            option = matches.get_option_at_index(matches.highlighted)
            if not option.disabled and option.id is not None:
                self.dismiss(int(option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.dismiss(int(event.option.id))
