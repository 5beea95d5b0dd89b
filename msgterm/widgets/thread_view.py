"""The thread pane: a conversation's messages grouped by day, newest at the bottom."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from msgterm.domain.media import describe_file
from msgterm.domain.phones import format_number
from msgterm.domain.provider_errors import can_retry, describe_error
from msgterm.domain.provider_message import Status
from msgterm.domain.sanitize import clean_line, clean_text
from msgterm.store.records import ConversationRecord, MessageRecord
from msgterm.timefmt import local

#: Notes look unlike any message: their own colour (magenta stays apart from the cyan of the
#: client and the green of staff in every built-in theme).
NOTE_COLOUR = "magenta"

STATUS_WORDS = {
    "sending": "sending…",
    "unconfirmed": "not confirmed yet",
    "queued": "queued",
    "accepted": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "canceled": "canceled: not sent",
}


@dataclass(frozen=True)
class Hit:
    """A search hit to show: the message to scroll to, and the words to highlight in it."""

    message_id: int
    tokens: tuple[str, ...]


def render_thread(
    conversation: ConversationRecord, messages: list[MessageRecord], hit: Hit | None = None, *, more_before: bool = False
) -> tuple[Text, int | None]:
    """The thread as literal text (never parsed as markup), and where the hit starts in it."""
    text = Text()
    hit_at = None
    title = clean_line(conversation.title)
    text.append(title, style="bold")
    if conversation.client_name:
        text.append(f"  {format_number(conversation.phone)}", style="dim")
    if conversation.opted_out:
        text.append("  opted out (STOP)", style="bold red")
    if conversation.assignee_name:
        text.append(f"  assigned to {clean_line(conversation.assignee_name)}", style="italic")
    if conversation.pinned:
        text.append("  pinned", style="bold")
    if conversation.snoozed_until is not None:
        text.append(f"  snoozed until {local(conversation.snoozed_until):%a %d %b %H:%M}", style="italic")
    text.append("\n")
    if not messages:
        text.append("\nNo messages yet. Press r to write the first one.\n", style="dim italic")
    if more_before:
        text.append("\n↑ earlier messages load when you scroll to the top\n", style="dim italic")
    day = None
    for message in messages:
        when = local(message.created_at)
        if when.date() != day:
            day = when.date()
            text.append(f"\n── {when.strftime('%A %B %-d, %Y')} ──\n", style="dim")
        is_hit = hit is not None and message.id == hit.message_id
        if is_hit:
            hit_at = len(text)
        if message.note:
            who = clean_line(message.staff_name or message.staff_username or "staff")
            text.append(f"✎ note · {who} · {when.strftime('%H:%M')}", style=f"bold {NOTE_COLOUR}")
        elif message.inbound:
            text.append(f"◀ {when.strftime('%H:%M')}  ", style="bold cyan")
            text.append(clean_line(conversation.client_name or format_number(conversation.phone)), style="cyan")
        else:
            sender = "automated" if message.automated else (message.staff_username or "staff")
            text.append(f"▶ {when.strftime('%H:%M')}  ", style="bold green")
            text.append(clean_line(sender), style="green")
            text.append("  " + _status(message), style="red" if message.status in (Status.FAILED, Status.UNDELIVERED) else "dim")
        if is_hit:
            text.append("  ")
            text.append("◆ search match", style="bold reverse")
        text.append("\n")
        body_start = len(text)
        if message.body or not message.num_media:
            for line in clean_text(message.body).split("\n"):
                text.append("    " + line + "\n", style=NOTE_COLOUR if message.note else "")
        if message.num_media:
            _append_media(text, message)
        if is_hit and hit is not None and hit.tokens:
            words = re.compile(r"\b(?:" + "|".join(re.escape(token) for token in hit.tokens) + r")\w*", re.IGNORECASE)
            for found in words.finditer(text.plain, body_start):
                text.stylize("bold reverse", found.start(), found.end())
    return text, hit_at


def _append_media(text: Text, message: MessageRecord) -> None:
    """An MMS's files, one a line: type and size (v opens them), or what went wrong."""
    if message.media_listed_at is None:
        count = message.num_media
        text.append(f"    📎 {count} attachment{'s' if count != 1 else ''} (MMS) · being read from Twilio\n", style="italic")
        return
    if not message.media:
        text.append("    📎 attachments no longer at Twilio (deleted there)\n", style="italic dim")
    for position, file in enumerate(message.media):
        text.append(f"    📎 {describe_file(file.content_type, file.size)}", style="italic")
        if file.error:
            text.append(f"  {clean_line(file.error)}", style="red")
        elif position == 0:
            text.append("  v opens", style="dim")
        text.append("\n")


