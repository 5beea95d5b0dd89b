"""MMS files: the media table, and which MMS the poller has listed the files of.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MEDIA_UNLISTED = sa.text("num_media > 0 AND media_listed_at IS NULL")


def upgrade() -> None:
    # Nullable with no default: both backends add it without rewriting the message table.
    op.add_column("message", sa.Column("media_listed_at", sa.DateTime, nullable=True))
    op.create_index("ix_message_media_unlisted", "message", ["id"], sqlite_where=MEDIA_UNLISTED, postgresql_where=MEDIA_UNLISTED)
    op.create_table(
        "media",
        sa.Column("sid", sa.String, primary_key=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("message.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String, nullable=False),
        sa.Column("size", sa.Integer, nullable=True),
        sa.Column("error", sa.String, nullable=True),
    )
    op.create_index("ix_media_message", "media", ["message_id", "position"])


def downgrade() -> None:
    op.drop_table("media")
    op.drop_index("ix_message_media_unlisted", "message")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("media_listed_at")
