"""The baseline: a trivial Textual app, started, probed and driven as msgterm is.

It paints one line and counts presses of ``j``, so that start-up and a keypress can be
compared with msgterm's in the same run.
"""

from __future__ import annotations

import os
import time

from textual.app import App
from textual.binding import Binding
from textual.widgets import Static


class Counter(Static, can_focus=True):
    BINDINGS = [Binding("j", "bump"), Binding("q", "app.quit")]
    presses = 0

    def action_bump(self) -> None:
        self.presses += 1
        self.update(f"j pressed {self.presses} times")


class EmptyApp(App):
    def compose(self):
        yield Counter("empty")

    def on_mount(self) -> None:
        self.query_one(Counter).focus()
        self.call_after_refresh(self.painted)

    def painted(self) -> None:
        with open(os.environ["MSGTERM_PAINT_PROBE"], "a", encoding="utf-8") as probe:
            probe.write(f"first-paint {time.monotonic()!r}\n")


if __name__ == "__main__":
    EmptyApp().run()
