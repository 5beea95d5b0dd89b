"""One sanitiser for all text that comes from outside (bodies, names, numbers, errors).

Textual renders such text literally when it is given as plain content, but control
characters would still reach the terminal: ESC starts escape sequences, other C0 and
C1 controls move the cursor, and bidi overrides reorder what follows them. Each is
replaced by a visible stand-in so that the text reads as what it is.
"""

from __future__ import annotations

_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def _table(keep_newlines: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        table[code] = chr(0x2400 + code)  # the Unicode "control pictures": ␛, ␇, …
    table[0x7F] = "\u2421"
    for code in range(0x80, 0xA0):
        table[code] = "\ufffd"
    for code in _BIDI:
        table[code] = f"<U+{code:04X}>"
    table[ord("\t")] = " "
    if keep_newlines:
        table[ord("\n")] = "\n"
        table[ord("\r")] = ""
    else:
        table[ord("\n")] = " "
        table[ord("\r")] = " "
    return table


_MULTILINE = _table(keep_newlines=True)
_ONE_LINE = _table(keep_newlines=False)


def clean_text(text: str | None) -> str:
    """Outside text for a multi-line place (a message body)."""
    return (text or "").translate(_MULTILINE)


def clean_line(text: str | None) -> str:
    """Outside text for a one-line place (a name, a preview, an error)."""
    return (text or "").translate(_ONE_LINE)
