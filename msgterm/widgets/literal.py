"""Outside text as Textual content that is never parsed as markup.

Textual reads a plain ``str`` given to a label, an option or a border title as content
markup: ``[/]`` in a client type would raise at start-up, ``[@click=app.quit]`` would run
an action. Every piece of outside text a widget shows goes through ``literal``.
"""

from __future__ import annotations

from textual.content import Content

from msgterm.domain.sanitize import clean_line


def literal(text: str | None) -> Content:
    """One line of outside text, cleaned of control characters, shown exactly as it reads."""
    return Content(clean_line(text))
