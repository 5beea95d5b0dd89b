"""The main screen: filter sidebar, conversation list, thread and composer, status line."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import get_current_worker

from msgterm.domain.errors import MsgtermError
from msgterm.domain.folders import FolderView
from msgterm.domain.provider_errors import can_retry
from msgterm.domain.provider_message import Status
from msgterm.domain.sanitize import clean_line
from msgterm.domain.search_query import SearchQuery, parse
from msgterm.messages import HistoryProgressed, StoreChanged, SyncStepped
from msgterm.probe import after_paint
from msgterm.screens.keymap import main_screen_bindings
from msgterm.store.records import ConversationRecord, Filters, FilterValues
from msgterm.store.search import SearchResults
from msgterm.store_calls import StoreCalls
from msgterm.widgets.composer import Composer
from msgterm.widgets.conversation_list import PAGE, ConversationList
from msgterm.widgets.filter_sidebar import FilterSidebar
from msgterm.widgets.literal import literal
from msgterm.widgets.search_bar import SearchBar
from msgterm.widgets.status_line import StatusLine
from msgterm.widgets.thread_view import Hit, ThreadView

if TYPE_CHECKING:
    from msgterm.app import MsgtermApp
    from msgterm.domain.permissions import StaffMember
    from msgterm.store import Store
    from msgterm.sync.send import SendPipeline

log = logging.getLogger(__name__)

#: Messages shown when a conversation opens (a few screens full; the whole Text is laid out
#: on every change, so more costs time); older ones load on scrolling to the top.
THREAD_WINDOW = 60
#: Search hits read per page (the first page is what the user waits for).
SEARCH_PAGE = 50
#: How long the cursor rests on a conversation before the thread pane previews it.
PREVIEW_DELAY = 0.12
#: Actions that need the Send Email/SMS permission, and what a refusal calls them.
GATED = {
    "toggle_mute": "mute conversations",
    "mark_unread": "mark conversations as unread",
    "archive": "archive conversations",
    "new_conversation": "start conversations",
    "retry": "retry failed messages",
    "reply": "send messages",
}
#: A write still waiting for the store after this long says "saving…" on its row.
SAVING_AFTER = 0.3
#: How many pages of the list are read to find the conversation that stays selected.
KEEP_WITHIN_PAGES = 5


def read_listing(
    store: Store, view: FolderView, filters: Filters, search: SearchQuery | None, keep_id: int | None, *, first: bool
):
    """What the list shows (on a worker): the counts, a page source, the count and the first
    pages; on the first read also where the change log ends, read before the rest, so that
    the change watcher misses nothing that comes after."""
    change_seq = store.change_seq() if first else None
    counts = store.folder_counts(filters)  # one query gives the sidebar and the list length
    if search is not None:
        results = SearchResults(store, search, view, filters, page_size=SEARCH_PAGE)
        return change_seq, counts, results.rows, None, {0: results.rows(0, SEARCH_PAGE)}, SEARCH_PAGE
    count = counts[view]

    def source(offset: int, limit: int) -> list[ConversationRecord]:
        return store.conversations(view, filters, offset=offset, limit=limit, total=count)

    pages = {0: source(0, PAGE)}
    # Where the kept conversation is, within a few pages (a busy list moves it down).
    while keep_id is not None and len(pages) < KEEP_WITHIN_PAGES:
        last = pages[len(pages) - 1]
        if len(last) < PAGE or any(row.id == keep_id for row in last):
            break
        pages[len(pages)] = source(len(pages) * PAGE, PAGE)
    return change_seq, counts, source, count, pages, PAGE


class MainScreen(Screen):
    """Triage: pick a folder, walk the list, read, reply, mute, mark unread, archive."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    BINDINGS = main_screen_bindings()

    def __init__(self) -> None:
        super().__init__()
        self.view = FolderView.UNREAD
        self.filters = Filters()
        self.open_id: int | None = None
        #: The search hit the open conversation was opened at, if any.
        self.open_hit: int | None = None
        #: (conversation, its newest message) when it was opened or last warned about.
        self.seen_up_to: tuple[int, int] = (0, 0)
        #: The search being shown, None when the list shows the folder.
        self.search: SearchQuery | None = None
        #: The text whose results are on screen (the benchmark waits for it).
        self.shown_search_text = ""
        self._to_preview: ConversationRecord | None = None
        #: The open conversation as last read (None while it is being read).
        self.open_record: ConversationRecord | None = None
        #: Every store call of this screen runs on a worker thread (store_calls.py).
        self.calls = StoreCalls(self)
        self._painted = False
        #: The first read starts now, on a thread of its own, while the widgets are made.
        self._first_read: Future = Future()
        threading.Thread(target=self._read_first, args=(self.store,), name="first-read", daemon=True).start()

    def _read_first(self, store: Store) -> None:
        try:
            listing = read_listing(store, self.view, self.filters, None, None, first=True)
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
        self._reloaded(listing, None)

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
    def sender(self) -> SendPipeline:
        sender = self.msgterm.send_pipeline
        assert sender is not None, "the main screen runs with a provider"
        return sender

    @property
    def staff(self) -> StaffMember:
        staff = self.msgterm.staff
        assert staff is not None, "the main screen runs for a staff member"
        return staff

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield FilterSidebar(FilterValues(), clock=self.msgterm.clock, id="sidebar")
            with Vertical(id="list-pane"):
                yield SearchBar(id="search")
                yield ConversationList(clock=self.msgterm.clock, id="conversations")
            with Vertical(id="thread-pane"):
                yield ThreadView(id="thread")
                yield Composer(id="composer")
        who = f"{self.staff.full_name or self.staff.username} ({self.staff.role})"
        yield StatusLine(clock=self.msgterm.clock, staff=who, demo=self.msgterm.demo, id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._preview_timer = self.set_interval(PREVIEW_DELAY, self._preview, pause=True)
        self.query_one(FilterSidebar).select_view(self.view)
        composer = self.query_one(Composer)
        composer.set_read_only(
            None
            if self.staff.can_send
            else f"Read only: {self.staff.username} ({self.staff.role}) lacks the Send Email/SMS to clients permission"
        )
        self._first_read.add_done_callback(self._first_read_arrived)
        self.query_one(ConversationList).focus()

    # ---- reading the store -----------------------------------------------------------------

    def reload(self, keep_id: int | None = None, *, note: str | None = None) -> None:
        """Read the counts and the list's first pages on a worker, then show them."""
        listing = self.query_one(ConversationList)
        if keep_id is None and listing.selected is not None:
            keep_id = listing.selected.id
        view, filters, search, store = self.view, self.filters, self.search, self.store
        first = not self._painted

        self.calls.read(
            lambda: read_listing(store, view, filters, search, keep_id, first=first),
            lambda loaded: self._reloaded(loaded, keep_id, note),
            group="reload",
        )

    def _reloaded(self, loaded, keep_id: int | None, note: str | None = None) -> None:
        change_seq, counts, source, count, pages, page_size = loaded
        if change_seq is not None:
            self.msgterm.watch_from(change_seq)
        listing = self.query_one(ConversationList)
        listing.load(source, count, keep_id, page_size=page_size, pages=pages)
        self._title_count()
        self.query_one(FilterSidebar).set_counts(counts)
        if note is not None:
            after_paint(self, note)  # the benchmark times this moment (probe.py)
        if not self._painted:
            self._painted = True
            after_paint(self, "first-paint")
            self.call_after_refresh(self.msgterm.start_background_work)

    def _title_count(self) -> None:
        listing = self.query_one(ConversationList)
        if self.search is None:
            self.sub_title = f"{self.view.title} · {listing.count} conversations"
        else:
            self.sub_title = f"Search · {listing.count}{'' if listing.complete else '+'} hits"

    def refresh_counts(self) -> None:
        filters, store = self.filters, self.store
        self.calls.read(lambda: store.folder_counts(filters), self.query_one(FilterSidebar).set_counts, group="counts")

    def show_thread(self, conversation: ConversationRecord | None, *, keep_position: bool = False) -> None:
        """Read the thread on a worker and show it (a newer thread to show makes this one moot)."""
        thread = self.query_one(ThreadView)
        if conversation is None:
            thread.show(None, [])
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
                thread.show(conversation, messages, hit=hit, keep_position=keep_position, more_before=more)
            else:
                thread.show(conversation, messages, keep_position=keep_position, more_before=len(messages) == THREAD_WINDOW)
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
        self.run_search(event.value)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, typed: str) -> None:
        """Search off the UI thread; a newer keystroke makes this result moot."""
        query = parse(typed)
        results = SearchResults(self.store, query, self.view, self.filters, page_size=SEARCH_PAGE) if typed.strip() else None
        first = results.rows(0, SEARCH_PAGE) if results is not None else []
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._search_done, typed, query, results, first)

    def _search_done(self, typed: str, query: SearchQuery, results: SearchResults | None, first: list) -> None:
        bar = self.query_one(SearchBar)
        if typed != bar.value:
            return  # the user typed on; a newer search is coming
        bar.border_subtitle = literal("; ".join(query.problems))
        self.open_id = None
        self.search = query if results is not None else None
        self.shown_search_text = typed
        if results is None:
            self.reload()
        else:
            self.query_one(ConversationList).load(results.rows, None, None, page_size=SEARCH_PAGE, pages={0: first})
            self._title_count()
        after_paint(self, f"search {typed}")

    def on_search_bar_to_results(self, _event: SearchBar.ToResults) -> None:
        self.query_one(ConversationList).focus()

    def on_search_bar_cancelled(self, _event: SearchBar.Cancelled) -> None:
        self.end_search()

    def end_search(self) -> None:
        self.search = None
        self.shown_search_text = ""
        self.open_id = None
        self.reload()
        self.query_one(ConversationList).focus()

    def on_store_changed(self, event: StoreChanged) -> None:
        if self.search is None:
            self.reload()
        else:  # search results stay as they were when typed; counts and the thread stay live
            self.refresh_counts()
        if self.open_id is not None and self.open_id in event.conversation_ids:
            self.read_open(keep_position=True)

    def on_sync_stepped(self, event: SyncStepped) -> None:
        self.query_one(StatusLine).show_outcome(event.outcome)

    def on_history_progressed(self, event: HistoryProgressed) -> None:
        self.query_one(StatusLine).show_history(event.progress)

    # ---- list and thread ----------------------------------------------------------------------

    def on_conversation_list_highlighted(self, event: ConversationList.Highlighted) -> None:
        """Preview the highlighted conversation once the cursor rests: moving stays within a frame.

        One timer, restarted on every move (a new timer per keypress costs more than the move).
        """
        if self.open_id is None:
            self._to_preview = event.conversation  # None when the list is empty: clear the pane
            self._preview_timer.reset()

    def _preview(self) -> None:
        self._preview_timer.pause()
        if self.open_id is None:
            self.show_thread(self._to_preview)

    def on_conversation_list_opened(self, event: ConversationList.Opened) -> None:
        self.open_conversation(event.conversation.id, event.conversation.hit_message_id, event.conversation)

    def open_conversation(
        self, conversation_id: int, hit_message_id: int | None = None, shown: ConversationRecord | None = None
    ) -> None:
        """Show the conversation at once (a read), then mark it read (a write, which may wait
        for the store: the thread is on screen meanwhile)."""
        self.open_id, self.open_hit = conversation_id, hit_message_id
        self.open_record = shown if shown is not None and shown.id == conversation_id else None
        if self.open_record is not None:
            self.show_thread(replace(self.open_record, hit_message_id=hit_message_id))
        else:
            self.read_open()
        staff, store = self.staff, self.store

        def mark_read():
            return store.open_conversation(staff, conversation_id), store.newest_message_id(conversation_id)

        self.calls.write(mark_read, self._marked_read)

    def _marked_read(self, opened) -> None:
        conversation, newest = opened
        if self.open_id == conversation.id:
            self.open_record = replace(conversation, hit_message_id=self.open_hit)
            self.seen_up_to = (conversation.id, newest)
        if self.search is None:
            self.reload(keep_id=conversation.id)
        else:
            self.refresh_counts()

    def read_open(self, *, keep_position: bool = False) -> None:
        """Read the open conversation anew and show it."""
        open_id, store = self.open_id, self.store
        if open_id is None:
            return

        def show(conversation: ConversationRecord) -> None:
            if self.open_id == conversation.id:
                self.open_record = replace(conversation, hit_message_id=self.open_hit)
                self.show_thread(self.open_record, keep_position=keep_position)

        self.calls.read(lambda: store.conversation(open_id), show, group="open-conversation")

    def on_filter_sidebar_changed(self, event: FilterSidebar.Changed) -> None:
        self.view, self.filters = event.view, event.filters
        self.reload(note="filtered")

    @property
    def current(self) -> ConversationRecord | None:
        """The conversation keys act on: the open one, else the highlighted one."""
        if self.open_id is not None:
            return self.open_record
        return self.query_one(ConversationList).selected

    # ---- actions ------------------------------------------------------------------------------

    def action_folder(self, name: str, keep_id: int | None = None) -> None:
        self.view = FolderView(name)
        self.open_id = None
        self.query_one(FilterSidebar).select_view(self.view)
        self.reload(keep_id)
        self.query_one(ConversationList).focus()

    def _walk_unread(self, step: int) -> None:
        listing = self.query_one(ConversationList)
        index = listing.find_unread(step)
        if index is None:
            self.notify("No more unread conversations in this list.", timeout=2)
            return
        listing.cursor = index
        listing.focus()
        if listing.selected is not None:
            self.open_conversation(listing.selected.id)

    def action_next_unread(self) -> None:
        self._walk_unread(+1)

    def action_previous_unread(self) -> None:
        self._walk_unread(-1)

    def action_reply(self) -> None:
        if self.current is None:
            return
        if self.open_id is None:
            self.open_conversation(self.current.id)
        if self.refused("reply"):
            return
        self.query_one("#reply").focus()

    def action_back(self) -> None:
        if self.open_id is None and self.search is not None:
            self.query_one(SearchBar).action_cancel()
            return
        self.open_id = None
        self.query_one(ConversationList).focus()

    def action_focus_filters(self) -> None:
        self.add_class("-filters")  # shown again on a narrow terminal, while it has the focus
        self.query_one("#folders").focus()

    def on_descendant_focus(self, event) -> None:
        if self.has_class("-filters") and not any(
            node is self.query_one(FilterSidebar) for node in event.widget.ancestors_with_self
        ):
            self.remove_class("-filters")

    def refuse(self, what: str) -> None:
        self.notify(
            f"{self.staff.username} ({self.staff.role}) cannot {what}: that needs the Send Email/SMS to clients permission.",
            severity="warning",
            markup=False,
        )

    def _act(self, fn, done: str) -> None:
        """Write ``fn(staff, id)`` for the conversation on screen; a write that waits for the
        store says "saving…" on its row after a moment, and the keys go on meanwhile."""
        conversation = self.current
        if conversation is None:
            return
        listing, staff = self.query_one(ConversationList), self.staff
        saving = self.set_timer(SAVING_AFTER, lambda: listing.set_saving(conversation.id, True))

        def stored(_result) -> None:
            self.notify(done.format(name=clean_line(conversation.title)), timeout=2, markup=False)
            self.reload(keep_id=conversation.id)
            if self.open_id == conversation.id:
                self.read_open(keep_position=True)

        def finished() -> None:
            saving.stop()
            listing.set_saving(conversation.id, False)

        self.calls.write(lambda: fn(staff, conversation.id), stored, finally_=finished)

    def action_toggle_mute(self) -> None:
        if self.refused("toggle_mute"):
            return
        conversation = self.current
        if conversation is None:
            return
        mute = not conversation.muted
        self._act(lambda staff, cid: self.store.set_muted(staff, cid, mute), ("Muted {name}" if mute else "Unmuted {name}"))

    def action_mark_unread(self) -> None:
        if self.refused("mark_unread"):
            return
        self._act(self.store.mark_unread, "Marked {name} as unread")
        self.open_id = None

    def action_archive(self) -> None:
        if self.refused("archive"):
            return
        self._act(self.store.archive, "Archived {name}")
        self.open_id = None

    def action_options(self) -> None:
        from msgterm.screens.options_menu import OptionsMenu

        conversation = self.current
        if conversation is None:
            return

        def chosen(choice: str | None) -> None:
            {"mute": self.action_toggle_mute, "unread": self.action_mark_unread, "archive": self.action_archive}.get(
                choice or "", lambda: None
            )()

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

    # ---- sending ------------------------------------------------------------------------------

    def on_composer_send_requested(self, event: Composer.SendRequested) -> None:
        conversation = self.current
        if conversation is None:
            self.notify("Open a conversation first.", severity="warning")
            return
        self.check_before_sending(conversation.id, event.body, self.seen_up_to)

    @work(thread=True, group="send", exit_on_error=False)
    def check_before_sending(self, conversation_id: int, body: str, seen_up_to: tuple[int, int]) -> None:
        """The composer's checks and "did the client write meanwhile?", on a worker."""
        try:
            self.sender.validate(self.staff, conversation_id, body)
        except MsgtermError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
            return
        seen_conversation, seen_message = seen_up_to
        arrived = self.store.inbound_after(conversation_id, seen_message) if seen_conversation == conversation_id else 0
        if arrived:
            # Another terminal's poller stored them while this reply was being written.
            newest = self.store.newest_message_id(conversation_id)
            self.app.call_from_thread(self._warn_arrived, conversation_id, newest, arrived)
            return
        self.app.call_from_thread(self._send_checked, conversation_id, body)

    def _warn_arrived(self, conversation_id: int, newest: int, arrived: int) -> None:
        self.seen_up_to = (conversation_id, newest)
        self.notify(
            f"{arrived} new message{'s' if arrived > 1 else ''} since you opened this conversation. "
            "Read them above; press enter again to send as it is.",
            title="Not sent yet",
            severity="warning",
            timeout=8,
        )

    def _send_checked(self, conversation_id: int, body: str) -> None:
        self.query_one(Composer).clear()
        self.send_in_background(conversation_id, body)

    @work(thread=True, group="send", exit_on_error=False)
    def send_in_background(self, conversation_id: int, body: str) -> None:
        try:
            result = self.sender.send(self.staff, conversation_id, body)
            if not result.ok:
                self.app.call_from_thread(self.notify, f"Not sent: {result.reason}", severity="error", markup=False)
        except MsgtermError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
        finally:  # any other error is shown by the app (a failed worker); the thread shows what is stored
            self.app.call_from_thread(self.post_message, StoreChanged(frozenset({conversation_id})))

    def action_retry(self) -> None:
        if self.refused("retry"):
            return
        conversation = self.current
        if conversation is None:
            return
        store = self.store

        def retry(messages) -> None:
            failed = [m for m in messages if m.status == Status.FAILED and m.sid is None]
            retryable = [m for m in failed if can_retry(m.error_code)]
            if not retryable:
                why = " (sending it again cannot help: see the reason under it)" if failed else ""
                self.notify(f"Nothing to retry in this conversation{why}.", timeout=3)
                return
            self.retry_in_background(conversation.id, retryable[-1].id)

        self.calls.read(lambda: store.messages(conversation.id), retry, group="retry")

    @work(thread=True, group="send", exit_on_error=False)
    def retry_in_background(self, conversation_id: int, message_id: int) -> None:
        try:
            result = self.sender.retry(self.staff, message_id)
            if not result.ok:
                self.app.call_from_thread(self.notify, f"Not sent: {result.reason}", severity="error", markup=False)
        except MsgtermError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error", markup=False)
        finally:
            self.app.call_from_thread(self.post_message, StoreChanged(frozenset({conversation_id})))

    def check_action(self, action: str, parameters) -> bool | None:
        if action in GATED and not self.staff.can_send:
            return None  # shown greyed out; pressing the key explains why (see on_key)
        return True

    def on_key(self, event) -> None:
        """A greyed-out key runs nothing; this says why."""
        if self.staff.can_send or self.focused is self.query_one("#reply"):
            return
        action = next((b.action for b in self.BINDINGS if isinstance(b, Binding) and event.key in b.key.split(",")), None)
        if action in GATED:
            self.refused(action)
            event.stop()

    def refused(self, action: str) -> bool:
        """The one permission gate, for keys, the palette and the options menu alike: whether
        ``action`` is refused to this staff member (and if so, say why)."""
        if action in GATED and not self.staff.can_send:
            self.refuse(GATED[action])
            return True
        return False
