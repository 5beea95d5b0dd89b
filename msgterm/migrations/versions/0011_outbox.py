"""The Outbox: an index of our own sends that have not been delivered.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OUTBOX = sa.text(
    "direction = 'outbound' AND staff_id IS NOT NULL AND status <> 'delivered' AND status <> 'read'"
    " AND status <> 'canceled' AND status <> 'received'"
)


def upgrade() -> None:
    op.create_index("ix_message_outbox", "message", ["created_at"], sqlite_where=OUTBOX, postgresql_where=OUTBOX)


def downgrade() -> None:
    op.drop_index("ix_message_outbox", "message")
