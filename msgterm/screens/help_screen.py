"""Help: every key, and what the search box takes, made from the keymap (keymap.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from msgterm.screens.keymap import help_rows


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 96; max-width: 100%; height: 32; max-height: 100%; border: thick $primary; background: $panel; padding: 0 1; }
    """
    BINDINGS = [("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("msgterm keys\n", style="bold")
        for section, keys in help_rows():
            text.append(f"\n{section}\n", style="bold underline")
            for key, what in keys:
                text.append(f"  {key:<22}", style="bold")
                text.append(what + "\n")
        text.append("\nGreyed keys need the Send Email/SMS to clients permission.\n", style="dim")
        with VerticalScroll():
            yield Static(text)
