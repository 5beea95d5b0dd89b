"""Reading the client directory CSV (PRODUCT.md §5): good rows in, bad rows reported by line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from msgterm.domain.clients import ClientInput
from msgterm.domain.errors import ValidationError
from msgterm.domain.phones import parse_mobile

COLUMNS = ("client_id", "uid", "first_name", "last_name", "mobile_phone", "email", "client_type", "groups", "home_location")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


#: Longer than any name, email or ID a directory holds; a longer cell is refused by line.
MAX_CELL = 1000
#: The csv module's own cell limit, raised so that an oversized cell is measured and reported.
LINE_LIMIT = 2**31 - 1


def read_clients(text: str, region: str = "US") -> tuple[list[tuple[int, ClientInput]], list[RowError]]:
    """Parse CSV text into (line, client) pairs and per-line errors.

    Each physical line is one row: no column of this file may hold a line break, so an
    unclosed quote spoils its own line only (reported), never the rows after it. A
    client_id given twice keeps its first row and reports the others.

    Raises ValidationError when the file as a whole is unusable (no header, wrong columns).
    """
    lines = io.StringIO(text.removeprefix("\ufeff"), newline="")
    header_line = next(lines, None)
    if header_line is None or not header_line.strip():
        raise ValidationError("the file is empty; it needs a header row: " + ",".join(COLUMNS))
    try:
        header = [column.strip().lower() for column in _cells(header_line)]
    except csv.Error:
        raise ValidationError("the header row is not CSV (an unclosed quote?); it should be: " + ",".join(COLUMNS)) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationError(f"the header row lacks {', '.join(missing)}; the columns are: " + ",".join(COLUMNS))
    index = {name: header.index(name) for name in COLUMNS}
    good: list[tuple[int, ClientInput]] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for line, physical in enumerate(lines, start=2):
        try:
            row = _cells(physical)
        except csv.Error:
            errors.append(RowError(line, 'has a quote (") that is never closed; close it and import again'))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(RowError(line, f"has {len(row)} columns, the header has {len(header)}"))
            continue
        cell = {name: row[i].strip() for name, i in index.items()}
        too_long = next((name for name, value in cell.items() if len(value) > MAX_CELL), None)
        if too_long:
            errors.append(RowError(line, f"{too_long} is {len(cell[too_long]):,} characters long; at most {MAX_CELL:,}"))
            continue
        try:
            client = _client(cell, region)
        except ValidationError as error:
            errors.append(RowError(line, str(error)))
            continue
        if client.client_id in first_line_of:
            errors.append(
                RowError(
                    line, f'client_id "{client.client_id}" is also on line {first_line_of[client.client_id]}, which was kept'
                )
            )
            continue
        first_line_of[client.client_id] = line
        good.append((line, client))
    return good, errors


def _cells(physical_line: str) -> list[str]:
    """One line's cells; csv.Error when a quote is left open (strict: no guessing)."""
    if csv.field_size_limit() < LINE_LIMIT:  # the module's default (131,072) would raise, not report
        csv.field_size_limit(LINE_LIMIT)
    return next(csv.reader([physical_line.rstrip("\r\n")], strict=True), [])


def _client(cell: dict[str, str], region: str) -> ClientInput:
    if not cell["client_id"]:
        raise ValidationError("client_id is empty; every client needs one")
    phone = None
    if cell["mobile_phone"]:
        try:
            phone = parse_mobile(cell["mobile_phone"], region)
        except ValidationError as error:
            raise ValidationError(f"mobile_phone {error}") from None
    email = cell["email"] or None
    if email and ("@" not in email or " " in email):
        raise ValidationError(f'email "{email}" is not an email address')
    if not (cell["first_name"] or cell["last_name"]):
        raise ValidationError("first_name and last_name are both empty")
    return ClientInput(
        client_id=cell["client_id"],
        uid=cell["uid"] or None,
        first_name=cell["first_name"],
        last_name=cell["last_name"],
        mobile_phone=phone,
        email=email,
        client_type=cell["client_type"] or None,
        groups=tuple(g.strip() for g in cell["groups"].split(";") if g.strip()),
        home_location=cell["home_location"] or None,
    )
