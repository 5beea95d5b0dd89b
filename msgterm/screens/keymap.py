"""Every key of the app, defined once: the main screen's bindings, the help screen and the
command palette are all made from this table (tests/ui/test_keys.py checks the README's
key table against it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.actions import parse
from textual.binding import Binding, BindingType
from textual.dom import DOMNode

#: How help writes a key Textual names otherwise.
SHOWN = {
    "down": "↓",
    "up": "↑",
    "slash": "/",
    "question_mark": "?",
    "asterisk": "*",
    "left_square_bracket": "[",
    "at": "@",
}


@dataclass(frozen=True)
class Key:
    """One row of help: the keys, what they do, and where else they appear."""

    #: Textual's key names, comma-separated ("j,down").
    keys: str
    #: What the key does, in help and, when ``command`` is set, in the palette.
    does: str
    #: The main screen action it runs; empty when a widget binds it (the list, the thread).
    action: str = ""
    #: The footer's word for it; empty keeps it out of the footer.
    label: str = ""
    #: The command palette's title; empty keeps it out of the palette.
    command: str = ""
    #: How help writes the keys, when not one by one ("j / k, ↓ / ↑").
    written: str = ""

    @property
    def shown(self) -> str:
        return self.written or " / ".join(SHOWN.get(k, k) for k in self.keys.split(","))

    @property
    def binding_id(self) -> str:
        """A stable id for the binding (Textual's keymaps name bindings by id)."""
        return re.sub(r"[^a-z0-9]+", "-", self.action.lower()).strip("-")

    def run_on(self, node: DOMNode) -> None:
        """Run the action on ``node`` itself, past ``check_action`` (which greys a key a staff
        member may not use): the action's own gate then says why it is refused."""
        _namespace, name, params = parse(self.action)
        getattr(node, f"action_{name}")(*params)

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.label or self.does, show=bool(self.label), id=self.binding_id)


MOVING = "Moving"
SEARCH_SYNTAX = "In the search box"

