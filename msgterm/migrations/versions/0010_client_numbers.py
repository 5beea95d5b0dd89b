"""Extra numbers of a client: an unknown sender's number linked to them.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_number",
        sa.Column("phone", sa.String, primary_key=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("client.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_client_number_client_id", "client_number", ["client_id"])


def downgrade() -> None:
    op.drop_table("client_number")
