"""The store's tables in SQLAlchemy Core, generated from models.py by gen_schema.py.

Do not edit: change models.py, then run ``uv run python -m msgterm.store.gen_schema``.
"""

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, text

from msgterm.store.types import EpochMicroseconds

metadata = MetaData()


alert = Table(
    'alert',
    metadata,
    Column('seq', Integer(), primary_key=True),
    Column('conversation_id', Integer(), ForeignKey('conversation.id'), nullable=False),
    Column('kind', String(), nullable=False),
    Column('staff_id', Integer(), ForeignKey('staff.id'), nullable=True),
    Column('title', String(), nullable=False),
    Column('preview', String(), nullable=False),
    Column('at', DateTime(), nullable=False),
)


change_log = Table(
    'change_log',
    metadata,
    Column('seq', Integer(), primary_key=True),
    Column('conversation_id', Integer(), nullable=False),
    Column('at', DateTime(), nullable=False),
)


client = Table(
    'client',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('client_id', String(), nullable=False, unique=True),
    Column('uid', String(), nullable=True, unique=True),
    Column('first_name', String(), nullable=False),
    Column('last_name', String(), nullable=False),
    Column('mobile_phone', String(), nullable=True, index=True),
    Column('email', String(), nullable=True, index=True),
    Column('client_type_id', Integer(), ForeignKey('client_type.id'), nullable=True, index=True),
    Column('home_location_id', Integer(), ForeignKey('location.id'), nullable=True, index=True),
    Column('opted_out', Boolean(), nullable=False),
    Column('search_text', Text(), nullable=False, server_default=''),
)


client_group = Table(
    'client_group',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('name', String(), nullable=False, unique=True),
)


client_group_member = Table(
    'client_group_member',
    metadata,
    Column('client_id', Integer(), ForeignKey('client.id', ondelete='CASCADE'), primary_key=True),
    Column('group_id', Integer(), ForeignKey('client_group.id', ondelete='CASCADE'), primary_key=True, index=True),
)


client_number = Table(
    'client_number',
    metadata,
    Column('phone', String(), primary_key=True),
    Column('client_id', Integer(), ForeignKey('client.id', ondelete='CASCADE'), nullable=False, index=True),
)


client_type = Table(
    'client_type',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('name', String(), nullable=False, unique=True),
)


conversation = Table(
    'conversation',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('business_number', String(), nullable=False),
    Column('phone', String(), nullable=False),
    Column('client_id', Integer(), ForeignKey('client.id'), nullable=True, index=True),
    Column('folder', String(), nullable=False),
    Column('unread_count', Integer(), nullable=False),
    Column('muted', Boolean(), nullable=False),
    Column('last_activity_at', EpochMicroseconds(), nullable=False),
    Column('last_preview', String(), nullable=False),
    Column('last_direction', String(), nullable=False),
    Column('created_at', DateTime(), nullable=False),
    Column('assignee_id', Integer(), ForeignKey('staff.id'), nullable=True),
    Column('pinned', Boolean(), nullable=False),
    Column('snoozed_until', DateTime(), nullable=True),
    UniqueConstraint('business_number', 'phone'),
    Index('ix_conversation_activity', 'last_activity_at', 'id'),
    Index('ix_conversation_assignee_activity', 'assignee_id', 'last_activity_at', 'id'),
    Index('ix_conversation_folder_activity', 'folder', 'last_activity_at', 'id'),
    Index('ix_conversation_pinned', 'last_activity_at', sqlite_where=text('pinned = true'), postgresql_where=text('pinned = true')),
)


conversation_event = Table(
    'conversation_event',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('conversation_id', Integer(), ForeignKey('conversation.id'), nullable=False),
    Column('kind', String(), nullable=False),
    Column('staff_id', Integer(), ForeignKey('staff.id'), nullable=True),
    Column('at', DateTime(), nullable=False),
    Column('detail', String(), nullable=False),
    Index('ix_event_conversation_time', 'conversation_id', 'at'),
)


draft = Table(
    'draft',
    metadata,
    Column('staff_id', Integer(), ForeignKey('staff.id'), primary_key=True),
    Column('conversation_id', Integer(), ForeignKey('conversation.id'), primary_key=True),
    Column('body', Text(), nullable=False),
    Column('updated_at', DateTime(), nullable=False),
)


location = Table(
    'location',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('name', String(), nullable=False, unique=True),
)


media = Table(
    'media',
    metadata,
    Column('sid', String(), primary_key=True),
    Column('message_id', Integer(), ForeignKey('message.id', ondelete='CASCADE'), nullable=False),
    Column('position', Integer(), nullable=False),
    Column('content_type', String(), nullable=False),
    Column('size', Integer(), nullable=True),
    Column('error', String(), nullable=True),
    Index('ix_media_message', 'message_id', 'position'),
)


