"""A partial index of the outbound messages whose status may still change.

The poller asks for them every cycle; without it that query read every message
(0.2 s a cycle on a million messages).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UNFINISHED_OUTBOUND = (
    "direction = 'outbound' AND sid IS NOT NULL AND status <> 'delivered' AND status <> 'undelivered'"
    " AND status <> 'failed' AND status <> 'received' AND status <> 'read' AND status <> 'canceled'"
)


def upgrade() -> None:
    where = sa.text(UNFINISHED_OUTBOUND)
    op.create_index("ix_message_unfinished_outbound", "message", ["id"], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_message_unfinished_outbound", "message")
