"""``msgterm export --json``: the contact history as JSON lines (PRODUCT.md §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC

from msgterm.domain.provider_message import Direction
from msgterm.store import Store
from msgterm.store.usage import Usage

#: Characters a JSON encoder may leave raw that a terminal would act on (C1 controls, bidi
#: overrides, line separators) or that cannot be encoded (lone surrogates): written as \u
#: escapes, so the export stays exact, valid JSON and safe to print.
_TERMINAL_UNSAFE = {
    code: f"\\u{code:04x}"
    for code in (
        *range(0x7F, 0xA0),
        *range(0xD800, 0xE000),
        0x061C,
        0x200E,
        0x200F,
        *range(0x2028, 0x202F),
        *range(0x2066, 0x206A),
    )
}


def export_lines(store: Store, client_pk: int | None = None) -> Iterator[str]:
    for entry in store.history(client_pk):
        record: dict[str, object] = {
            "kind": ("note" if entry.message.note else "message") if entry.message else "event",
            "at": entry.at.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
            "client_id": entry.client_ref,
            "phone": entry.phone,
        }
        if entry.message and entry.message.note:
            record.update(body=entry.message.body, staff=entry.message.staff_username)
        elif entry.message:
            message = entry.message
            record.update(
                sid=message.sid,
                direction=Direction.INBOUND if message.inbound else Direction.OUTBOUND,
                body=message.body,
                status=message.status,
                staff=message.staff_username,
            )
            if message.media:
                record["media"] = [{"sid": f.sid, "content_type": f.content_type, "size": f.size} for f in message.media]
            if message.status == "scheduled":
                record["send_at"] = message.send_at.isoformat() + "Z" if message.send_at else None
        elif entry.event:
            record.update(event=entry.event.kind, staff=entry.event.staff_username)
            if entry.event.kind == "undo":
                record["undid"] = entry.event.detail
            elif entry.event.kind == "assign":
                record["assignee"] = entry.event.detail or None
            elif entry.event.kind == "snooze":
                record["until"] = entry.event.detail
            elif entry.event.kind == "schedule":
                record["send_at"] = entry.event.detail
        yield json.dumps(record, ensure_ascii=False).translate(_TERMINAL_UNSAFE)
    yield from _totals(store, client_pk)


def _totals(store: Store, client_pk: int | None) -> Iterator[str]:
    """After the history, per client (or unknown sender's number): what was sent and
    received, in messages, segments and media (``"kind": "totals"``)."""
    rows: list[tuple[str | None, str | None, Usage]]
    if client_pk is not None:
        rows = [(store.client(client_pk).client_id, None, store.client_usage(client_pk))]
    else:
        rows = store.usage_by_client()
    for client_ref, phone, usage in rows:
        record: dict[str, object] = {
            "kind": "totals",
            "client_id": client_ref,
            "phone": phone,
            "sent_messages": usage.sent_messages,
            "sent_segments": usage.sent_segments,
            "sent_media": usage.sent_media,
            "received_segments": usage.received_segments,
            "received_media": usage.received_media,
        }
        yield json.dumps(record, ensure_ascii=False).translate(_TERMINAL_UNSAFE)
