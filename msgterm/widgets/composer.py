"""The composer: a one-line message box with a live characters / segments counter."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from msgterm.domain.segments import MAX_BODY_CHARS, segment_info


class Composer(Horizontal):
    """Type a reply; enter sends it. Read-only (with the reason) when sending is not allowed."""

    DEFAULT_CSS = """
    Composer { height: 3; }
    Composer > Input { width: 1fr; }
    Composer > #counter { width: 18; padding: 1 1; color: $text-muted; }
    Composer > #counter.over { color: $error; text-style: bold; }
    """

    class SendRequested(Message):
        def __init__(self, body: str) -> None:
            super().__init__()
            self.body = body

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Type a reply and press enter", id="reply", max_length=0)
        yield Label(str(segment_info("")), id="counter")

    def set_read_only(self, reason: str | None) -> None:
        box = self.query_one(Input)
        box.disabled = reason is not None
        box.placeholder = reason or "Type a reply and press enter"

    def clear(self) -> None:
        self.query_one(Input).value = ""

    def on_input_changed(self, event: Input.Changed) -> None:
        info = segment_info(event.value)
        counter = self.query_one("#counter", Label)
        counter.update(f"{info.chars} / {info.segments} ({info.encoding})")
        counter.set_class(info.chars > MAX_BODY_CHARS, "over")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.SendRequested(event.value))
