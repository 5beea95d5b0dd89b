"""Help: every key, and what the search box takes. tests/test_keys.py checks that these keys,
the README's and the bindings agree."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

SEARCH_SYNTAX = "In the search box"
KEYS = (
    (
        "Moving",
        (
            ("j / k, ↓ / ↑", "move in the list"),
            ("g / G", "top / bottom"),
            ("enter", "open the conversation"),
            ("escape", "back to the list"),
            ("tab", "next pane"),
            ("] / [", "next / previous unread conversation"),
        ),
    ),
    (
        "Folders",
        (
            ("1", "Unread"),
            ("2", "Replied"),
            ("3", "Archived"),
            ("4", "All"),
            ("f", "filters (date, type, group, location, muted)"),
        ),
    ),
    (
        "Conversation",
        (
            ("r", "reply (enter sends)"),
            ("n", "new conversation"),
            ("m", "mute / unmute"),
            ("u", "mark as unread"),
            ("a", "archive"),
            ("o", "options menu"),
            ("c", "contact history"),
            ("R", "retry the last failed message"),
        ),
    ),
    (
        "Search",
        (
            ("/", "search as you type, within the folder and filters"),
            ("enter / ↓", "from the box to the results"),
            ("enter", "open a hit at the matching message"),
            ("escape", "end the search"),
        ),
    ),
    (
        SEARCH_SYNTAX,
        (
            ("words", "every word in a message (the last may be unfinished)"),
            ("0142, ada@, C-17", "any part of a client's name, number, email, UID or client ID"),
            ("is:unread", "also is:replied, is:archived, is:muted"),
            ("type:member", "client type"),
            ('group:"yoga regulars"', "client group (quotes for spaces)"),
            ("location:downtown", "home location"),
            ("after:2026-10-01", "on or after a day; before:2026-11-01 before a day"),
        ),
    ),
    ("App", (("?", "this help"), ("ctrl+p", "command palette"), ("q", "quit"))),
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 84; height: 32; border: thick $primary; background: $panel; padding: 0 1; }
    """
    BINDINGS = [("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("msgterm keys\n", style="bold")
        for section, keys in KEYS:
            text.append(f"\n{section}\n", style="bold underline")
            for key, what in keys:
                text.append(f"  {key:<22}", style="bold")
                text.append(what + "\n")
        text.append("\nGreyed keys need the Send Email/SMS to clients permission.\n", style="dim")
        with VerticalScroll():
            yield Static(text)
