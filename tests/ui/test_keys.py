"""The keys the README and the help screen promise are the keys the app binds, and every key
the main screen binds is in both."""

from __future__ import annotations

import re
from pathlib import Path

from msgterm.app import MsgtermApp
from msgterm.screens.keymap import SEARCH_SYNTAX, help_rows
from msgterm.screens.main_screen import MainScreen
from msgterm.widgets.composer import DraftBox
from msgterm.widgets.conversation_list import ConversationList
from msgterm.widgets.thread_view import ThreadView

README = Path(__file__).resolve().parents[2] / "README.md"
#: How the README and the help write a key, and Textual's name for it.
NAMES = {"↓": "down", "↑": "up", "/": "slash", "?": "question_mark", "*": "asterisk", "@": "at"}
#: Keys Textual itself binds (focus and the command palette).
TEXTUAL = {"tab", "ctrl+p"}


def bound() -> set[str]:
    keys: set[str] = set()
    for owner in (MsgtermApp, MainScreen, ConversationList, ThreadView, DraftBox):
        for binding in owner.BINDINGS:
            key = binding.key if hasattr(binding, "key") else binding[0]
            keys.update(k.strip() for k in key.split(","))
    return keys | TEXTUAL


def written(text: str) -> set[str]:
    """Keys in a "j / k, ↓ / ↑" or "`1` `2`" cell."""
    cells = re.findall(r"`([^`]+)`", text) or [text]
    keys = set()
    for cell in cells:
        for key in re.split(r" / |, | ", cell.strip()):
            if key:
                keys.add(NAMES.get(key, key))
    return keys


def readme_keys() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| key | does |") : text.index("Where the spec is silent")]
    keys: set[str] = set()
    for row in table.splitlines()[2:]:
        if row.startswith("|"):
            keys |= written(row.split("|")[1])
    return keys


def help_keys() -> set[str]:
    return {key for section, rows in help_rows() if section != SEARCH_SYNTAX for cell, _words in rows for key in written(cell)}


def main_screen_keys() -> set[str]:
    return {k.strip() for binding in MainScreen.BINDINGS for k in binding.key.split(",")}


def test_every_key_the_readme_names_is_bound():
    assert readme_keys() - bound() == set()


def test_every_key_the_help_names_is_bound():
    assert help_keys() - bound() == set()


def test_every_main_screen_key_is_in_the_readme_and_the_help():
    assert main_screen_keys() - readme_keys() == set()
    assert main_screen_keys() - help_keys() == set()


def test_the_palette_has_a_command_for_every_new_triage_key():
    from msgterm.screens.keymap import palette_commands

    titles = {key.command for key in palette_commands()}
    assert {"Undo", "Select", "Select all", "Clear selection", "Archive", "Mute / unmute", "Mark as unread"} <= titles
    assert all(hasattr(MainScreen, f"action_{key.action.split('(')[0]}") for key in palette_commands())
