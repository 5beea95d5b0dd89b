"""The options menu on a conversation: Mute/Unmute, Mark as Unread, Archive, Link to client…"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from msgterm.domain.folders import Folder
from msgterm.domain.sanitize import clean_line
from msgterm.store.records import ConversationRecord


class OptionsMenu(ModalScreen[str | None]):
    """Pick an action for one conversation; dismisses with "mute", "unread", "archive", "link" or None."""

    DEFAULT_CSS = """
    OptionsMenu { align: center middle; }
    OptionsMenu > Vertical { width: 44; height: auto; border: thick $primary; background: $panel; padding: 0 1; }
    OptionsMenu OptionList { height: auto; }
    """
    BINDINGS = [("escape", "dismiss(None)", "Close")]

    def __init__(self, conversation: ConversationRecord, *, can_act: bool) -> None:
        super().__init__()
        self.conversation = conversation
        self.can_act = can_act

    def compose(self) -> ComposeResult:
        c = self.conversation
        with Vertical():
            yield Label(clean_line(c.title), markup=False)
            yield OptionList(
                Option("Unmute  (m)" if c.muted else "Mute  (m)", id="mute", disabled=not self.can_act),
                Option("Mark as Unread  (u)", id="unread", disabled=not self.can_act),
                Option("Archive  (a)", id="archive", disabled=not self.can_act or c.folder is Folder.ARCHIVED),
                Option("Link to client…  (L)", id="link", disabled=not self.can_act or c.client_id is not None),
            )
            if not self.can_act:
                yield Label("These need the Send Email/SMS to clients permission.")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_key(self, event) -> None:
        if self.can_act and event.character in ("m", "u", "a", "L"):
            event.stop()
            self.dismiss({"m": "mute", "u": "unread", "a": "archive", "L": "link"}[event.character])
