"""The line above the composer that says who else is at the conversation."""

from __future__ import annotations

from textual.widgets import Static

from msgterm.domain.sanitize import clean_line
from msgterm.store.team import Present
from msgterm.widgets.literal import literal


def presence_words(people: list[Present]) -> str:
    """ "Alex Kim is replying…", "Alex Kim is viewing · Sam Lee is viewing", or ""."""
    return " · ".join(f"{clean_line(p.full_name)} is {'replying…' if p.replying else 'viewing'}" for p in people)


class PresenceLine(Static):
    DEFAULT_CSS = """
    PresenceLine { height: auto; color: $warning; padding: 0 1; display: none; }
    PresenceLine.-someone { display: block; }
    """

    def show(self, people: list[Present]) -> None:
        words = presence_words(people)
        self.update(literal(words))
        self.set_class(bool(words), "-someone")
