"""What the main screen's list shows, read from the store on a worker thread: the folder
counts, the first pages (or a search's first hits), and this staff member's drafts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from msgterm.domain.errors import NotFound
from msgterm.domain.folders import FolderView
from msgterm.domain.permissions import StaffMember
from msgterm.domain.search_query import SearchQuery
from msgterm.store import Store
from msgterm.store.records import ConversationRecord, Filters
from msgterm.store.search import SearchResults
from msgterm.widgets.conversation_list import PAGE

#: Search hits read per page (the first page is what the user waits for).
SEARCH_PAGE = 50
#: How many pages of the list are read to find the conversation that stays selected.
KEEP_WITHIN_PAGES = 5


@dataclass(frozen=True)
class Listing:
    counts: dict[FolderView, int]
    #: Reads a page of rows (offset, limit), on a worker.
    source: Callable[[int, int], list[ConversationRecord]]
    #: How many rows; None for a search (known as it is paged).
    count: int | None
    pages: dict[int, list[ConversationRecord]]
    page_size: int
    drafts: frozenset[int]
    #: Where the change log ended before the first read (None on later reads).
    change_seq: int | None = None
    #: The search's results, for "select all" (None for a folder).
    results: SearchResults | None = None
    #: The conversation to keep under the cursor, read anew, when the rows no longer have it
    #: (it left the folder: read, archived here or in another terminal); the list pins it.
    kept: ConversationRecord | None = None
    #: Where the alerts ended before the first read (None on later reads).
    alert_seq: int | None = None


def with_failure_marks(store: Store, rows: list[ConversationRecord]) -> list[ConversationRecord]:
    """The rows, those with a failed send marked (one small query a page, through the
    Outbox's index)."""
    from dataclasses import replace

    failed = store.failed_among([row.id for row in rows])
    return [replace(row, send_failed=True) if row.id in failed else row for row in rows]


def _outbox_listing(store: Store, filters: Filters, counts, drafts, change_seq, alert_seq) -> Listing:
    """The Outbox: its rows say the state of the message that put them there, and why."""
    from dataclasses import replace

    from msgterm.domain.provider_message import Direction
    from msgterm.widgets.thread_view import status_words

    count = counts[FolderView.OUTBOX]

    def source(offset: int, limit: int) -> list[ConversationRecord]:
        rows = store.conversations(FolderView.OUTBOX, filters, offset=offset, limit=limit, total=count)
        reasons = store.outbox_reasons([row.id for row in rows])
        return [
            replace(row, last_preview=status_words(reasons[row.id]), last_direction=Direction.OUTBOUND)
            if row.id in reasons
            else row
            for row in rows
        ]

    return Listing(counts, source, count, {0: source(0, PAGE)}, PAGE, drafts, change_seq, alert_seq=alert_seq)


def read_listing(
    store: Store,
    staff: StaffMember,
    view: FolderView,
    filters: Filters,
    search: SearchQuery | None,
    keep_id: int | None,
    *,
    first: bool,
) -> Listing:
    """The list's contents. On the first read, the change log's end is read before the
    rest, so that the change watcher misses nothing that comes after."""
    change_seq = store.change_seq() if first else None
    alert_seq = store.alert_seq() if first else None
    counts = store.folder_counts(filters)  # one query gives the sidebar and the list length
    drafts = store.draft_ids(staff)
    if search is not None:
        results = SearchResults(store, search, view, filters, page_size=SEARCH_PAGE)
        first_page = {0: results.rows(0, SEARCH_PAGE)}
        return Listing(counts, results.rows, None, first_page, SEARCH_PAGE, drafts, change_seq, results, alert_seq=alert_seq)
    count = counts[view]
    if view is FolderView.OUTBOX:
        return _outbox_listing(store, filters, counts, drafts, change_seq, alert_seq)
    # Pinned conversations head the view: a front desk pins a handful, read whole through
    # their own index.
    any_pinned = bool(store.pinned_ids())  # mostly none: then each page is the plain query
    pinned = store.conversations(view, filters, limit=count, pinned=True) if any_pinned else []
    rest = count - len(pinned)

    def source(offset: int, limit: int) -> list[ConversationRecord]:
        head = pinned[offset : offset + limit]
        wanted = limit - len(head)
        start = max(0, offset - len(pinned))
        rows = head + (
            store.conversations(view, filters, offset=start, limit=wanted, total=rest, pinned=False if any_pinned else None)
            if wanted > 0
            else []
        )
        return with_failure_marks(store, rows)

    pages = {0: source(0, PAGE)}
    # Where the kept conversation is, within a few pages (a busy list moves it down).
    while keep_id is not None and len(pages) < KEEP_WITHIN_PAGES:
        last = pages[len(pages) - 1]
        if len(last) < PAGE or any(row.id == keep_id for row in last):
            break
        pages[len(pages)] = source(len(pages) * PAGE, PAGE)
    kept = None
    if keep_id is not None and not any(row.id == keep_id for rows in pages.values() for row in rows):
        try:
            kept = store.conversation(keep_id)
        except NotFound:
            kept = None  # gone from the store
    return Listing(counts, source, count, pages, PAGE, drafts, change_seq, kept=kept, alert_seq=alert_seq)
