"""Asked before a send inside the quiet hours: send it when they end, now, or not at all."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from msgterm.widgets.literal import literal

LATER, NOW = "later", "now"


class QuietHoursQuestion(ModalScreen[str | None]):
    """Dismisses with LATER, NOW, or None (not sent; the text stays in the composer)."""

    DEFAULT_CSS = """
    QuietHoursQuestion { align: center middle; }
    QuietHoursQuestion > Vertical { width: 64; height: auto; border: thick $warning; background: $panel; padding: 0 1; }
    QuietHoursQuestion OptionList { height: auto; }
    """
    BINDINGS = [("escape", "dismiss(None)", "Cancel")]

    def __init__(self, whom: str, quiet: str, ends: str) -> None:
        super().__init__()
        self.whom, self.quiet, self.ends = whom, quiet, ends

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(f"It is within the quiet hours ({self.quiet}). Send to {self.whom}…"))
            yield OptionList(
                Option(f"At {self.ends}, when they end", id=LATER),
                Option("Now", id=NOW),
                Option("Not now (keep the text)", id="cancel"),
                id="choices",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id if event.option.id in (LATER, NOW) else None)
