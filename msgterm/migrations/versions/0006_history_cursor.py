"""Resumable history, and partially_delivered counted as final.

A first sync reads the log newest first and remembers how far back it has read, so that
a sync stopped midway goes on from there. ``partially_delivered`` is a final status, so
the partial index of unfinished sends is made again without it.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FINAL = ("delivered", "undelivered", "failed", "received", "read", "canceled")


def _unfinished(final: tuple[str, ...]) -> sa.TextClause:
    return sa.text("direction = 'outbound' AND sid IS NOT NULL" + "".join(f" AND status <> '{s}'" for s in final))


def _index(final: tuple[str, ...]) -> None:
    op.drop_index("ix_message_unfinished_outbound", "message")
    where = _unfinished(final)
    op.create_index("ix_message_unfinished_outbound", "message", ["id"], sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    with op.batch_alter_table("sync_state") as table:
        table.add_column(sa.Column("history_since", sa.DateTime, nullable=True))
        table.add_column(sa.Column("history_reached", sa.DateTime, nullable=True))
        table.add_column(sa.Column("history_messages", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("history_complete", sa.Boolean, nullable=False, server_default=sa.false()))
    # A store that synced before this revision read its whole window already.
    op.execute("UPDATE sync_state SET history_complete = (watermark IS NOT NULL)")
    _index((*FINAL, "partially_delivered"))


def downgrade() -> None:
    _index(FINAL)
    with op.batch_alter_table("sync_state") as table:
        for name in ("history_complete", "history_messages", "history_reached", "history_since"):
            table.drop_column(name)
