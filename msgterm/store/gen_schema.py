"""Write msgterm/store/schema.py: the SQLModel tables of models.py as SQLAlchemy Core.

The store is written as SQLModel classes (models.py, which Alembic compares with the
migrations). At run time msgterm needs only their tables, and importing SQLModel, with
pydantic and the ORM, costs about 0.45 s before the first screen can paint; schema.py
holds the same tables in Core and imports neither. After changing models.py:

    uv run python -m msgterm.store.gen_schema

tests/unit/test_migrations.py fails while schema.py is out of date.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema.py")

HEADER = '''"""The store's tables in SQLAlchemy Core, generated from models.py by gen_schema.py.

Do not edit: change models.py, then run ``uv run python -m msgterm.store.gen_schema``.
"""

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, text

from msgterm.store.types import EpochMicroseconds

metadata = MetaData()
'''


def _type(column) -> str:
    name = type(column.type).__name__
    return {"AutoString": "String", "VARCHAR": "String"}.get(name, name) + "()"


def _column(column) -> str:
    parts = [repr(column.name), _type(column)]
    for key in column.foreign_keys:
        ondelete = f", ondelete={key.ondelete!r}" if key.ondelete else ""
        parts.append(f"ForeignKey({key.target_fullname!r}{ondelete})")
    if column.primary_key:
        parts.append("primary_key=True")
    else:
        parts.append(f"nullable={column.nullable}")
    if column.unique:
        parts.append("unique=True")
    if column.index:
        parts.append("index=True")
    if column.server_default is not None:
        parts.append(f"server_default={column.server_default.arg!r}")
    return f"    Column({', '.join(parts)}),"


def generate() -> str:
    from sqlalchemy import UniqueConstraint
    from sqlmodel import SQLModel

    from msgterm.store import models  # noqa: F401  (registers the tables)

    out = [HEADER]
    for table in sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name):
        lines = [f"{table.name} = Table(", f"    {table.name!r},", "    metadata,"]
        lines += [_column(column) for column in table.columns]
        for constraint in sorted(table.constraints, key=lambda c: str(c.name or "")):
            if isinstance(constraint, UniqueConstraint) and len(constraint.columns) > 1:
                names = ", ".join(repr(c.name) for c in constraint.columns)
                lines.append(f"    UniqueConstraint({names}),")
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            names = ", ".join(repr(c.name) for c in index.columns)
            where = index.dialect_options["sqlite"]["where"]
            if where is not None:  # a partial index, alike on both databases
                lines.append(
                    f"    Index({index.name!r}, {names}, sqlite_where=text({where.text!r}), postgresql_where=text({where.text!r})),"
                )
            elif len(index.columns) > 1:
                lines.append(f"    Index({index.name!r}, {names}),")
        lines.append(")")
        out.append("\n\n" + "\n".join(lines) + "\n")
    return "".join(out)


if __name__ == "__main__":
    SCHEMA_PATH.write_text(generate())
    print(f"wrote {SCHEMA_PATH}")
