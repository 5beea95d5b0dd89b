"""A client's contact history: details, then every message and event, with staff and time."""

from __future__ import annotations

from itertools import islice

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from msgterm.domain.phones import format_number
from msgterm.domain.sanitize import clean_line, clean_text
from msgterm.store.records import ConversationRecord
from msgterm.timefmt import local

EVENT_WORDS = {
    "read": "read the conversation",
    "send": "sent a reply",
    "mute": "muted",
    "unmute": "unmuted",
    "mark_unread": "marked as unread",
    "archive": "archived",
    "link_client": "linked the number to the client",
    "opt_out": "client opted out",
    "opt_in": "client opted back in",
}


def _usage_words(usage) -> str:
    return (
        f"{usage.sent_messages:,} messages, {usage.sent_segments:,} segments, {usage.sent_media:,} media"
        f" (received {usage.received_segments:,} segments, {usage.received_media:,} media)"
    )


def _event_words(kind: str, detail: str) -> str:
    if kind == "undo":
        return f"undid {UNDID_WORDS.get(detail, detail)}"
    if kind == "assign":
        return f"assigned it to {clean_line(detail)}" if detail else "unassigned it"
    return EVENT_WORDS.get(kind, kind)


#: What an undo event (its detail names the action) undid.
UNDID_WORDS = {
    "read": "the read (unread again)",
    "mute": "the mute",
    "unmute": "the unmute",
    "mark_unread": "the mark as unread",
    "archive": "the archive",
}
#: The newest entries shown; the whole history is one ``msgterm export --client`` away.
HISTORY_LIMIT = 300


class ContactHistory(Screen):
    """Escape goes back."""

    BINDINGS = [("escape", "app.pop_screen", "Back"), ("j", "scroll('down')", "Down"), ("k", "scroll('up')", "Up")]
    DEFAULT_CSS = """
    ContactHistory VerticalScroll { padding: 0 2; }
    """

    def __init__(self, store, conversation: ConversationRecord) -> None:
        super().__init__()
        self.store = store
        self.conversation = conversation

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="history"):
            yield Static(Text("Reading the contact history…", style="dim"), id="history-text")
        yield Footer()

    def on_mount(self) -> None:
        self.read_history()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def read_history(self) -> None:
        """Read and lay out the history on a worker: a long one takes a moment."""
        text = self.render_history()
        self.app.call_from_thread(self.query_one("#history-text", Static).update, text)

    def action_scroll(self, direction: str) -> None:
        scroller = self.query_one(VerticalScroll)
        scroller.scroll_down() if direction == "down" else scroller.scroll_up()

    def render_history(self) -> Text:
        text = Text()
        c = self.conversation
        if c.client_id is not None:
            client = self.store.client(c.client_id)
            text.append(f"Contact history — {clean_line(client.name)}\n", style="bold")
            for label, value in (
                ("Client ID", client.client_id),
                ("UID", client.uid),
                ("Mobile", format_number(client.mobile_phone) if client.mobile_phone else None),
                ("Email", client.email),
                ("Type", client.client_type),
                ("Groups", ", ".join(client.groups) or None),
                ("Home location", client.home_location),
                ("Texts", "opted out (STOP)" if client.opted_out else "opted in"),
                ("Sent", _usage_words(self.store.client_usage(c.client_id))),
            ):
                text.append(f"  {label:<14}", style="dim")
                text.append(clean_line(value or "—") + "\n")
            entries = self.store.history(c.client_id, newest_first=True, chunk=HISTORY_LIMIT + 1)
        else:
            text.append(f"Contact history — {format_number(c.phone)} (unknown sender)\n", style="bold")
            text.append(f"  {'Sent':<14}", style="dim")
            text.append(_usage_words(self.store.client_usage(conversation_id=c.id)) + "\n")
            entries = self.store.history(conversation_id=c.id, newest_first=True, chunk=HISTORY_LIMIT + 1)
        text.append("\n")
        newest = list(islice(entries, HISTORY_LIMIT + 1))
        if len(newest) > HISTORY_LIMIT:
            newest = newest[:HISTORY_LIMIT]
            command = f"msgterm export --client {clean_line(client.client_id)} --json" if c.client_id else "msgterm export --json"
            text.append(f"Showing the latest {HISTORY_LIMIT} entries; the whole history: {command}\n\n", style="dim italic")
        for entry in reversed(newest):
            when = local(entry.at).strftime("%Y-%m-%d %H:%M")
            text.append(f"{when}  ", style="dim")
            if entry.message:
                m = entry.message
                if m.note:
                    text.append(f"✎ note · {clean_line(m.staff_username or 'staff')}  ", style="magenta")
                elif m.inbound:
                    text.append("◀ client  ", style="cyan")
                else:
                    text.append(f"▶ {clean_line('automated' if m.automated else (m.staff_username or 'staff'))}  ", style="green")
                text.append(clean_text(m.body).replace("\n", " ⏎ ") + "\n")
            else:
                e = entry.event
                words = _event_words(e.kind, e.detail)
                text.append(f"• {clean_line(e.staff_username or 'system')} {words}\n", style="yellow")
        return text
