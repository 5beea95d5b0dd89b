"""What ``msgterm sync`` shows while it reads history: a progress display on a terminal, one
line now and then in a log."""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import TYPE_CHECKING

from msgterm.sync.cycle import HistoryProgress
from msgterm.timefmt import local

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

#: At most one progress line per this many seconds when stderr is not a terminal.
LOG_EVERY = 5.0


def history_words(progress: HistoryProgress) -> str:
    """'history: back to 12 Oct, 41 of 90 days · 23,000 messages'."""
    back_to = local(progress.reached).strftime("%-d %b") if progress.reached else "today"
    return f"history: back to {back_to}, {progress.days_covered} of {progress.days_total} days · {progress.messages:,} messages"


class HistoryDisplay:
    """Rich's progress bar on a terminal (days of history covered of ``history_days``,
    messages stored, rate); plain log lines, at most every ``LOG_EVERY`` seconds, elsewhere."""

    def __init__(self, log: logging.Logger, *, terminal: bool, stored_before: int = 0) -> None:
        self.log = log
        self.terminal = terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._began = time.monotonic()
        self._stored_before = stored_before  # by an earlier run that stopped midway
        self._logged_at = 0.0

    def __enter__(self) -> HistoryDisplay:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def rate(self, progress: HistoryProgress) -> float:
        elapsed = time.monotonic() - self._began
        return max(0, progress.messages - self._stored_before) / elapsed if elapsed > 0 else 0.0

    def update(self, progress: HistoryProgress) -> None:
        rate = self.rate(progress)
        if self.terminal:
            self._show(progress, rate)
            if progress.complete and self._progress is not None:
                self._progress.stop()  # the bar stays, finished, above the log lines that follow
                self._progress = None
        elif progress.complete or time.monotonic() - self._logged_at >= LOG_EVERY:
            self._logged_at = time.monotonic()
            state = "history complete" if progress.complete else history_words(progress)
            self.log.info("%s (%s messages a second)", state.replace(" · ", ", "), f"{rate:,.0f}")

    def _show(self, progress: HistoryProgress, rate: float) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        if self._progress is None:
            self._progress = Progress(
                TextColumn("history"),
                BarColumn(),
                TextColumn("{task.completed:.0f} of {task.total:.0f} days"),
                TextColumn("· {task.fields[messages]:,} messages · {task.fields[rate]:,.0f}/s"),
                TimeElapsedColumn(),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("history", total=progress.days_total, messages=0, rate=0.0)
        assert self._task is not None
        self._progress.update(
            self._task, total=progress.days_total, completed=progress.days_covered, messages=progress.messages, rate=rate
        )
