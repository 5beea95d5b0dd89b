"""The composer: whom the reply goes to, its text (several lines), and a live characters /
segments counter. It writes to one conversation at a time; a send names that conversation."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, TextArea

from msgterm.domain.phones import format_number
from msgterm.domain.sanitize import clean_line
from msgterm.domain.segments import MAX_BODY_CHARS, segment_info
from msgterm.domain.templates import unfilled
from msgterm.store.records import ConversationRecord
from msgterm.widgets.literal import literal

PLACEHOLDER = "Reply: enter sends, ctrl+j new line, ctrl+e editor"


class DraftBox(TextArea):
    """The reply's text: ``enter`` sends, ``ctrl+j`` (or ``shift+enter`` where the terminal
    tells it apart) starts a new line, ``ctrl+e`` opens ``$EDITOR``."""

    BINDINGS = [
        # enter is taken in _on_key (TextArea would insert a line first); bound here for the footer.
        Binding("enter", "submit", "Send"),
        Binding("ctrl+j,shift+enter", "new_line", "New line"),
        Binding("ctrl+e", "edit_externally", "Editor"),
        # The main screen's actions (keymap.py), here for the footer while the box has the focus.
        Binding("ctrl+t", "screen.insert_template", "Template"),
        Binding("ctrl+l", "screen.send_later", "Later"),
    ]

    class Submitted(Message):
        pass

    class EditRequested(Message):
        pass

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.action_submit()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        self.post_message(self.Submitted())

    def action_new_line(self) -> None:
        self.insert("\n")

    def action_edit_externally(self) -> None:
        self.post_message(self.EditRequested())


class Composer(Vertical):
    """Type a reply to the conversation on screen. Read-only (with the reason) when sending
    is not allowed, and while no conversation is shown."""

    DEFAULT_CSS = """
    Composer { height: auto; }
    Composer > Horizontal { height: auto; }
    Composer #recipient { width: 1fr; height: auto; padding: 0 1; color: $text-muted; }
    Composer #counter { width: auto; padding: 0 1; color: $text-muted; }
    Composer #counter.over { color: $error; text-style: bold; }
    Composer #unfilled { display: none; padding: 0 1; color: $warning; text-style: bold; }
    Composer #unfilled.shown { display: block; }
    Composer DraftBox { width: 1fr; min-width: 12; height: auto; min-height: 3; max-height: 8; }
    """

    class SendRequested(Message):
        """Send ``body`` to ``conversation_id``: the conversation the composer was writing to."""

        def __init__(self, conversation_id: int, body: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.body = body

    class DraftEdited(Message):
        """The text typed for ``conversation_id`` changed (to keep as its draft)."""

        def __init__(self, conversation_id: int, body: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.body = body

    class EditRequested(Message):
        def __init__(self, conversation_id: int, body: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.body = body

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        #: The conversation the text is written to; None while none is shown.
        self.conversation: ConversationRecord | None = None
        self._read_only_reason: str | None = None
        #: Set while the composer's own code changes the text (not the user's typing).
        self._loading = False

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("", id="recipient")
            yield Label(str(segment_info("")), id="counter")
        yield DraftBox("", id="reply", soft_wrap=True, tab_behavior="focus", show_line_numbers=False, placeholder=PLACEHOLDER)
        yield Label("", id="unfilled")

    @property
    def box(self) -> DraftBox:
        return self.query_one(DraftBox)

    @property
    def text(self) -> str:
        return self.box.text

    def set_read_only(self, reason: str | None) -> None:
        self._read_only_reason = reason
        self._show_state()

    def write_to(self, conversation: ConversationRecord | None, draft: str = "") -> None:
        """Write to ``conversation`` from now on, starting from its ``draft``."""
        self.conversation = conversation
        self.set_text(draft)
        recipient = self.query_one("#recipient", Label)
        if conversation is None:
            recipient.update("")
        else:
            number = format_number(conversation.phone)
            name = clean_line(conversation.title)
            recipient.update(literal(f"To: {name} · {number}" if name != number else f"To: {number}"))
        self._show_state()

    def set_text(self, text: str) -> None:
        self._loading = True
        try:
            self.box.load_text(text)
            self.box.move_cursor(self.box.document.end)
        finally:
            self._loading = False
        self._count(text)

    def clear(self) -> None:
        self.set_text("")

    def insert(self, text: str) -> None:
        """Put ``text`` (a template) in at the cursor, as if typed."""
        self.box.insert(text)
        self.box.focus()

    def _show_state(self) -> None:
        box = self.box
        box.disabled = self._read_only_reason is not None or self.conversation is None
        box.placeholder = self._read_only_reason or (PLACEHOLDER if self.conversation else "Open a conversation to reply")

    def _count(self, text: str) -> None:
        info = segment_info(text)
        counter = self.query_one("#counter", Label)
        counter.update(f"{info.chars} / {info.segments} ({info.encoding})")
        counter.set_class(info.chars > MAX_BODY_CHARS, "over")
        missing = unfilled(text)
        warning = self.query_one("#unfilled", Label)
        warning.set_class(bool(missing), "shown")
        if missing:
            fields = ", ".join("{" + field + "}" for field in missing)
            warning.update(f"⚠ No value for {fields}: write it in before sending")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._count(event.text_area.text)
        if not self._loading and self.conversation is not None:
            self.post_message(self.DraftEdited(self.conversation.id, event.text_area.text))

    def on_draft_box_submitted(self, event: DraftBox.Submitted) -> None:
        event.stop()
        if self.conversation is not None:
            self.post_message(self.SendRequested(self.conversation.id, self.text))

    def on_draft_box_edit_requested(self, event: DraftBox.EditRequested) -> None:
        event.stop()
        if self.conversation is not None:
            self.post_message(self.EditRequested(self.conversation.id, self.text))
