"""The status line: how fresh the screen is (or how far history has been read, or what is
wrong with sync), the staff member, and DEMO on the demo store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from msgterm.domain.sanitize import clean_line
from msgterm.sync.cycle import HistoryProgress
from msgterm.sync.poller import LoopOutcome, LoopState
from msgterm.sync_progress import history_words


def span(seconds: float) -> str:
    """'4 s', '3 min', '2 h'."""
    if seconds < 60:
        return f"{max(0, int(seconds))} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"


#: Loop states the status line shows in the theme's warning colour, in the loop's own words,
#: with how long sync has been failing, until a cycle succeeds.
PROBLEMS = frozenset({LoopState.PAUSED, LoopState.BACKOFF, LoopState.LEASE_LOST, LoopState.WAITING, LoopState.STOPPED})


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; padding: 0 1; }
    StatusLine.failing { color: $warning; text-style: bold; }
    """

    def __init__(self, *, clock: Callable[[], datetime], staff: str, demo: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.staff = staff
        self.demo = demo
        self._message = "starting…"
        self._problem = False
        self._synced_at: datetime | None = None
        #: Since when sync has failed (here, or in the process that polls), until it succeeds.
        self._failing_since: datetime | None = None
        self._history: HistoryProgress | None = None
        self._selected = 0

    def on_mount(self) -> None:
        self._redraw()
        self.set_interval(1.0, self._redraw)  # "synced 4 s ago" keeps counting

    def show_outcome(self, outcome: LoopOutcome) -> None:
        """A poll step ended: synced (the screen is fresh as of now), or why not."""
        self._problem = outcome.state in PROBLEMS or (outcome.state is LoopState.STANDBY and bool(outcome.error))
        self._message = outcome.error if outcome.state is LoopState.STANDBY and outcome.error else outcome.message
        if outcome.state is LoopState.SYNCED:
            self._synced_at = self.clock()
            history = outcome.report.history if outcome.report else None
            self._history = history if history is not None and not history.complete else None
        elif outcome.state is LoopState.STANDBY and outcome.synced_at is not None:
            self._synced_at = outcome.synced_at  # the process that polls synced then
        if not self._problem:
            self._failing_since = None
        elif self._failing_since is None:
            self._failing_since = self.clock()
        self._redraw()

    def show_history(self, progress: HistoryProgress) -> None:
        """How far back a first sync has read, while it reads."""
        self._history = None if progress.complete else progress
        self._redraw()

    def show_selection(self, count: int) -> None:
        """How many conversations are selected for an action on many (none: nothing shown)."""
        self._selected = count
        self._redraw()

    def sync_words(self) -> str:
        if self._problem:
            since = self._failing_since or self.clock()
            lasted = (self.clock() - since).total_seconds()
            return f"sync failing for {span(lasted)}: {self._message}" if lasted >= 60 else f"sync failing: {self._message}"
        if self._history is not None:
            return history_words(self._history)
        if self._synced_at is not None:
            return f"synced {span((self.clock() - self._synced_at).total_seconds())} ago"
        return self._message

    def _redraw(self) -> None:
        text = Text()
        if self.demo:
            text.append(" DEMO ", style="bold reverse")
            text.append("  ")
        self.set_class(self._problem, "failing")
        text.append(clean_line(self.sync_words()))
        text.append("   │   ")
        text.append(clean_line(self.staff))
        if self._selected:
            text.append("   │   ")
            text.append(f"{self._selected} selected", style="bold reverse")
        self.update(text, layout=False)  # one line high whatever it says: no layout of the screen
