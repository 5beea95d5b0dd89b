"""The files of MMS messages: which ones the poller has still to list (newest first), their
types and sizes once listed, and what went wrong reading one."""

from __future__ import annotations

from sqlalchemy import func, select, update

from msgterm.domain.errors import NotFound
from msgterm.domain.provider_message import Direction, ProviderMedia
from msgterm.store.conversations import MEDIA_RECORD_FIELDS, media_t, msg_t
from msgterm.store.lease import LeaseStore
from msgterm.store.records import Attachment, MediaRecord

#: The unlisted-MMS index's condition, word for word (SQLite uses a partial index only then).
MEDIA_UNLISTED = next(index for index in msg_t.indexes if index.name == "ix_message_media_unlisted").dialect_options["sqlite"][
    "where"
]


class MediaStore(LeaseStore):
    def media_unlisted(self, limit: int) -> list[tuple[int, str]]:
        """(message id, SID) of MMS whose files are not listed yet, newest first."""
        query = (
            select(msg_t.c.id, msg_t.c.sid)
            .where(MEDIA_UNLISTED, msg_t.c.sid.is_not(None))
            .order_by(msg_t.c.id.desc())
            .limit(limit)
        )
        with self.read() as conn:
            return [(row.id, row.sid) for row in conn.execute(query)]

    def record_media(
        self,
        message_id: int,
        files: list[tuple[ProviderMedia, int | None, str | None]],
        *,
        fence: tuple[str, int] | None = None,
    ) -> int:
        """Store an MMS's files as listed — (file, size, error) each; none when Twilio has
        them no longer — and mark it listed. Returns its conversation's id."""
        with self.write() as conn:
            if fence is not None:
                self._check_fence(conn, *fence)
            conversation_id = conn.execute(select(msg_t.c.conversation_id).where(msg_t.c.id == message_id)).scalar()
            if conversation_id is None:
                raise NotFound(f"message #{message_id} does not exist")
            known = set(conn.scalars(select(media_t.c.sid).where(media_t.c.message_id == message_id)))
            rows = [
                {
                    "sid": file.sid,
                    "message_id": message_id,
                    "position": position,
                    "content_type": file.content_type,
                    "size": size,
                    "error": error,
                }
                for position, (file, size, error) in enumerate(files)
                if file.sid not in known
            ]
            if rows:
                self.bulk_insert(conn, media_t, rows)
            conn.execute(update(msg_t).where(msg_t.c.id == message_id).values(media_listed_at=self.clock()))
            self._touch(conn, [conversation_id])
        return conversation_id

    def conversation_media(self, conversation_id: int, limit: int = 50) -> tuple[list[Attachment], int]:
        """A conversation's listed files, newest first, and how many of its MMS are not
        listed yet."""
        query = (
            select(
                *(media_t.c[name] for name in MEDIA_RECORD_FIELDS),
                msg_t.c.sid.label("message_sid"),
                msg_t.c.created_at,
                msg_t.c.direction,
            )
            .select_from(media_t.join(msg_t, msg_t.c.id == media_t.c.message_id))
            .where(msg_t.c.conversation_id == conversation_id)
            .order_by(msg_t.c.created_at.desc(), msg_t.c.id.desc(), media_t.c.position)
            .limit(limit)
        )
        unlisted = select(func.count()).where(msg_t.c.conversation_id == conversation_id, MEDIA_UNLISTED)
        with self.read() as conn:
            rows = conn.execute(query).all()
            waiting = int(conn.execute(unlisted).scalar() or 0)
        files = [
            Attachment(
                MediaRecord(*row[: len(MEDIA_RECORD_FIELDS)]), row.message_sid, row.created_at, row.direction == Direction.INBOUND
            )
            for row in rows
        ]
        return files, waiting

    def message_id_for_sid(self, sid: str) -> int | None:
        with self.read() as conn:
            return conn.execute(select(msg_t.c.id).where(msg_t.c.sid == sid)).scalar()

    def note_media_read(self, media_sid: str, *, size: int | None = None, error: str | None = None) -> None:
        """What a download of one file found: its size, or why it failed (None clears an
        earlier failure); every terminal's bubble shows it."""
        values: dict[str, object] = {"error": error}
        if size is not None:
            values["size"] = size
        with self.write() as conn:
            message_id = conn.execute(
                update(media_t).where(media_t.c.sid == media_sid).values(**values).returning(media_t.c.message_id)
            ).scalar()
            if message_id is not None:
                conversation_id = conn.execute(select(msg_t.c.conversation_id).where(msg_t.c.id == message_id)).scalar()
                self._touch(conn, [conversation_id])
