"""The status line: sync state, the staff member, DEMO on the demo store."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from msgterm.domain.sanitize import clean_line


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def set_state(self, *, sync: str, staff: str, demo: bool, problem: bool = False) -> None:
        text = Text()
        if demo:
            text.append(" DEMO ", style="bold reverse")
            text.append("  ")
        text.append(clean_line(sync), style="bold red" if problem else "")
        text.append("   │   ")
        text.append(clean_line(staff))
        self.update(text)
