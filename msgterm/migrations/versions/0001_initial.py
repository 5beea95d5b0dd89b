"""The first schema: clients, staff and roles, conversations, messages, events, sync state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "location",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    op.create_table(
        "client_type",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    op.create_table(
        "client_group",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    op.create_table(
        "client",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.String, nullable=False, unique=True),
        sa.Column("uid", sa.String, nullable=True, unique=True),
        sa.Column("first_name", sa.String, nullable=False),
        sa.Column("last_name", sa.String, nullable=False),
        sa.Column("mobile_phone", sa.String, nullable=True, index=True),
        sa.Column("email", sa.String, nullable=True, index=True),
        sa.Column("client_type_id", sa.Integer, sa.ForeignKey("client_type.id"), nullable=True, index=True),
        sa.Column("home_location_id", sa.Integer, sa.ForeignKey("location.id"), nullable=True, index=True),
        sa.Column("opted_out", sa.Boolean, nullable=False),
    )
    op.create_table(
        "client_group_member",
        sa.Column("client_id", sa.Integer, sa.ForeignKey("client.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("client_group.id", ondelete="CASCADE"), primary_key=True, index=True),
    )
    op.create_table(
        "permission",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("description", sa.String, nullable=False),
    )
    op.create_table(
        "role",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
    )
    op.create_table(
        "role_permission",
        sa.Column("role_id", sa.Integer, sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("permission", sa.String, sa.ForeignKey("permission.name"), primary_key=True),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String, nullable=False, unique=True),
        sa.Column("full_name", sa.String, nullable=False),
        sa.Column("role_id", sa.Integer, sa.ForeignKey("role.id"), nullable=False),
    )
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("business_number", sa.String, nullable=False),
        sa.Column("phone", sa.String, nullable=False),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("client.id"), nullable=True, index=True),
        sa.Column("folder", sa.String, nullable=False),
        sa.Column("unread_count", sa.Integer, nullable=False),
        sa.Column("muted", sa.Boolean, nullable=False),
        sa.Column("last_activity_at", sa.DateTime, nullable=False),
        sa.Column("last_preview", sa.String, nullable=False),
        sa.Column("last_direction", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("business_number", "phone"),
    )
    op.create_index("ix_conversation_activity", "conversation", ["last_activity_at", "id"])
    op.create_index("ix_conversation_folder_activity", "conversation", ["folder", "last_activity_at", "id"])
    op.create_table(
        "message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sid", sa.String, nullable=True, unique=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("direction", sa.String, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("error_code", sa.Integer, nullable=True),
        sa.Column("error_message", sa.String, nullable=True),
        sa.Column("from_number", sa.String, nullable=False),
        sa.Column("to_number", sa.String, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.Column("num_segments", sa.Integer, nullable=False),
        sa.Column("num_media", sa.Integer, nullable=False),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("automated", sa.Boolean, nullable=False),
    )
    op.create_index("ix_message_conversation_time", "message", ["conversation_id", "created_at", "id"])
    op.create_table(
        "conversation_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversation.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("detail", sa.String, nullable=False),
    )
    op.create_index("ix_event_conversation_time", "conversation_event", ["conversation_id", "at"])
    op.create_table(
        "sync_state",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("watermark", sa.DateTime, nullable=True),
        sa.Column("last_sync_at", sa.DateTime, nullable=True),
        sa.Column("last_error", sa.String, nullable=True),
        sa.Column("paused_reason", sa.String, nullable=True),
        sa.Column("lease_holder", sa.String, nullable=True),
        sa.Column("lease_expires_at", sa.DateTime, nullable=True),
        sa.Column("lease_generation", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "sync_state",
        "conversation_event",
        "message",
        "conversation",
        "staff",
        "role_permission",
        "role",
        "permission",
        "client_group_member",
        "client",
        "client_group",
        "client_type",
        "location",
    ):
        op.drop_table(table)
