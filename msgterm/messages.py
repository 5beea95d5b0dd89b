"""App-wide events, posted from workers to the UI thread."""

from __future__ import annotations

from textual.message import Message

from msgterm.sync.cycle import HistoryProgress
from msgterm.sync.poller import LoopOutcome


class SyncStepped(Message):
    """The poller finished one step (synced, standing by, paused or backing off)."""

    def __init__(self, outcome: LoopOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class StoreChanged(Message):
    """Conversations changed in the store (by this terminal, another one, or the poller)."""

    def __init__(self, conversation_ids: frozenset[int]) -> None:
        super().__init__()
        self.conversation_ids = conversation_ids


class HistoryProgressed(Message):
    """A first sync stored another batch of history (from the poller's thread)."""

    def __init__(self, progress: HistoryProgress) -> None:
        super().__init__()
        self.progress = progress


class AlertsArrived(Message):
    """Alerts for this terminal's staff member, read on a worker thread. Posted, never
    called across threads: a thread waiting on the UI thread while the app quits (and
    waits for its workers) would hold quitting up for ever."""

    def __init__(self, alerts: list) -> None:
        super().__init__()
        self.alerts = alerts