message = Table(
    'message',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('sid', String(), nullable=True, unique=True),
    Column('conversation_id', Integer(), ForeignKey('conversation.id'), nullable=False),
    Column('direction', String(), nullable=False),
    Column('body', Text(), nullable=False),
    Column('status', String(), nullable=False),
    Column('error_code', Integer(), nullable=True),
    Column('error_message', String(), nullable=True),
    Column('from_number', String(), nullable=False),
    Column('to_number', String(), nullable=False),
    Column('created_at', EpochMicroseconds(), nullable=False),
    Column('sent_at', DateTime(), nullable=True),
    Column('num_segments', Integer(), nullable=False),
    Column('num_media', Integer(), nullable=False),
    Column('staff_id', Integer(), ForeignKey('staff.id'), nullable=True),
    Column('automated', Boolean(), nullable=False),
    Column('send_at', DateTime(), nullable=True),
    Column('media_listed_at', DateTime(), nullable=True),
    Index('ix_message_conversation_time', 'conversation_id', 'created_at', 'id'),
    Index('ix_message_media_unlisted', 'id', sqlite_where=text('num_media > 0 AND media_listed_at IS NULL'), postgresql_where=text('num_media > 0 AND media_listed_at IS NULL')),
    Index('ix_message_outbox', 'created_at', sqlite_where=text("direction = 'outbound' AND staff_id IS NOT NULL AND status <> 'delivered' AND status <> 'read' AND status <> 'canceled' AND status <> 'received'"), postgresql_where=text("direction = 'outbound' AND staff_id IS NOT NULL AND status <> 'delivered' AND status <> 'read' AND status <> 'canceled' AND status <> 'received'")),
    Index('ix_message_scheduled', 'send_at', sqlite_where=text("status = 'scheduled'"), postgresql_where=text("status = 'scheduled'")),
    Index('ix_message_unfinished_outbound', 'id', sqlite_where=text("direction = 'outbound' AND sid IS NOT NULL AND status <> 'delivered' AND status <> 'undelivered' AND status <> 'failed' AND status <> 'received' AND status <> 'read' AND status <> 'canceled' AND status <> 'partially_delivered'"), postgresql_where=text("direction = 'outbound' AND sid IS NOT NULL AND status <> 'delivered' AND status <> 'undelivered' AND status <> 'failed' AND status <> 'received' AND status <> 'read' AND status <> 'canceled' AND status <> 'partially_delivered'")),
)


permission = Table(
    'permission',
    metadata,
    Column('name', String(), primary_key=True),
    Column('description', String(), nullable=False),
)


presence = Table(
    'presence',
    metadata,
    Column('terminal', String(), primary_key=True),
    Column('staff_id', Integer(), ForeignKey('staff.id'), nullable=False),
    Column('conversation_id', Integer(), ForeignKey('conversation.id'), nullable=False, index=True),
    Column('replying', Boolean(), nullable=False),
    Column('expires_at', DateTime(), nullable=False),
)


role = Table(
    'role',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('name', String(), nullable=False, unique=True),
)


role_permission = Table(
    'role_permission',
    metadata,
    Column('role_id', Integer(), ForeignKey('role.id', ondelete='CASCADE'), primary_key=True),
    Column('permission', String(), ForeignKey('permission.name'), primary_key=True),
)


staff = Table(
    'staff',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('username', String(), nullable=False, unique=True),
    Column('full_name', String(), nullable=False),
    Column('role_id', Integer(), ForeignKey('role.id'), nullable=False),
)


sync_state = Table(
    'sync_state',
    metadata,
    Column('name', String(), primary_key=True),
    Column('watermark', DateTime(), nullable=True),
    Column('last_sync_at', DateTime(), nullable=True),
    Column('last_error', String(), nullable=True),
    Column('paused_reason', String(), nullable=True),
    Column('lease_holder', String(), nullable=True),
    Column('lease_expires_at', DateTime(), nullable=True),
    Column('lease_generation', Integer(), nullable=False),
    Column('history_since', DateTime(), nullable=True),
    Column('history_reached', DateTime(), nullable=True),
    Column('history_messages', Integer(), nullable=False),
    Column('history_complete', Boolean(), nullable=False),
)


template = Table(
    'template',
    metadata,
    Column('id', Integer(), primary_key=True),
    Column('name', String(), nullable=False, unique=True),
    Column('body', Text(), nullable=False),
)
