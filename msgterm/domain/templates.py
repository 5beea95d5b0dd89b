"""Reply templates and their merge fields: what a template may name, and the text it
becomes for one client. A field the client has no value for stays in the text as
``{field}``: the composer shows it and the send pipeline refuses it, so that no client
gets "Hi ,"."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from msgterm.domain.errors import ValidationError

#: The merge fields a template may use, and what each is.
FIELDS = {
    "first_name": "the client's first name",
    "last_name": "the client's last name",
    "full_name": "the client's full name",
    "home_location": "the client's home location",
    "staff_first_name": "the first name of the staff member sending",
}
#: A merge field left in a text: no value was known for it.
_LEFT = re.compile(r"\{(" + "|".join(FIELDS) + r")\}")


@dataclass(frozen=True)
class Template:
    name: str
    body: str


def check_template(name: str, body: str) -> Template:
    """A template as it may be saved; an unknown field or a stray brace is refused."""
    name = name.strip()
    if not name:
        raise ValidationError("a template needs a name")
    if not body.strip():
        raise ValidationError(f"template {name!r} is blank; give it some text")
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError as error:
        raise ValidationError(f"template {name!r} has a stray brace ({error}); write fields as {{first_name}}") from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            known = ", ".join("{" + f + "}" for f in FIELDS)
            raise ValidationError(f"template {name!r} uses {{{field}}}, which msgterm does not know; the fields are {known}")
    return Template(name, body)


def expand(body: str, values: Mapping[str, str | None]) -> str:
    """The template's text for one client: each field replaced by its value, and a field
    with no value (None or blank) left as ``{field}``."""
    out = []
    for literal, field, _spec, _conversion in string.Formatter().parse(body):
        out.append(literal)
        if field is not None:
            value = (values.get(field) or "").strip()
            out.append(value or "{" + field + "}")
    return "".join(out)


def unfilled(text: str) -> tuple[str, ...]:
    """The merge fields still in a text (no value was known for them), each once."""
    return tuple(dict.fromkeys(_LEFT.findall(text)))


def unfilled_spans(text: str) -> list[tuple[int, int]]:
    """Where the unfilled fields are in the text, as (start, end) offsets, to highlight."""
    return [match.span() for match in _LEFT.finditer(text)]


def merge_values(first_name: str, last_name: str, home_location: str | None, staff_full_name: str) -> dict[str, str | None]:
    """The merge fields' values for one client and one staff member."""
    full = f"{first_name} {last_name}".strip()
    staff_words = staff_full_name.split()
    return {
        "first_name": first_name,
        "last_name": last_name,
        "full_name": full,
        "home_location": home_location,
        "staff_first_name": staff_words[0] if staff_words else None,
    }
