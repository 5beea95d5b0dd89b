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
