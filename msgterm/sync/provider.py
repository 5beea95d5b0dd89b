"""What msgterm needs from an SMS provider, and the faults a provider can report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Protocol

from msgterm.domain.provider_message import ProviderMedia, ProviderMessage


class ProviderError(Exception):
    """A provider call failed. ``str()`` is safe to show (no credentials)."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthFailed(ProviderError):
    """The credentials were refused (401 / 20003): sync pauses until they are fixed."""


class RateLimited(ProviderError):
    """HTTP 429: wait ``retry_after`` seconds when the provider said how long, else back off."""

    def __init__(self, message: str, retry_after: float | None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransientError(ProviderError):
    """5xx, timeouts, lost connections: back off and try again."""


class Rejected(ProviderError):
    """The provider refused this request for a reason of its own (bad number, opted out…)."""


class Provider(Protocol):
    """An SMS provider's message log and outbox."""

    def list_messages(
        self, *, sent_after: date | None = None, sent_before: date | None = None, sent_on: date | None = None
    ) -> Iterator[list[ProviderMessage]]:
        """Pages of the business numbers' messages (inbound and outbound), newest first by
        ``ProviderMessage.when``, sent on or after ``sent_after``, on or before
        ``sent_before``, or on ``sent_on`` (UTC days, as Twilio's DateSent filters).

        Pages are read as they are consumed, so a caller can store each before the next is
        asked for. Malformed records are logged and skipped, never raised.
        """

    def recent_to(self, number: str, limit: int = 50) -> list[ProviderMessage]:
        """The newest messages to ``number`` whatever their status (queued ones included)."""

    def fetch_message(self, sid: str) -> ProviderMessage:
        """One message by SID, for refreshing its status."""

    def send_message(self, to: str, body: str) -> ProviderMessage:
        """Send ``body`` to ``to``; the returned message carries the SID and first status."""

    def list_media(self, message_sid: str) -> list[ProviderMedia]:
        """The files of an MMS (none for an SMS)."""

    def fetch_media(self, media: ProviderMedia) -> bytes:
        """One file's content, with the account's credentials (Twilio redirects to its store)."""

    def media_size(self, media: ProviderMedia) -> int | None:
        """One file's length in bytes without downloading it, or None if nobody says."""
