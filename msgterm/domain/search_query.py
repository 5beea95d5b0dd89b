"""The search box's language: free words plus a compact filter expression.

``is:unread`` ``is:replied`` ``is:archived`` ``is:snoozed`` ``is:muted``, ``type:member``,
``group:"yoga regulars"``, ``location:downtown``, ``after:2026-10-01``,
``before:2026-11-01``, ``is:mine`` ``is:unassigned`` ``assignee:maria``; anything else is words to find. Keys may repeat: values of one
key are alternatives (``type:member type:prospect``), different keys all apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from msgterm.domain.folders import FolderView
from msgterm.domain.phones import digits

#: key:"quoted value" | key:value | "quoted words" | word
_TOKEN = re.compile(r'(?P<key>[a-zA-Z]+):(?:"(?P<qvalue>[^"]*)"?|(?P<value>\S*))|"(?P<phrase>[^"]*)"?|(?P<word>\S+)')
_WORD_CHARS = re.compile(r"\w+")
#: Characters people type inside phone numbers.
_NUMBER_LIKE = re.compile(r"^[\d\s()+.\-]+$")

FILTER_KEYS = ("is", "type", "group", "location", "after", "before", "assignee")
IS_VALUES = ("unread", "replied", "archived", "snoozed", "outbox", "failed", "pending", "muted", "mine", "unassigned")
SYNTAX_HELP = (
    'is:unread is:replied is:archived is:snoozed is:outbox is:failed is:pending is:muted  type:member  group:"yoga regulars"  '
    "location:downtown  after:2026-10-01  before:2026-11-01  is:mine is:unassigned  assignee:maria  and any words"
)


@dataclass(frozen=True)
class SearchQuery:
    """What the user typed, understood. ``problems`` says what could not be understood."""

    words: tuple[str, ...] = ()
    view: FolderView | None = None
    muted_only: bool = False
    client_types: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    unassigned: bool = False
    #: is:failed, is:pending: the Outbox's conversations for that reason.
    outbox: str | None = None
    after: date | None = None
    before: date | None = None
    problems: tuple[str, ...] = ()

    @property
    def tokens(self) -> tuple[str, ...]:
        """The words as the full-text index sees them: lower-case runs of letters and digits."""
        return tuple(token.lower() for word in self.words for token in _WORD_CHARS.findall(word))

    @property
    def fragments(self) -> tuple[str, ...]:
        """What to find inside client names, emails and IDs: each word whole, number-like words as digits."""
        return tuple(digits(word) if _NUMBER_LIKE.match(word) and digits(word) else word.lower() for word in self.words)

    @property
    def has_text(self) -> bool:
        return bool(self.tokens)

    @property
    def since(self) -> datetime | None:
        return _utc_midnight(self.after) if self.after else None

    @property
    def until(self) -> datetime | None:
        return _utc_midnight(self.before) if self.before else None


def _utc_midnight(day: date) -> datetime:
    """The start of a local calendar day, as the naive UTC time the store keeps."""
    return datetime(day.year, day.month, day.day).astimezone().astimezone(UTC).replace(tzinfo=None)


def parse(text: str, me: str | None = None) -> SearchQuery:
    """Split what was typed into filters and words; never raises. ``me``: the username
    ``is:mine`` stands for."""
    query = SearchQuery()
    words: list[str] = []
    problems: list[str] = []
    for match in _TOKEN.finditer(text):
        key = (match["key"] or "").lower()
        if key in FILTER_KEYS:
            value = (match["qvalue"] if match["qvalue"] is not None else match["value"] or "").strip()
            query = _apply(query, key, value, problems, me)
        elif match["phrase"] is not None:
            words.extend(match["phrase"].split())
        else:
            words.append(match.group(0))
    return replace(query, words=tuple(w for w in words if w), problems=tuple(problems))


def _apply(query: SearchQuery, key: str, value: str, problems: list[str], me: str | None) -> SearchQuery:
    if not value:
        problems.append(f"{key}: needs a value, as in {key}:{_EXAMPLES[key]}")
        return query
    if key == "is":
        lowered = value.lower()
        if lowered == "muted":
            return replace(query, muted_only=True)
        if lowered == "unassigned":
            return replace(query, unassigned=True)
        if lowered in ("failed", "pending"):
            return replace(query, view=FolderView.OUTBOX, outbox=lowered)
        if lowered == "mine":
            if me is None:
                problems.append("is:mine needs a staff member; use assignee:USERNAME")
                return query
            return replace(query, assignees=query.assignees + (me,))
        if lowered in IS_VALUES:
            return replace(query, view=FolderView(lowered))
        problems.append(
            f"is:{value} is not known; use is:unread, is:replied, is:archived, is:snoozed, is:outbox, is:failed, is:pending, is:muted, is:mine or is:unassigned"
        )
        return query
    if key in ("after", "before"):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            problems.append(f"{key}:{value} is not a date; write it as {key}:{_EXAMPLES[key]}")
            return query
        return replace(query, after=day) if key == "after" else replace(query, before=day)
    field = {"type": "client_types", "group": "groups", "location": "locations", "assignee": "assignees"}[key]
    return replace(query, **{field: getattr(query, field) + (value,)})


_EXAMPLES = {
    "is": "unread",
    "type": "member",
    "group": '"yoga regulars"',
    "location": "downtown",
    "after": "2026-10-01",
    "before": "2026-11-01",
    "assignee": "maria",
}
