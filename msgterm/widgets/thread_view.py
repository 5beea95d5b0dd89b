"""The thread pane: a conversation's messages grouped by day, newest at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from msgterm.domain.phones import format_number
from msgterm.domain.provider_errors import describe_error
from msgterm.domain.sanitize import clean_line, clean_text
from msgterm.store.records import ConversationRecord, MessageRecord
from msgterm.timefmt import local

STATUS_WORDS = {
    "sending": "sending…",
    "unconfirmed": "not confirmed yet",
    "queued": "queued",
    "accepted": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
}


def render_thread(conversation: ConversationRecord, messages: list[MessageRecord]) -> Text:
    """The thread as literal text: bodies and names are never parsed as markup."""
    text = Text()
    title = clean_line(conversation.title)
    text.append(title, style="bold")
    if conversation.client_name:
        text.append(f"  {format_number(conversation.phone)}", style="dim")
    if conversation.opted_out:
        text.append("  opted out (STOP)", style="bold red")
    text.append("\n")
    if not messages:
        text.append("\nNo messages yet. Press r to write the first one.\n", style="dim italic")
    day = None
    for message in messages:
        when = local(message.created_at)
        if when.date() != day:
            day = when.date()
            text.append(f"\n── {when.strftime('%A %B %-d, %Y')} ──\n", style="dim")
        if message.inbound:
            text.append(f"◀ {when.strftime('%H:%M')}  ", style="bold cyan")
            text.append(clean_line(conversation.client_name or format_number(conversation.phone)), style="cyan")
        else:
            sender = "automated" if message.automated else (message.staff_username or "staff")
            text.append(f"▶ {when.strftime('%H:%M')}  ", style="bold green")
            text.append(clean_line(sender), style="green")
            text.append("  " + _status(message), style="red" if message.status in ("failed", "undelivered") else "dim")
        text.append("\n")
        for line in clean_text(message.body).split("\n"):
            text.append("    " + line + "\n")
    return text


def _status(message: MessageRecord) -> str:
    if message.status in ("failed", "undelivered"):
        why = clean_line(describe_error(message.error_code, message.error_message))
        retry = " — press R to retry" if message.status == "failed" and message.sid is None else ""
        return f"{message.status}: {why}{retry}"
    return STATUS_WORDS.get(message.status, clean_line(message.status))


class ThreadView(VerticalScroll, can_focus=True):
    """Shows one conversation; scrolls with the keys of a pager."""

    DEFAULT_CSS = """
    ThreadView { background: $surface; padding: 0 1; }
    ThreadView > #thread-text { width: 100%; }
    """
    BINDINGS = [("j", "scroll_down", "Scroll down"), ("k", "scroll_up", "Scroll up"), ("g", "scroll_home", "Top"), ("G", "scroll_end", "Bottom")]

    def compose(self):
        yield Static(Text("Select a conversation and press enter.", style="dim"), id="thread-text")

    def show(self, conversation: ConversationRecord | None, messages: list[MessageRecord], *, keep_position: bool = False) -> None:
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        body = render_thread(conversation, messages) if conversation else Text("No conversation selected.", style="dim")
        self.query_one("#thread-text", Static).update(body)
        if not keep_position or at_bottom:
            self.call_after_refresh(self.scroll_end, animate=False)
