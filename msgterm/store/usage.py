"""What was sent and received, in segments and media: the SMS credit bill, per month and per
client. "Sent" counts outbound messages Twilio accepted (they have a SID: ours and another
system's); scheduled, canceled and refused ones cost nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select

from msgterm.domain.provider_message import Direction
from msgterm.store.conversations import ConversationStore, conv_t, msg_t


@dataclass(frozen=True)
class Usage:
    sent_messages: int = 0
    sent_segments: int = 0
    sent_media: int = 0
    received_messages: int = 0
    received_segments: int = 0
    received_media: int = 0


def _sums(query):
    sent = and_(msg_t.c.direction == Direction.OUTBOUND, msg_t.c.sid.is_not(None))
    received = msg_t.c.direction == Direction.INBOUND
    return query.add_columns(
        *(
            func.coalesce(func.sum(case((condition, value), else_=0)), 0)
            for condition in (sent, received)
            for value in (1, msg_t.c.num_segments, msg_t.c.num_media)
        )
    )


def _usage(row) -> Usage:
    return Usage(*(int(value) for value in row[-6:]))


class UsageStore(ConversationStore):
    def usage(self, since: datetime, until: datetime) -> Usage:
        """Messages, segments and media sent and received from ``since`` to ``until`` (UTC)."""
        query = _sums(select().select_from(msg_t)).where(msg_t.c.created_at >= since, msg_t.c.created_at < until)
        with self.read() as conn:
            return _usage(conn.execute(query).one())

    def usage_by_client(self) -> list[tuple[str | None, str | None, Usage]]:
        """(client ID, None, usage) of every client with messages, by client ID, then (None,
        number, usage) of every unknown sender."""
        from msgterm.store.directory import client_t

        unknown_phone = case((conv_t.c.client_id.is_(None), conv_t.c.phone), else_=None)
        query = _sums(
            select(client_t.c.client_id, unknown_phone).select_from(
                msg_t.join(conv_t, conv_t.c.id == msg_t.c.conversation_id).outerjoin(
                    client_t, client_t.c.id == conv_t.c.client_id
                )
            )
        ).group_by(client_t.c.client_id, unknown_phone)
        with self.read() as conn:
            rows = conn.execute(query).all()
        return sorted(((r[0], r[1], _usage(r)) for r in rows), key=lambda item: (item[0] is None, item[0] or "", item[1] or ""))

    def client_usage(self, client_pk: int | None = None, conversation_id: int | None = None) -> Usage:
        """Everything sent to and received from one client (or one unknown sender's conversation)."""
        query = _sums(select().select_from(msg_t.join(conv_t, conv_t.c.id == msg_t.c.conversation_id)))
        query = (
            query.where(conv_t.c.client_id == client_pk) if client_pk is not None else query.where(conv_t.c.id == conversation_id)
        )
        with self.read() as conn:
            return _usage(conn.execute(query).one())
