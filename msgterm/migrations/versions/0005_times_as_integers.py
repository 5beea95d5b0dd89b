"""SQLite: the indexed times as integer microseconds since 1970 (msgterm.store.types).

``message.created_at`` orders every thread and ``conversation.last_activity_at`` every
conversation list; as integers their indexes take about half the pages, and a sync batch,
which changes an entry of each at a random place, costs less to store. Each index is
dropped while its times are rewritten and built again after, which is faster than
changing every entry in place. PostgreSQL: nothing to do.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: (table, column, the indexes over it and their columns)
TIMES = [
    ("message", "created_at", {"ix_message_conversation_time": ["conversation_id", "created_at", "id"]}),
    (
        "conversation",
        "last_activity_at",
        {
            "ix_conversation_activity": ["last_activity_at", "id"],
            "ix_conversation_folder_activity": ["folder", "last_activity_at", "id"],
        },
    ),
]


def text_to_integer(column: str) -> str:
    """'2026-01-01 10:00:00.123456' -> 1767261600123456 ('%s' is whole seconds, floored)."""
    return f"CAST(strftime('%s', {column}) AS INTEGER) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER)"


def integer_to_text(column: str) -> str:
    """And back, flooring for times before 1970 as well."""
    micros = f"((({column}) % 1000000 + 1000000) % 1000000)"
    return f"strftime('%Y-%m-%d %H:%M:%S', ({column} - {micros}) / 1000000, 'unixepoch') || '.' || printf('%06d', {micros})"


def _rewrite(convert, stored_as: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column, indexes in TIMES:
        for name in indexes:
            op.drop_index(name, table)
        op.execute(f"UPDATE {table} SET {column} = {convert(column)} WHERE typeof({column}) = '{stored_as}'")
        for name, columns in indexes.items():
            op.create_index(name, table, columns)


def upgrade() -> None:
    _rewrite(text_to_integer, "text")


def downgrade() -> None:
    _rewrite(integer_to_text, "integer")
