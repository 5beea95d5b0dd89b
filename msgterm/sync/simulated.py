"""A simulated provider for ``msgterm demo``: clients reply to staff and text in now and then."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta

from msgterm.domain.provider_message import Direction, ProviderMedia, ProviderMessage, Status
from msgterm.sync.provider import Rejected

REPLIES = (
    "Thanks so much!",
    "Perfect, see you then",
    "Great, thank you 🙏",
    "Ok sounds good",
    "Could we do a bit later instead?",
    "👍",
    "Amazing, thanks for sorting that out",
)
WALK_INS = (
    "Hi! Is the {cls} class still on tonight?",
    "Running 5 min late, please hold my spot",
    "Can I bring a friend to {cls} on Saturday?",
    "Do you sell grip socks at the front desk?",
    "What time does the studio open tomorrow?",
    "STOP",
)
CLASSES = ("Vinyasa Flow", "Spin", "Barre", "Hot Yoga")


def _png(width: int, height: int, colour: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """A PNG drawn by ``colour(x, y)``: the demo's photos, made here, not shipped."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(v for x in range(width) for v in colour(x, y)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _card(x: int, y: int) -> tuple[int, int, int]:
    if 12 <= y <= 30 and 16 <= x <= 220:
        return (250, 250, 250)  # the name band
    if 110 <= y <= 128 and 16 <= x < 200 and (x // 6) % 2:
        return (20, 20, 20)  # the barcode
    return (30 + x // 3, 90 + y // 3, 160)


#: The demo's MMS files by SID (content type, bytes): build_demo stores MMS that list them.
DEMO_MEDIA: dict[str, tuple[str, Callable[[], bytes]]] = {
    "ME0de0000000000000000000000000card": ("image/png", lambda: _png(240, 150, _card)),
    "ME0de00000000000000000000000000mat": ("image/png", lambda: _png(160, 120, lambda x, y: (120 + x // 2, 60, 90 + y))),
    "ME0de0000000000000000000000receipt": ("application/pdf", lambda: b"%PDF-1.4\n% msgterm demo receipt\n%%EOF\n"),
}


class SimulatedProvider:
    """An in-memory Twilio: a message log, replies a little after staff send, walk-in texts.

    ``clients`` gives the numbers that may text in. Time comes from ``clock`` so tests can
    drive it; replies become visible once their time has come.
    """

    def __init__(
        self,
        business_number: str,
        clients: Callable[[], list[str]],
        *,
        clock: Callable[[], datetime],
        seed: int = 1,
        reply_after: timedelta = timedelta(seconds=6),
        walk_in_every: timedelta = timedelta(seconds=45),
    ) -> None:
        self.business_number = business_number
        self.clients = clients
        self.clock = clock
        self.rng = random.Random(seed)
        self.reply_after = reply_after
        self.walk_in_every = walk_in_every
        self._log: list[ProviderMessage] = []
        self._pending: list[ProviderMessage] = []
        self._next_walk_in = clock() + walk_in_every
        self._lock = threading.Lock()

    def _sid(self) -> str:
        # SIDs must be unique across runs on the same demo store, so not from the seeded rng.
        return "SM" + uuid.uuid4().hex

    def _advance(self) -> None:
        now = self.clock()
        due = [m for m in self._pending if m.created_at <= now]
        self._pending = [m for m in self._pending if m.created_at > now]
        self._log.extend(due)
        if now >= self._next_walk_in:
            numbers = self.clients()
            if numbers:
                body = self.rng.choice(WALK_INS).format(cls=self.rng.choice(CLASSES))
                self._log.append(
                    ProviderMessage(
                        self._sid(),
                        Direction.INBOUND,
                        self.rng.choice(numbers),
                        self.business_number,
                        body,
                        Status.RECEIVED,
                        now,
                        now,
                    )
                )
            self._next_walk_in = now + self.walk_in_every * self.rng.uniform(0.6, 1.4)

    def receive(self, from_number: str, body: str) -> ProviderMessage:
        """A client texts in now (used by tests and to script the demo)."""
        now = self.clock()
        with self._lock:
            message = ProviderMessage(
                self._sid(), Direction.INBOUND, from_number, self.business_number, body, Status.RECEIVED, now, now
            )
            self._log.append(message)
        return message

    def list_messages(
        self, *, sent_after: date | None = None, sent_before: date | None = None, sent_on: date | None = None
    ) -> Iterator[list[ProviderMessage]]:
        with self._lock:
            self._advance()
            page = [
                m
                for m in self._log
                if m.sent_at is not None
                and (sent_after is None or m.sent_at.date() >= sent_after)
                and (sent_before is None or m.sent_at.date() <= sent_before)
                and (sent_on is None or m.sent_at.date() == sent_on)
            ]
        yield sorted(page, key=lambda m: (m.when, m.sid), reverse=True)

    def recent_to(self, number: str, limit: int = 50) -> list[ProviderMessage]:
        with self._lock:
            return [m for m in reversed(self._log) if m.to_number == number][:limit]

    def fetch_message(self, sid: str) -> ProviderMessage:
        with self._lock:
            self._advance()
            for index, message in enumerate(self._log):
                if message.sid == sid:
                    if message.status in (Status.QUEUED, Status.SENT):
                        message = replace(message, status=Status.DELIVERED, sent_at=message.sent_at or self.clock())
                        self._log[index] = message
                    return message
        raise Rejected(f"no message {sid}", status=404, code=20404)

    def list_media(self, message_sid: str) -> list[ProviderMedia]:
        return []  # the simulated clients text in words; the demo's MMS come listed (build_demo)

    def fetch_media(self, media: ProviderMedia) -> bytes:
        if media.sid not in DEMO_MEDIA:
            raise Rejected(f"The requested resource {media.sid} was not found", status=404, code=20404)
        return DEMO_MEDIA[media.sid][1]()

    def media_size(self, media: ProviderMedia) -> int | None:
        return len(self.fetch_media(media))

    def send_message(self, to: str, body: str) -> ProviderMessage:
        now = self.clock()
        with self._lock:
            message = ProviderMessage(self._sid(), Direction.OUTBOUND, self.business_number, to, body, Status.QUEUED, now, None)
            self._log.append(message)
            reply_at = now + self.reply_after * self.rng.uniform(0.5, 1.5)
            reply = self.rng.choice(REPLIES)
            self._pending.append(
                ProviderMessage(
                    self._sid(), Direction.INBOUND, to, self.business_number, reply, Status.RECEIVED, reply_at, reply_at
                )
            )
        return message