SECTIONS: tuple[tuple[str, tuple[Key, ...]], ...] = (
    (
        "Folders",
        (
            Key("1", "Unread", action="folder('unread')", label="Unread", command="Folder: Unread"),
            Key("2", "Replied", action="folder('replied')", label="Replied", command="Folder: Replied"),
            Key("3", "Archived", action="folder('archived')", label="Archived", command="Folder: Archived"),
            Key("4", "All", action="folder('all')", label="All", command="Folder: All"),
            Key(
                "5",
                "Outbox: every text from msgterm not delivered (failed, on its way, scheduled); R retries",
                action="folder('outbox')",
                label="Outbox",
                command="Folder: Outbox",
            ),
            Key(
                "f",
                "filters (date, type, group, location, muted)",
                action="focus_filters",
                command="Filters",
            ),
        ),
    ),
    (
        MOVING,
        (
            Key("j,k,down,up", "move in the list", written="j / k, ↓ / ↑"),
            Key("g,G", "top / bottom", written="g / G"),
            Key("enter", "open (marks it read; resting on a row only previews it)"),
            Key("escape", "back to the list; clears a selection first", action="back"),
            Key("tab", "next pane"),
            Key("]", "open the next unread conversation", action="next_unread", label="Next unread", command="Next unread"),
            Key("[", "open the previous unread conversation", action="previous_unread", command="Previous unread"),
        ),
    ),
    (
        "Conversation",
        (
            Key("r", "reply, to the conversation on screen", action="reply", label="Reply", command="Reply"),
            Key("n", "new conversation", action="new_conversation", command="New conversation"),
            Key("m", "mute / unmute", action="toggle_mute", label="Mute", command="Mute / unmute"),
            Key("u", "mark as unread", action="mark_unread", command="Mark as unread"),
            Key("a", "archive", action="archive", label="Archive", command="Archive"),
            Key("s", "snooze until a time: back in Unread then", action="snooze", label="Snooze", command="Snooze…"),
            Key(
                "p",
                "pin / unpin: pinned ones head every folder, for everyone",
                action="toggle_pin",
                label="Pin",
                command="Pin / unpin",
            ),
            Key("at", "assign to a colleague (or nobody)", action="assign", label="Assign", command="Assign to…"),
            Key("N", "add an internal note (never sent to the client)", action="add_note", command="Add note…"),
            Key("L", "link an unknown sender to a client", action="link_client", command="Link to client…"),
            Key("o", "options menu", action="options"),
            Key("c", "contact history", action="history", command="Contact history"),
            Key(
                "v",
                "open an attachment (a photo, a PDF) in the system's viewer",
                action="open_attachment",
                command="Open attachment…",
            ),
            Key("R", "retry the last failed message", action="retry", command="Retry failed message"),
            Key("X", "cancel the next scheduled message", action="cancel_scheduled", command="Cancel scheduled message"),
            Key(
                "z",
                "undo the last archive, snooze, mute, unmute, mark unread or read",
                action="undo",
                label="Undo",
                command="Undo",
            ),
        ),
    ),
    (
        "Several at once",
        (
            Key(
                "x",
                "select / unselect the conversation; a, m, u, @ then act on all",
                action="toggle_select",
                label="Select",
                command="Select",
            ),
            Key("asterisk", "select every conversation in the view", action="select_all", command="Select all"),
            Key("", "clear the selection", action="clear_selection", command="Clear selection", written="escape"),
        ),
    ),
    (
        "Writing",
        (
            Key("enter", "send, to the conversation named above the box"),
            Key("ctrl+j", "a new line (shift+enter where the terminal tells it apart)"),
            Key("ctrl+e", "write the reply in $EDITOR"),
            Key("ctrl+t", "insert a template, filled in for the client", action="insert_template", command="Insert template…"),
            Key("ctrl+l", "send later, at a time you type", action="send_later", command="Send later…"),
        ),
    ),
    (
        "Search",
        (
            Key("slash", "search as you type, within the folder and filters", action="search", label="Search", command="Search"),
            Key("enter,down", "from the box to the results", written="enter / ↓"),
            Key("enter", "open a hit at the matching message"),
            Key("escape", "end the search"),
        ),
    ),
    (
        SEARCH_SYNTAX,
        (
            Key("", "every word in a message (the last may be unfinished)", written="words"),
            Key("", "any part of a client's name, number, email, UID or client ID", written="0142, ada@, C-17"),
            Key("", "also is:replied, is:archived, is:snoozed, is:outbox, is:muted", written="is:unread"),
            Key("", "in the Outbox, failed or undelivered; is:pending on its way or scheduled", written="is:failed"),
            Key("", "client type", written="type:member"),
            Key("", "client group (quotes for spaces)", written='group:"yoga regulars"'),
            Key("", "home location", written="location:downtown"),
            Key("", "assigned to me; is:unassigned to nobody", written="is:mine"),
            Key("", "assigned to that colleague", written="assignee:maria"),
            Key("", "on or after a day; before:2026-11-01 before a day", written="after:2026-10-01"),
        ),
    ),
    (
        "App",
        (
            Key("question_mark", "this help", action="app.help", label="Help"),
            Key("ctrl+p", "command palette"),
            Key("q", "quit", action="app.quit", label="Quit"),
        ),
    ),
)


def main_screen_bindings() -> list[BindingType]:
    """The main screen's bindings. The footer shows them in this order and cuts what does not
    fit: help and quit first (they must show at any width), the folders last."""
    keys = [key for _section, keys in SECTIONS for key in keys if key.action and key.keys]
    first = [key for key in keys if key.action.startswith("app.")]
    last = [key for key in keys if key.action.startswith("folder(")]  # the numbers say what they are
    return [key.binding() for key in first + [key for key in keys if key not in first + last] + last]


def help_rows() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Help's sections: (title, ((keys as written, what they do), ...))."""
    return tuple((section, tuple((key.shown, key.does) for key in keys)) for section, keys in SECTIONS)


def palette_commands() -> list[Key]:
    """The main screen's commands for the palette, in the order of help."""
    return [key for _section, keys in SECTIONS for key in keys if key.command and key.action]
