"""The store: tables written as SQLModel classes (models.py, run as Core: schema.py) and a
Store API that hands out plain values."""

from __future__ import annotations

from msgterm.store.base import Clock, utcnow
from msgterm.store.ingest import HistoryMark, IngestStore
from msgterm.store.later import LaterStore
from msgterm.store.lease import LeaseLost, SyncStatus
from msgterm.store.media import MediaStore
from msgterm.store.search import SearchStore
from msgterm.store.sends import SendStore
from msgterm.store.usage import UsageStore


class Store(IngestStore, SendStore, LaterStore, SearchStore, UsageStore, MediaStore):
    """The whole store, for the app and the CLI: directory and conversations (directory.py,
    conversations.py), search (search.py), the sync state and lease (lease.py), ingest
    (ingest.py), sends and drafts (sends.py, drafts.py), triage and its undo (triage.py), assignment, notes, alerts and presence (team.py),
    templates, pins, snooze and scheduled sends (later.py), segments and media counted (usage.py), the files of MMS (media.py). The poller and the send pipeline see only the parts
    their protocols name (sync/ports.py)."""


def open_store(url_or_path, *, clock: Clock = utcnow, business_number: str = "", migrate: bool = True) -> Store:
    """Open (and, unless told otherwise, migrate) the store at ``url_or_path``."""
    from msgterm.store import migrate as migrations
    from msgterm.store.engine import make_engine

    engine = make_engine(url_or_path)
    if migrate and not migrations.is_current(engine):
        migrations.upgrade(engine)
    store = Store(engine, clock=clock, business_number=business_number)
    store.ensure_roles()
    return store


__all__ = ["HistoryMark", "Store", "LeaseLost", "SyncStatus", "open_store", "utcnow"]