def status_words(message: MessageRecord) -> str:
    """A message's delivery state in words, with the reason for a failure (and what to do)."""
    return _status(message)


def _status(message: MessageRecord) -> str:
    if message.status == "scheduled" and message.send_at is not None:
        return f"scheduled · {local(message.send_at):%a %H:%M} — X cancels it"
    if message.status in (Status.FAILED, Status.UNDELIVERED):
        why = clean_line(describe_error(message.error_code, message.error_message))
        retry = (
            " — press R to retry"
            if message.status == Status.FAILED and message.sid is None and can_retry(message.error_code)
            else ""
        )
        return f"{message.status}: {why}{retry}"
    return STATUS_WORDS.get(message.status, clean_line(message.status))


class ThreadView(VerticalScroll, can_focus=True):
    """Shows a window of one conversation; scrolling to its top asks for earlier messages."""

    DEFAULT_CSS = """
    ThreadView { background: $surface; padding: 0 1; }
    ThreadView > #thread-text { width: 100%; }
    """
    BINDINGS = [
        ("j", "scroll_down", "Scroll down"),
        ("k", "scroll_up", "Scroll up"),
        ("g", "scroll_home", "Top"),
        ("G", "scroll_end", "Bottom"),
    ]

    class NeedEarlier(Message):
        """The reader reached the top of the window and there are older messages."""

        def __init__(self, conversation_id: int, before: tuple) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.before = before

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.conversation: ConversationRecord | None = None
        self.messages: list[MessageRecord] = []
        self.hit: Hit | None = None
        self.more_before = False
        #: The thread as last drawn (plain text with styles), for scrolling to a hit.
        self.rendered = Text()

    def compose(self):
        yield Static(Text("Select a conversation and press enter.", style="dim"), id="thread-text")

    def show(
        self,
        conversation: ConversationRecord | None,
        messages: list[MessageRecord],
        *,
        keep_position: bool = False,
        hit: Hit | None = None,
        more_before: bool = False,
    ) -> None:
        """Show ``messages`` (oldest first); at the hit if there is one, else at the bottom.

        ``keep_position`` (a live update of the same thread) stays where the reader is,
        unless they were at the bottom, where new messages appear.
        """
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        self.conversation, self.messages, self.hit, self.more_before = conversation, messages, hit, more_before
        hit_at = self._redraw()
        if hit_at is not None and not keep_position:
            self.call_after_refresh(self._scroll_to_offset, hit_at)
        elif not keep_position or at_bottom:
            self.call_after_refresh(self.scroll_end, animate=False)

    def prepend(self, earlier: list[MessageRecord], *, more_before: bool) -> None:
        """Put older messages above the window, keeping what the reader looks at in place."""
        before = self.virtual_size.height
        self.messages = earlier + self.messages
        self.more_before = more_before
        self._redraw()
        self.call_after_refresh(lambda: self.scroll_to(y=self.virtual_size.height - before, animate=False))

    def _redraw(self) -> int | None:
        if self.conversation is None:
            self.query_one("#thread-text", Static).update(Text("No conversation selected.", style="dim"))
            return None
        body, hit_at = render_thread(self.conversation, self.messages, self.hit, more_before=self.more_before)
        self.query_one("#thread-text", Static).update(body)
        self.rendered = body
        return hit_at

    def _scroll_to_offset(self, offset: int) -> None:
        """Scroll so that the character at ``offset`` of the thread is a third of the way down."""
        width = max(1, self.query_one("#thread-text", Static).content_region.width)
        lines = len(self.rendered[:offset].wrap(self.app.console, width)) if offset else 0
        self.scroll_to(y=max(0, lines - self.scrollable_content_region.height // 3), animate=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 0 < old and self.more_before and self.conversation is not None and self.messages:
            first = self.messages[0]
            self.post_message(self.NeedEarlier(self.conversation.id, (first.created_at, first.id)))
