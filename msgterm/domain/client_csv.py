"""Reading the client directory CSV (PRODUCT.md §5): good rows in, bad rows reported by line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from msgterm.domain.errors import ValidationError
from msgterm.domain.phones import parse_mobile
from msgterm.domain.clients import ClientInput

COLUMNS = ("client_id", "uid", "first_name", "last_name", "mobile_phone", "email", "client_type", "groups", "home_location")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_clients(text: str, region: str = "US") -> tuple[list[tuple[int, ClientInput]], list[RowError]]:
    """Parse CSV text into (line, client) pairs and per-line errors.

    Raises ValidationError when the file as a whole is unusable (no header, wrong columns).
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise ValidationError("the file is empty; it needs a header row: " + ",".join(COLUMNS)) from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            f"the header row lacks {', '.join(missing)}; the columns are: " + ",".join(COLUMNS)
        )
    index = {name: header.index(name) for name in COLUMNS}
    good: list[tuple[int, ClientInput]] = []
    errors: list[RowError] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(RowError(line, f"has {len(row)} columns, the header has {len(header)}"))
            continue
        cell = {name: row[i].strip() for name, i in index.items()}
        try:
            good.append((line, _client(cell, region)))
        except ValidationError as error:
            errors.append(RowError(line, str(error)))
    return good, errors


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
