"""One sanitiser for all text that comes from outside (bodies, names, numbers, errors).

Textual renders such text literally when it is given as plain content, but control
characters would still reach the terminal: ESC starts escape sequences, other C0 and
C1 controls move the cursor, and bidi overrides reorder what follows them. Each is
replaced by a visible stand-in so that the text reads as what it is.

Invisible format characters (zero-width spaces and joiners, variation selectors, tags)
are dropped: terminals disagree with each other and with Rich about how wide the
sequences they build are, so they would push a row past its pane's border. What is left
is measured by cell width wherever it is laid out.
"""

from __future__ import annotations

_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_INVISIBLE = {
    0x00AD,
    0x034F,
    0x115F,
    0x1160,
    0x17B4,
    0x17B5,
    *range(0x180B, 0x1810),
    *range(0x200B, 0x200E),
    0x2060,
    *range(0x2061, 0x2066),
    *range(0x206A, 0x2070),
    0x3164,
    *range(0xFE00, 0xFE10),
    0xFEFF,
    0xFFA0,
    *range(0xFFF9, 0xFFFC),
    *range(0x1D173, 0x1D17B),
    *range(0xE0000, 0xE0080),
    *range(0xE0100, 0xE01F0),
}


def _table(keep_newlines: bool, keep_tabs: bool = False) -> dict[int, str]:
    table: dict[int, str] = {code: "" for code in _INVISIBLE}
    for code in range(0x20):
        table[code] = chr(0x2400 + code)  # the Unicode "control pictures": ␛, ␇, …
    table[0x7F] = "\u2421"
    for code in range(0x80, 0xA0):
        table[code] = "\ufffd"
    for code in _BIDI:
        table[code] = f"<U+{code:04X}>"
    table[ord("\t")] = "\t" if keep_tabs else " "
    line_break = "\n" if keep_newlines else " "
    for code in (0x0A, 0x0B, 0x0C, 0x85, 0x2028, 0x2029):
        table[code] = line_break
    table[ord("\r")] = "" if keep_newlines else " "
    # A lone surrogate cannot be encoded for the terminal, the log or the store.
    for code in range(0xD800, 0xE000):
        table[code] = "\ufffd"
    return table


_MULTILINE = _table(keep_newlines=True)
_ONE_LINE = _table(keep_newlines=False)
_OUTPUT = _table(keep_newlines=True, keep_tabs=True)


def clean_text(text: str | None) -> str:
    """Outside text for a multi-line place (a message body)."""
    return (text or "").translate(_MULTILINE)


def clean_line(text: str | None) -> str:
    """Outside text for a one-line place (a name, a preview, an error)."""
    return (text or "").translate(_ONE_LINE)


def clean_output(text: str | None) -> str:
    """A line the command line or the log writes, which may hold outside text: tabs and
    newlines stay (columns, tracebacks), every other control character is made visible."""
    return (text or "").translate(_OUTPUT)
