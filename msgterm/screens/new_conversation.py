"""New conversation: the To: field finds a client by name, phone, email, UID or client ID."""

from __future__ import annotations

from textual import work
from textual.widgets.option_list import Option

from msgterm.domain.phones import format_number
from msgterm.domain.sanitize import clean_line
from msgterm.screens.type_ahead import TypeAheadPicker
from msgterm.widgets.literal import literal


class NewConversation(TypeAheadPicker[int | None]):
    """Type in To:, move with up/down, enter picks; dismisses with the client's id. The same
    picker links an unknown sender to a client (``heading``), where a client without a
    mobile number may be picked: they gain the sender's."""

    def __init__(self, store, heading: str = "", *, need_mobile: bool = True) -> None:
        super().__init__(heading or "New conversation — To: name, phone, email, UID or client ID", "To:")
        self.store = store
        self.need_mobile = need_mobile

    def typed(self, text: str) -> None:
        self.search(text)

    @work(thread=True, exclusive=True, group="find-clients", exit_on_error=False)
    def search(self, text: str) -> None:
        found = self.store.find_clients(text, limit=20)
        self.app.call_from_thread(self.show_matches, found)

    def show_matches(self, clients) -> None:
        options = []
        for client in clients:
            number = format_number(client.mobile_phone) if client.mobile_phone else "no mobile"
            details = " · ".join(x for x in (number, client.email or "", client.client_id, client.uid or "") if x)
            label = literal(f"{clean_line(client.name)}  —  {clean_line(details)}")
            options.append(Option(label, id=str(client.id), disabled=self.need_mobile and not client.mobile_phone))
        self.show_options(options)

    def pick(self, option_id: str) -> None:
        self.dismiss(int(option_id))
