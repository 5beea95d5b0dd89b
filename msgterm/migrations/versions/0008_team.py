"""A team inbox: conversations assigned to staff, alerts every terminal reads, presence.

Internal notes need no table: they are messages with direction ``note``.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation") as table:
        table.add_column(sa.Column("assignee_id", sa.Integer, nullable=True))
        table.create_foreign_key("fk_conversation_assignee_id_staff", "staff", ["assignee_id"], ["id"])
    op.create_index("ix_conversation_assignee_activity", "conversation", ["assignee_id", "last_activity_at", "id"])
    op.create_table(
        "alert",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("preview", sa.String, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "presence",
        sa.Column("terminal", sa.String, primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("replying", sa.Boolean, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_presence_conversation_id", "presence", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("presence")
    op.drop_table("alert")
    op.drop_index("ix_conversation_assignee_activity", "conversation")
    with op.batch_alter_table("conversation") as table:
        table.drop_constraint("fk_conversation_assignee_id_staff", type_="foreignkey")
        table.drop_column("assignee_id")
