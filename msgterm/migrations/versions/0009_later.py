"""Replies at the right time: templates, scheduled sends, snooze, pins.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SCHEDULED = sa.text("status = 'scheduled'")
PINNED = sa.text("pinned = true")


def upgrade() -> None:
    with op.batch_alter_table("conversation") as table:
        table.add_column(sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("snoozed_until", sa.DateTime, nullable=True))
    op.create_index("ix_conversation_pinned", "conversation", ["last_activity_at"], sqlite_where=PINNED, postgresql_where=PINNED)
    with op.batch_alter_table("message") as table:
        table.add_column(sa.Column("send_at", sa.DateTime, nullable=True))
    op.create_index("ix_message_scheduled", "message", ["send_at"], sqlite_where=SCHEDULED, postgresql_where=SCHEDULED)
    op.create_table(
        "template",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("template")
    op.drop_index("ix_message_scheduled", "message")
    op.drop_index("ix_conversation_pinned", "conversation")
    with op.batch_alter_table("message") as table:
        table.drop_column("send_at")
    with op.batch_alter_table("conversation") as table:
        table.drop_column("snoozed_until")
        table.drop_column("pinned")
