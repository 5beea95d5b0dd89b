"""A message as the provider's log reports it, independent of any provider library."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Direction(StrEnum):
    """Which way a message went (Twilio's outbound-api, -reply and -call are all outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Status(StrEnum):
    """A message's status: Twilio's words, and two of ours (``sending`` before Twilio
    answered, ``unconfirmed`` when we could not tell whether it took the message). A status
    Twilio adds later is kept as the string it sends."""

    SENDING = "sending"
    UNCONFIRMED = "unconfirmed"
    QUEUED = "queued"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    RECEIVED = "received"
    READ = "read"
    CANCELED = "canceled"
    PARTIALLY_DELIVERED = "partially_delivered"


FINAL_STATUSES = frozenset(
    {
        Status.DELIVERED,
        Status.UNDELIVERED,
        Status.FAILED,
        Status.RECEIVED,
        Status.READ,
        Status.CANCELED,
        Status.PARTIALLY_DELIVERED,
    }
)

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})


@dataclass(frozen=True, slots=True)
class ProviderMessage:
    sid: str
    direction: Direction
    from_number: str
    to_number: str
    body: str
    status: str
    created_at: datetime  # naive UTC
    sent_at: datetime | None = None  # naive UTC; None while queued
    num_segments: int = 1
    num_media: int = 0
    error_code: int | None = None
    error_message: str | None = None

    @property
    def when(self) -> datetime:
        """The time Twilio orders its log by: when it was sent (received), else created."""
        return self.sent_at or self.created_at

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def client_number(self) -> str:
        return self.from_number if self.direction == Direction.INBOUND else self.to_number


def opt_keyword(body: str) -> str | None:
    """'out' or 'in' when a client's text is an opt-out or opt-in keyword, else None."""
    word = body.strip().strip(".!").upper()
    if word in OPT_OUT_KEYWORDS:
        return "out"
    if word in OPT_IN_KEYWORDS:
        return "in"
    return None


@dataclass(frozen=True)
class ProviderMedia:
    """One file of an MMS, as the provider lists it (Twilio's Media subresource)."""

    sid: str
    message_sid: str
    content_type: str
