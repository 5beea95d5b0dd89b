"""``msgterm export --json``: the contact history as JSON lines (PRODUCT.md §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC

from msgterm.store import Store


def export_lines(store: Store, client_pk: int | None = None) -> Iterator[str]:
    for entry in store.history(client_pk):
        record = {
            "kind": "message" if entry.message else "event",
            "at": entry.at.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
            "client_id": entry.client_ref,
            "phone": entry.phone,
        }
        if entry.message:
            message = entry.message
            record.update(
                sid=message.sid,
                direction="inbound" if message.inbound else "outbound",
                body=message.body,
                status=message.status,
                staff=message.staff_username,
            )
        else:
            record.update(event=entry.event.kind, staff=entry.event.staff_username)
        yield json.dumps(record, ensure_ascii=False)
