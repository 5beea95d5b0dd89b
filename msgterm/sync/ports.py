"""What sync and sending need of the store, and nothing more: the poller and the send
pipeline are written against these protocols, not against the whole ``Store`` (which
satisfies both; mypy checks it where the app and the CLI hand it over)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from msgterm.domain.permissions import StaffMember
from msgterm.domain.provider_message import ProviderMedia, ProviderMessage, Status
from msgterm.store.ingest import HistoryMark
from msgterm.store.lease import SyncStatus
from msgterm.store.records import ConversationRecord, IngestResult, MessageRecord


class SendLedger(Protocol):
    """The send pipeline's part of the store: a send's rows before and after the provider."""

    def conversation(self, conversation_id: int) -> ConversationRecord: ...

    def message(self, message_id: int) -> MessageRecord: ...

    def opted_out_phone(self, phone: str) -> bool: ...

    def begin_send(self, staff: StaffMember, conversation_id: int, body: str) -> MessageRecord: ...

    def restart_send(self, staff: StaffMember, message_id: int) -> MessageRecord: ...

    def finish_send(self, staff: StaffMember, message_id: int, accepted: ProviderMessage) -> MessageRecord: ...

    def fail_send(
        self, message_id: int, code: int | None, text: str, status: str = Status.FAILED, *, fence: tuple[str, int] | None = None
    ) -> MessageRecord: ...

    def record_opt_out(self, conversation_id: int, detail: str) -> None: ...

    def staff_member(self, username: str) -> StaffMember: ...

    def client_numbers(self, client_pk: int) -> tuple[str, ...]: ...

    def schedule_send(self, staff: StaffMember, conversation_id: int, body: str, send_at: datetime) -> MessageRecord: ...


class SyncLedger(SendLedger, Protocol):
    """The poller's part of the store: the lease, the watermark, ingest, the sends it
    reconciles, and what it does at a time (scheduled sends, the end of snoozes)."""

    clock: Callable[[], datetime]

    def sync_status(self) -> SyncStatus: ...

    def acquire_lease(
        self, holder: str, ttl: timedelta, *, holder_is_gone: Callable[[str], bool] | None = None
    ) -> int | None: ...

    def renew_lease(self, holder: str, generation: int, ttl: timedelta) -> None: ...

    def release_lease(self, holder: str) -> None: ...

    def record_sync_outcome(
        self, *, error: str | None = None, paused: str | None = None, fence: tuple[str, int] | None = None
    ) -> None: ...

    def ingest(
        self,
        batch: list[ProviderMessage],
        *,
        watermark: datetime | None = None,
        history: HistoryMark | None = None,
        fence: tuple[str, int] | None = None,
    ) -> IngestResult: ...

    def unfinished_outbound(self, limit: int = ..., younger_than: timedelta = ...) -> list[MessageRecord]: ...

    def unsent_messages(self) -> list[MessageRecord]: ...

    def fail_send(
        self, message_id: int, code: int | None, text: str, status: str = Status.FAILED, *, fence: tuple[str, int] | None = None
    ) -> MessageRecord: ...

    def due_scheduled(self, limit: int = ...) -> list[MessageRecord]: ...

    def claim_scheduled(self, message_id: int, *, fence: tuple[str, int] | None) -> MessageRecord | None: ...

    def end_due_snoozes(self, *, fence: tuple[str, int] | None = None) -> list[int]: ...

    def media_unlisted(self, limit: int) -> list[tuple[int, str]]: ...

    def record_media(
        self,
        message_id: int,
        files: list[tuple[ProviderMedia, int | None, str | None]],
        *,
        fence: tuple[str, int] | None = None,
    ) -> int: ...
