"""The main screen: filter sidebar, conversation list, thread pane, status line.

Which conversation a key acts on (the target rule): the one in the thread pane while the
thread or the composer has the focus, the highlighted row while the list has it; after
``enter`` those are the same one, and the open conversation stays in its place in the
list (pinned) until the cursor leaves it, so live updates never move what the user reads.
With conversations selected (``x``, ``*``), ``a``, ``m`` and ``u`` act on all of them.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from msgterm.domain.folders import FolderView, Triage
from msgterm.domain.sanitize import clean_line
from msgterm.domain.search_query import SearchQuery, parse
from msgterm.messages import HistoryProgressed, StoreChanged, SyncStepped
from msgterm.presence import PresenceWriter
from msgterm.probe import after_paint
from msgterm.screens.keymap import main_screen_bindings
from msgterm.screens.listing import SEARCH_PAGE, Listing, read_listing
from msgterm.screens.permission_gate import PermissionGate
from msgterm.store.base import Cancel, Superseded
from msgterm.store.records import ConversationRecord, Filters, FilterValues
from msgterm.store.search import SearchResults
from msgterm.store.triage import Undoable, Undone
from msgterm.store_calls import StoreCalls
from msgterm.widgets.conversation_list import ConversationList
from msgterm.widgets.filter_sidebar import FilterSidebar
from msgterm.widgets.literal import literal
from msgterm.widgets.presence_line import PresenceLine
from msgterm.widgets.search_bar import SearchBar
from msgterm.widgets.status_line import StatusLine
from msgterm.widgets.thread_pane import ThreadPane
from msgterm.widgets.thread_view import Hit, ThreadView

if TYPE_CHECKING:
    from msgterm.app import MsgtermApp
    from msgterm.domain.permissions import StaffMember
    from msgterm.store import Store

log = logging.getLogger(__name__)

#: Messages shown when a conversation opens (a few screens full; the whole Text is laid out
#: on every change, so more costs time); older ones load on scrolling to the top.
THREAD_WINDOW = 60
#: How long the cursor rests on a conversation before the thread pane previews it.
PREVIEW_DELAY = 0.12
#: A write still waiting for the store after this long says "saving…" on its row.
SAVING_AFTER = 0.3
#: How often the screen tells the presence writer where it is (no I/O), and how many of
#: those go by between two reads of who else is at the conversation on screen (a crashed
#: terminal's presence expires, and no change says so).
PRESENCE_TICK = 0.5
PRESENCE_READ_EVERY = 10
#: Triage actions this terminal can undo, newest last.
UNDO_DEPTH = 50
#: What the notification says was done.
DONE = {
    Triage.ARCHIVE: "Archived",
    Triage.MUTE: "Muted",
    Triage.UNMUTE: "Unmuted",
    Triage.MARK_UNREAD: "Marked as unread",
    Triage.READ: "Read",
    Triage.SNOOZE: "Snoozed",
}
#: What an undo says it undid.
UNDID = {
    Triage.ARCHIVE: "the archive of",
    Triage.MUTE: "the mute of",
    Triage.UNMUTE: "the unmute of",
    Triage.MARK_UNREAD: "marking unread",
    Triage.READ: "reading",
    Triage.SNOOZE: "the snooze of",
}


@dataclass(frozen=True)
class UndoEntry:
    """One triage action of this terminal, and whom it was done to, in words."""

    undoable: Undoable
    whom: str


class MainScreen(Screen):
    """Triage: pick a folder, walk the list, read, reply, mute, mark unread, archive."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (180, "-huge")]

    BINDINGS = main_screen_bindings()

    def __init__(self) -> None:
        super().__init__()
        self.view = FolderView.UNREAD
        self.filters = Filters()
        #: The conversation opened with ``enter`` (None while browsing).
        self.open_id: int | None = None
        #: The search hit the open conversation was opened at, if any.
        self.open_hit: int | None = None
        #: The conversation last opened or acted on: it keeps its place in the list (even
        #: when it no longer belongs to the folder) until the cursor leaves it.
        self.pinned: ConversationRecord | None = None
        #: The search being shown, None when the list shows the folder.
        self.search: SearchQuery | None = None
        self._search_results: SearchResults | None = None
        #: Searches running on workers, cancelled when the user types on.
        self._searches_running: set[Cancel] = set()
        self._counts: dict[FolderView, int] = {}
        #: The text whose results are on screen (the benchmark waits for it).
        self.shown_search_text = ""
        self._to_preview: ConversationRecord | None = None
        self._preview_due = False
        #: Whether the highlighted row keeps its place when the list is read anew (not after
        #: a change of view: the old view's row does not belong in the new one).
        self._keep_in_place = False
        #: Whether a read of the list was asked for after the first one began.
        self._reload_asked = False
        #: The conversation the read on its way keeps under the cursor.
        self._keeping: int | None = None
        self.undo_stack: list[UndoEntry] = []
        #: Every store call of this screen runs on a worker thread (store_calls.py).
        self.calls = StoreCalls(self)
        self.presence = PresenceWriter(self.store, self.staff, self.msgterm.terminal)
        self.gate = PermissionGate(self.staff, lambda words: self.notify(words, severity="warning", markup=False))
        self._painted = False
        #: The first read starts now, on a thread of its own, while the widgets are made.
        self._first_read: Future = Future()
        threading.Thread(target=self._read_first, args=(self.store, self.staff), name="first-read", daemon=True).start()

    def _read_first(self, store: Store, staff: StaffMember) -> None:
        try:
            listing = read_listing(store, staff, self.view, self.filters, None, None, first=True)
            self._first_read.set_result((listing, store.filter_values()))
        except BaseException as error:  # noqa: BLE001 - shown on the screen when it is mounted
            self._first_read.set_exception(error)

    def _first_read_arrived(self, future: Future) -> None:
        if threading.current_thread() is threading.main_thread():
            self.call_later(self._show_first_read, future)
        else:
            self.app.call_from_thread(self._show_first_read, future)

    def _show_first_read(self, future: Future) -> None:
        try:
            listing, values = future.result()
        except Exception as error:  # noqa: BLE001 - the store could not be read: say so, keep running
            log.error("the first read of the store failed", exc_info=error)
            self.notify(f"cannot read the store: {type(error).__name__}: {error}", severity="error", markup=False)
            return
        self.query_one(FilterSidebar).set_values(values)
        if self._reload_asked or self.search is not None:
            # The user moved on (a folder, a new conversation, a search) before it arrived:
            # what they asked for shows instead.
            if self.search is not None and not self._painted:
                self.msgterm.watch_from(listing.change_seq, listing.alert_seq)
                self._first_paint_done()
            return
        self._reloaded(listing, None)

    @property
    def quiet(self) -> bool:
        """Whether nothing is due: no preview waiting for the cursor to rest, no write
        waiting for the store (tests wait for this, never for a fixed time)."""
        return not self._preview_due and not self.calls.writes_pending and not self.pane.calls.writes_pending

    @property
    def ready(self) -> bool:
        """Whether the first listing is on screen (the first read runs on a thread of its own)."""
        return self._painted

    @property
    def msgterm(self) -> MsgtermApp:
        """The app, typed: what this screen takes from it (the store, the staff member, the clock)."""
        return cast("MsgtermApp", self.app)

    @property
    def store(self) -> Store:
        store = self.msgterm.store
        assert store is not None, "the main screen runs on a store"
        return store

    @property
    def staff(self) -> StaffMember:
        staff = self.msgterm.staff
        assert staff is not None, "the main screen runs for a staff member"
        return staff

    @property
    def listing(self) -> ConversationList:
        return self.query_one(ConversationList)

    @property
    def pane(self) -> ThreadPane:
        return self.query_one(ThreadPane)

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield FilterSidebar(FilterValues(), clock=self.msgterm.clock, me=self.staff.username, id="sidebar")
            with Vertical(id="list-pane"):
                yield SearchBar(id="search")
                yield Static("", id="list-header")
                yield ConversationList(clock=self.msgterm.clock, id="conversations")
            yield ThreadPane(id="thread-pane")
        who = f"{self.staff.full_name or self.staff.username} ({self.staff.role})"
        yield StatusLine(clock=self.msgterm.clock, staff=who, demo=self.msgterm.demo, id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._preview_timer = self.set_interval(PREVIEW_DELAY, self._preview, pause=True)
        self._presence_ticks = 0
        self.set_interval(PRESENCE_TICK, self._presence_tick)
        self.query_one(FilterSidebar).select_view(self.view)
        self._first_read.add_done_callback(self._first_read_arrived)
        self.listing.focus()

    # ---- reading the store -----------------------------------------------------------------

    def reload(self, keep_id: int | None = None, *, note: str | None = None) -> None:
        """Read the counts and the list's first pages on a worker, then show them, keeping
        under the cursor: ``keep_id``, else the one a read still on its way was to keep (a
        newer read replaces it), else the open conversation, else the row under the cursor."""
        if keep_id is None:
            keep_id = self._keeping
        if keep_id is None:
            keep_id = self.open_id if self.open_id is not None else (self.listing.selected.id if self.listing.selected else None)
        self._keeping = keep_id
        view, filters, search, store, staff = self.view, self.filters, self.search, self.store, self.staff
        first = not self._painted
        self._reload_asked = True

        self.calls.read(
            lambda: read_listing(store, staff, view, filters, search, keep_id, first=first),
            lambda loaded: self._reloaded(loaded, keep_id, note),
            group="reload",
        )

    def _reloaded(self, loaded: Listing, keep_id: int | None, note: str | None = None) -> None:
        self._keeping = None
        if loaded.change_seq is not None:
            self.msgterm.watch_from(loaded.change_seq, loaded.alert_seq)
        listing = self.listing
        listing.set_drafts(loaded.drafts)
        self.pane.set_draft_ids(loaded.drafts)
        self._search_results = loaded.results
        self._counts = loaded.counts
        pinned = self.pinned
        if loaded.kept is not None and keep_id is not None and self._keep_in_place:
            # The row under the cursor left the folder (here or in another terminal): it
            # stays where the user put the cursor, with its new state, until they move.
            pinned = loaded.kept
            if self.pinned is not None and self.pinned.id == loaded.kept.id:
                self.pinned = loaded.kept
        listing.load(loaded.source, loaded.count, keep_id, page_size=loaded.page_size, pages=loaded.pages, pinned=pinned)
        self._keep_in_place = True
        self._show_header()
        self.query_one(FilterSidebar).set_counts(loaded.counts)
        if note is not None:
            after_paint(self, note)  # the benchmark times this moment (probe.py)
        if not self._painted:
            self._first_paint_done()

    def _first_paint_done(self) -> None:
        self._painted = True
        after_paint(self, "first-paint")
        self.call_after_refresh(self.msgterm.start_background_work)

    def _show_header(self) -> None:
        """The list's header line: the folder or the search, and how many it holds."""
        listing = self.listing
        if self.search is None:
            words = f"{self.view.title} · {self._counts.get(self.view, listing.count)}"  # a pinned row is not counted
        else:
            more = "" if listing.complete else "+"
            words = f"Search '{clean_line(self.shown_search_text.strip())}' · {listing.count}{more} hits"
        self.query_one("#list-header", Static).update(literal(words), layout=False)  # one line high, always

    def refresh_counts(self) -> None:
        filters, store = self.filters, self.store
        self.calls.read(lambda: store.folder_counts(filters), self.query_one(FilterSidebar).set_counts, group="counts")

    def show_thread(self, conversation: ConversationRecord | None, *, keep_position: bool = False) -> None:
        """Read the thread on a worker and show it (a newer thread to show makes this one moot)."""
        pane = self.pane
        if conversation is None:
            pane.show(None, [])
            return
        store, tokens = self.store, self.search.tokens if self.search else ()

        def read():
            if conversation.hit_message_id is not None:
                return store.messages_around(conversation.id, conversation.hit_message_id)
            return store.messages(conversation.id, limit=THREAD_WINDOW)

        def show(messages) -> None:
            if conversation.hit_message_id is not None:
                more = len(messages) > 1 and messages[0].id != conversation.hit_message_id
                hit = Hit(conversation.hit_message_id, tokens)
                pane.show(conversation, messages, hit=hit, keep_position=keep_position, more_before=more)
            else:
                pane.show(conversation, messages, keep_position=keep_position, more_before=len(messages) == THREAD_WINDOW)
            self.read_presence()
            if conversation.id == self.open_id:
                after_paint(self, f"opened {conversation.id}")

        self.calls.read(read, show, group="thread")

    def on_thread_view_need_earlier(self, event: ThreadView.NeedEarlier) -> None:
        store = self.store
        self.calls.read(
            lambda: store.messages(event.conversation_id, before=event.before, limit=THREAD_WINDOW),
            lambda earlier: self.query_one(ThreadView).prepend(earlier, more_before=len(earlier) == THREAD_WINDOW),
            group="thread-earlier",
        )

    # ---- search ---------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one(SearchBar).open()

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        for running in self._searches_running.copy():
            running.cancel()  # its query stops now, not when it would have ended
        self.run_search(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, typed: str) -> None:
        """Search off the UI thread; a newer keystroke cancels this one's queries."""
        query = parse(typed, me=self.staff.username)
        store, view, filters = self.store, self.view, self.filters
        try:
            with store.cancellable() as running:
                self._searches_running.add(running)
                try:
                    results = SearchResults(store, query, view, filters, page_size=SEARCH_PAGE) if typed.strip() else None
                    first = results.rows(0, SEARCH_PAGE) if results is not None else []
                finally:
                    self._searches_running.discard(running)
        except Superseded:
            return  # a newer keystroke's search runs instead
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._search_done, typed, query, results, first)

    def _search_done(self, typed: str, query: SearchQuery, results: SearchResults | None, first: list) -> None:
        bar = self.query_one(SearchBar)
        if typed != bar.value:
            return  # the user typed on; a newer search is coming
        bar.border_subtitle = literal("; ".join(query.problems))
        self._leave_conversation()
        self.search = query if results is not None else None
        self._search_results = results
        self.shown_search_text = typed
        if results is None:
            self.reload()
        else:
            self.listing.load(results.rows, None, None, page_size=SEARCH_PAGE, pages={0: first})
            self._show_header()
        after_paint(self, f"search {typed}")

    def on_search_bar_to_results(self, _event: SearchBar.ToResults) -> None:
        self.listing.focus()

    def on_search_bar_cancelled(self, _event: SearchBar.Cancelled) -> None:
        self.end_search()

    def end_search(self) -> None:
        self.search = None
        self.shown_search_text = ""
        self._leave_conversation()
        self.reload()
        self.listing.focus()

    def on_store_changed(self, event: StoreChanged) -> None:
        if self.search is None:
            self.reload()
        else:  # search results stay as they were when typed; counts and the thread stay live
            self.refresh_counts()
        shown = self.pane.conversation
        if shown is not None and shown.id in event.conversation_ids:
            self.read_shown(keep_position=True)
            self.read_presence()

    def _presence_tick(self) -> None:
        """Say where this terminal is; now and then, read who else is at the conversation."""
        replying = self.focused is not None and self.focused.id == "reply"
        self.presence.at(self.open_id, replying=replying)
        self._presence_ticks += 1
        if self._presence_ticks % PRESENCE_READ_EVERY == 0:
            self.read_presence()

    def read_presence(self) -> None:
        """Who else (other terminals) has the conversation on screen open, or is replying."""
        shown = self.pane.conversation
        line = self.query_one(PresenceLine)
        if shown is None:
            line.show([])
            return
        store, terminal = self.store, self.msgterm.terminal

        def show(people) -> None:
            on_screen = self.pane.conversation
            line.show(people if on_screen is not None and on_screen.id == shown.id else [])

        self.calls.read(lambda: store.present(shown.id, besides=terminal), show, group="presence")

    def on_unmount(self) -> None:
        self.presence.stop()

    def on_sync_stepped(self, event: SyncStepped) -> None:
        self.query_one(StatusLine).show_outcome(event.outcome)

    def on_history_progressed(self, event: HistoryProgressed) -> None:
        self.query_one(StatusLine).show_history(event.progress)

    def on_thread_pane_drafts_changed(self, event: ThreadPane.DraftsChanged) -> None:
        self.listing.set_drafts(event.conversation_ids)

    # ---- list and thread ----------------------------------------------------------------------

    def on_conversation_list_highlighted(self, event: ConversationList.Highlighted) -> None:
        """The cursor moved. Off the open conversation, it closes (the thread pane previews
        the row under the cursor once it rests: moving stays within a frame).

        One timer, restarted on every move (a new timer per keypress costs more than the move).
        """
        conversation = event.conversation
        if conversation is None or conversation.id != self._keeping:
            self._keeping = None  # the cursor is where the user put it: a read on its way keeps that
        if conversation is not None and self.open_id == conversation.id:
            return
        if conversation is None or (self.pinned is not None and self.pinned.id != conversation.id):
            self.pinned = None
        self.open_id = None
        self._to_preview = conversation  # None when the list is empty: clear the pane
        self._preview_due = True
        self._preview_timer.reset()
        self._preview_timer.resume()

    def _preview(self) -> None:
        """Peek at the highlighted conversation: a read only, its unread state untouched."""
        self._preview_timer.pause()
        self._preview_due = False
        if self.open_id is None:
            self.show_thread(self._to_preview)

    def on_conversation_list_opened(self, event: ConversationList.Opened) -> None:
        self.open_conversation(event.conversation.id, event.conversation.hit_message_id, event.conversation)

    def open_conversation(
        self, conversation_id: int, hit_message_id: int | None = None, shown: ConversationRecord | None = None
    ) -> None:
        """Show the conversation at once (a read), then mark it read (a write, which may wait
        for the store: the thread is on screen meanwhile). The read can be undone."""
        self.open_id, self.open_hit = conversation_id, hit_message_id
        if shown is not None and shown.id == conversation_id:
            self.pinned = shown
            self.show_thread(replace(shown, hit_message_id=hit_message_id))
        else:
            self.read_shown()
        staff, store = self.staff, self.store

        def mark_read():
            undoable = store.triage(staff, Triage.READ, [conversation_id])
            return undoable, store.conversation(conversation_id), store.newest_message_id(conversation_id)

        self.calls.write(mark_read, self._marked_read)

    def _marked_read(self, opened: tuple[Undoable, ConversationRecord, int]) -> None:
        undoable, conversation, newest = opened
        if undoable.priors:
            self._remember(undoable, clean_line(conversation.title))
        if self.open_id == conversation.id:
            self.pinned = conversation
            self.pane.opened(conversation.id, newest)
        self.listing.update_row(conversation)
        if self.search is None:
            self.reload()  # keeps the row under the cursor (the opened one, unless the user moved on)
        else:
            self.refresh_counts()

    def read_shown(self, *, keep_position: bool = False) -> None:
        """Read the conversation on screen (the open one, else the one previewed) anew and show it."""
        shown = self.open_id if self.open_id is not None else (self.pane.conversation.id if self.pane.conversation else None)
        store = self.store
        if shown is None:
            return

        def show(conversation: ConversationRecord) -> None:
            on_screen = self.pane.conversation
            if self.open_id == conversation.id or (
                self.open_id is None and on_screen is not None and on_screen.id == conversation.id
            ):
                hit = self.open_hit if self.open_id == conversation.id else None
                if self.pinned is not None and self.pinned.id == conversation.id:
                    self.pinned = conversation
                self.show_thread(replace(conversation, hit_message_id=hit), keep_position=keep_position)

        self.calls.read(lambda: store.conversation(shown), show, group="open-conversation")

    def on_filter_sidebar_changed(self, event: FilterSidebar.Changed) -> None:
        self.view, self.filters = event.view, event.filters
        self._leave_conversation()
        self.reload(note="filtered")

    def _leave_conversation(self) -> None:
        """The view changes (folder, filters, search): nothing stays open or pinned, and a
        selection of the old view is dropped."""
        self.open_id = None
        self.pinned = None
        self._keep_in_place = False
        self._clear_selection()

    @property
    def current(self) -> ConversationRecord | None:
        """The conversation keys act on: the one in the thread pane while the thread or the
        composer has the focus, else the highlighted row."""
        focused = self.focused
        if focused is not None and any(node is self.pane for node in focused.ancestors_with_self):
            return self.pane.conversation
        return self.listing.selected

    # ---- actions ------------------------------------------------------------------------------

    def action_folder(self, name: str, keep_id: int | None = None) -> None:
        self.view = FolderView(name)
        self._leave_conversation()
        self.query_one(FilterSidebar).select_view(self.view)
        self.reload(keep_id)
        self.listing.focus()

    def _walk_unread(self, step: int) -> None:
        """Open the next (or previous) unread conversation after the highlighted one: the
        one just opened stays in its place, so none is skipped."""
        listing = self.listing
        index = listing.find_unread(step)
        if index is None:
            self.notify("No more unread conversations in this list.", timeout=2)
            return
        listing.cursor = index
        listing.focus()
        if listing.selected is not None:
            self.open_conversation(listing.selected.id, shown=listing.selected)

    def action_next_unread(self) -> None:
        self._walk_unread(+1)

    def action_previous_unread(self) -> None:
        self._walk_unread(-1)

    def action_reply(self) -> None:
        if self.refused("reply"):
            return
        conversation = self.current
        if conversation is None:
            return
        if self.open_id != conversation.id:
            self.open_conversation(conversation.id, shown=conversation)
        self.pane.address(conversation)  # at once: what is typed next goes to it
        self.query_one("#reply").focus()

    def action_back(self) -> None:
        if self.listing.marked:
            self._clear_selection()
            return
        if self.open_id is None and self.search is not None and self.focused is self.listing:
            self.query_one(SearchBar).action_cancel()
            return
        self.open_id = None  # the conversation stays on screen and under the cursor (pinned)
        self.listing.focus()

    def action_focus_filters(self) -> None:
        self.add_class("-filters")  # shown again on a narrow terminal, while it has the focus
        self.query_one("#folders").focus()

    def on_descendant_focus(self, event) -> None:
        if self.has_class("-filters") and not any(
            node is self.query_one(FilterSidebar) for node in event.widget.ancestors_with_self
        ):
            self.remove_class("-filters")

    # ---- triage, on one conversation or on the selection ------------------------------------

    def _targets(self) -> tuple[list[int], str, ConversationRecord | None]:
        """What a triage key acts on: the selection, else the conversation on screen; with
        the words that name it, and the one conversation (None for a selection)."""
        marked = self.listing.marked
        if marked:
            return sorted(marked), f"{len(marked)} conversation{'s' if len(marked) != 1 else ''}", None
        conversation = self.current
        if conversation is None:
            return [], "", None
        return [conversation.id], clean_line(conversation.title), conversation

    def _triage(self, decide, ids: list[int], whom: str, one: ConversationRecord | None) -> None:
        """Run a triage write on ``ids`` (``decide(store, staff, ids)`` returns its Undoable);
        say what happened to whom, offer the undo. A write that waits for the store says
        "saving…" on its row after a moment, and the keys go on meanwhile."""
        listing, staff, store = self.listing, self.staff, self.store

        def show_saving() -> None:
            for cid in ids:
                listing.set_saving(cid, True)

        saving = self.set_timer(SAVING_AFTER, show_saving)

        def write():
            undoable = decide(store, staff, ids)
            return undoable, store.conversation(one.id) if one is not None else None

        def stored(result: tuple[Undoable, ConversationRecord | None]) -> None:
            undoable, fresh = result
            self._remember(undoable, whom)
            undo = " · z to undo" if undoable.priors else " (nothing to change)"
            self.notify(f"{DONE[undoable.action]} {whom}{undo}", timeout=3, markup=False)
            if fresh is not None:
                if listing.selected is not None and listing.selected.id == fresh.id:
                    self.pinned = fresh  # still under the cursor: it keeps its place, with its new state
                listing.update_row(fresh)
            self._clear_selection()
            self.reload()  # the row under the cursor stays there, whichever it is now
            self.read_shown(keep_position=True)

        def finished() -> None:
            saving.stop()
            for cid in ids:
                listing.set_saving(cid, False)

        self.calls.write(write, stored, finally_=finished)

    def _remember(self, undoable: Undoable, whom: str) -> None:
        if undoable.priors:
            self.undo_stack.append(UndoEntry(undoable, whom))
            del self.undo_stack[:-UNDO_DEPTH]

    def action_toggle_mute(self) -> None:
        if self.refused("toggle_mute"):
            return
        ids, whom, one = self._targets()
        if not ids:
            return
        if one is not None:
            action = Triage.UNMUTE if one.muted else Triage.MUTE
            self._triage(lambda store, staff, ids: store.triage(staff, action, ids), ids, whom, one)
            return

        def mute_or_unmute(store, staff, ids):
            """Mute them all; when every one was muted already, unmute them all."""
            muted = store.triage(staff, Triage.MUTE, ids)
            return muted if muted.priors else store.triage(staff, Triage.UNMUTE, ids)

        self._triage(mute_or_unmute, ids, whom, None)

    def action_mark_unread(self) -> None:
        self._move_to_folder("mark_unread", Triage.MARK_UNREAD)

    def action_archive(self) -> None:
        self._move_to_folder("archive", Triage.ARCHIVE)

    def _move_to_folder(self, gate: str, action: Triage) -> None:
        """Archive or mark unread what the key acts on; the conversation no longer counts as
        open (it keeps its place in the list until the cursor moves)."""
        if self.refused(gate):
            return
        ids, whom, one = self._targets()
        if ids:
            self._triage(lambda store, staff, ids: store.triage(staff, action, ids), ids, whom, one)
            self.open_id = None

    def action_undo(self) -> None:
        """Undo this terminal's last triage action (sends are never undone)."""
        if self.refused("undo"):
            return
        if not self.undo_stack:
            self.notify("Nothing to undo.", timeout=2)
            return
        entry = self.undo_stack.pop()
        staff, store = self.staff, self.store

        def undone(result: Undone) -> None:
            words = f"Undid {UNDID[result.action]} {entry.whom}"
            if result.kept_new:
                n = len(result.kept_new)
                words += f". {n} got a new message since: left where the new message put {'it' if n == 1 else 'them'}"
            self.notify(words + ".", timeout=4, markup=False)
            self.reload()
            self.read_shown(keep_position=True)

        def failed(error) -> None:
            self.undo_stack.append(entry)  # not undone: it can be tried again
            self.notify(str(error), severity="error", markup=False)

        self.calls.write(lambda: store.undo(staff, entry.undoable), undone, failed=failed)

    # ---- selection ----------------------------------------------------------------------------

    def action_toggle_select(self) -> None:
        self.listing.toggle_mark()
        self._show_selection()

    def action_select_all(self) -> None:
        """Select every conversation of the view: folder, sidebar filters and search together."""
        view, filters, store, results = self.view, self.filters, self.store, self._search_results
        if self.search is not None and results is not None:
            self.calls.read(results.conversation_ids, self._selected_all, group="select-all")
        else:
            self.calls.read(lambda: store.conversation_ids(view, filters), self._selected_all, group="select-all")

    def _selected_all(self, ids: list[int]) -> None:
        self.listing.mark(ids)
        self._show_selection()

    def action_clear_selection(self) -> None:
        self._clear_selection()

    def _clear_selection(self) -> None:
        if self.listing.marked:
            self.listing.clear_marks()
        self._show_selection()

    def _show_selection(self) -> None:
        self.query_one(StatusLine).show_selection(len(self.listing.marked))

    # ---- modals ---------------------------------------------------------------------------------

    def action_options(self) -> None:
        from msgterm.screens.options_menu import OptionsMenu

        conversation = self.current
        if conversation is None:
            return

        def chosen(choice: str | None) -> None:
            {
                "mute": self.action_toggle_mute,
                "unread": self.action_mark_unread,
                "archive": self.action_archive,
                "link": self.action_link_client,
            }.get(choice or "", lambda: None)()

        self.app.push_screen(OptionsMenu(conversation, can_act=self.staff.can_send), chosen)

    def action_history(self) -> None:
        from msgterm.screens.contact_history import ContactHistory

        conversation = self.current
        if conversation is not None:
            self.app.push_screen(ContactHistory(self.store, conversation))

    def action_new_conversation(self) -> None:
        from msgterm.screens.new_conversation import NewConversation

        if self.refused("new_conversation"):
            return

        staff, store = self.staff, self.store

        def started(conversation: ConversationRecord) -> None:
            self.action_folder("all", keep_id=conversation.id)
            self.open_conversation(conversation.id, shown=conversation)
            self.query_one("#reply").focus()

        def picked(client_pk: int | None) -> None:
            if client_pk is not None:
                self.calls.write(lambda: store.start_conversation(staff, client_pk), started)

        self.app.push_screen(NewConversation(self.store), picked)

    def action_link_client(self) -> None:
        """Tie the unknown sender on screen to a client of the directory."""
        from msgterm.domain.phones import format_number
        from msgterm.screens.new_conversation import NewConversation

        if self.refused("link_client"):
            return
        conversation = self.current
        if conversation is None:
            return
        number = format_number(conversation.phone)
        if conversation.client_id is not None:
            self.notify(f"{number} is {clean_line(conversation.title)}'s already.", timeout=3, markup=False)
            return
        store, staff = self.store, self.staff

        def linked(fresh: ConversationRecord) -> None:
            self.notify(f"Linked {number} to {clean_line(fresh.title)}", timeout=3, markup=False)
            self.reload()
            self.read_shown(keep_position=True)

        def picked(client_pk: int | None) -> None:
            if client_pk is not None:
                self.calls.write(lambda: store.link_client(staff, conversation.id, client_pk), linked)

        heading = f"Link {number} to a client — name, phone, email, UID or client ID"
        self.app.push_screen(NewConversation(store, heading, need_mobile=False), picked)

    def action_assign(self) -> None:
        """Assign what the key acts on (the selection, else the conversation on screen)."""
        from msgterm.screens.staff_picker import Picked, StaffPicker

        if self.refused("assign"):
            return
        ids, whom, one = self._targets()
        if not ids:
            return
        store, staff = self.store, self.staff

        def picked(choice: Picked | None) -> None:
            if choice is None:
                return
            to = choice.staff
            words = f"Assigned {whom} to {clean_line(to.full_name or to.username)}" if to else f"Unassigned {whom}"

            def stored(changed: int) -> None:
                self.notify(words if changed else f"{words} (nothing to change)", timeout=3, markup=False)
                self._clear_selection()
                self.reload()
                self.read_shown(keep_position=True)

            self.calls.write(lambda: store.assign(staff, ids, to), stored)

        current = one.assignee_id if one is not None else None

        def pick(people) -> None:
            self.app.push_screen(StaffPicker(whom, people, current), picked)

        self.calls.read(store.list_staff, pick, group="staff")

    def action_add_note(self) -> None:
        """Write an internal note on the conversation on screen."""
        from msgterm.screens.note_editor import NoteEditor

        if self.refused("add_note"):
            return
        conversation = self.current
        if conversation is None:
            return
        store, staff = self.store, self.staff

        def written(body: str | None) -> None:
            if body is not None:
                self.calls.write(
                    lambda: store.add_note(staff, conversation.id, body),
                    lambda _id: self.notify("Note added (the client does not see it)", timeout=3),
                )

        self.app.push_screen(NoteEditor(clean_line(conversation.title)), written)

    def action_snooze(self) -> None:
        """Snooze what the key acts on until a preset or typed time: it leaves its folder for
        Snoozed, and the lease holder brings it back to Unread then (undoable with z)."""
        from msgterm.domain.when import snooze_presets
        from msgterm.screens.when_picker import WhenPicker

        if self.refused("snooze"):
            return
        ids, whom, one = self._targets()
        if not ids:
            return
        timing, now = self.msgterm.timing, self.msgterm.clock()

        def chosen(until) -> None:
            if until is not None:
                self._triage(lambda store, staff, ids: store.triage(staff, Triage.SNOOZE, ids, until=until), ids, whom, one)
                self.open_id = None

        self.app.push_screen(WhenPicker(f"Snooze {whom} until…", snooze_presets(now, timing.zone), now, timing.zone), chosen)

    def action_toggle_pin(self) -> None:
        """Pin or unpin what the key acts on, for the whole front desk; a selection is
        pinned, or unpinned when all of it was pinned already."""
        if self.refused("toggle_pin"):
            return
        ids, whom, one = self._targets()
        if not ids:
            return
        store, staff = self.store, self.staff

        def write() -> tuple[bool, int]:
            if one is not None:
                pin = not store.conversation(one.id).pinned
                return pin, store.set_pinned(staff, ids, pin)
            changed = store.set_pinned(staff, ids, True)
            return (True, changed) if changed else (False, store.set_pinned(staff, ids, False))

        def stored(result: tuple[bool, int]) -> None:
            pinned, changed = result
            words = f"{'Pinned' if pinned else 'Unpinned'} {whom}"
            self.notify(words if changed else f"{words} (nothing to change)", timeout=3, markup=False)
            self._clear_selection()
            self.reload()
            self.read_shown(keep_position=True)

        self.calls.write(write, stored)

    def _in_composer(self, then) -> None:
        """Write to the conversation on screen (as r does: it is addressed at once), then ``then()``."""
        if self.current is not None:
            self.action_reply()
            then()

    def action_insert_template(self) -> None:
        if not self.refused("insert_template"):
            self._in_composer(self.pane.insert_template)

    def action_send_later(self) -> None:
        if not self.refused("send_later"):
            self._in_composer(self.pane.send_later)

    def action_cancel_scheduled(self) -> None:
        if not self.refused("cancel_scheduled"):
            self.pane.cancel_next_scheduled()

    def action_open_attachment(self) -> None:
        self.pane.open_attachment()

    def action_retry(self) -> None:
        if not self.refused("retry"):
            self.pane.retry_last_failed()

    # ---- the permission gate (permission_gate.py) -----------------------------------------

    def check_action(self, action: str, parameters) -> bool | None:
        return None if self.gate.greys(action) else True  # greyed out; pressing the key says why (on_key)

    def on_key(self, event) -> None:
        """A greyed-out key runs nothing; this says why."""
        if self.staff.can_send or self.focused is self.query_one("#reply"):
            return
        action = next((b.action for b in self.BINDINGS if isinstance(b, Binding) and event.key in b.key.split(",")), None)
        if action is not None and self.gate.refused(action):
            event.stop()

    def refused(self, action: str) -> bool:
        """The one permission gate, for keys, the palette and the options menu alike."""
        return self.gate.refused(action)
