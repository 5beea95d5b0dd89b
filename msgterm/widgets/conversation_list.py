"""The conversation list: one line per conversation, read from the store a page at a time.

A line-API ScrollView: only the visible lines are rendered, and rows come from a small
page cache filled by worker threads, so the list stays fast however many conversations
the store holds and drawing never waits on the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from msgterm.domain.folders import Folder
from msgterm.domain.provider_message import Direction
from msgterm.domain.sanitize import clean_line
from msgterm.domain.team import initials
from msgterm.store.records import ConversationRecord
from msgterm.timefmt import relative

PAGE = 200
#: Drawn rows kept; a few screens' worth.
STRIP_CACHE = 600

#: Reads (offset, limit) rows of the current folder and filters (or of a search).
RowSource = Callable[[int, int], list[ConversationRecord]]


class ConversationList(ScrollView, can_focus=True):
    """Conversations of the current folder, newest activity first."""

    #: No scrollbar: over 100,000 rows its thumb is one cell that hardly moves, and Textual
    #: redraws all of it on every step that scrolls, a third of the CPU of holding ``j``.
    DEFAULT_CSS = """
    ConversationList { background: $surface; scrollbar-size-vertical: 0; }
    ConversationList > .conversation-list--cursor { background: $accent 40%; }
    ConversationList:focus > .conversation-list--cursor { background: $accent; color: $text; }
    ConversationList > .conversation-list--unread { text-style: bold; }
    ConversationList > .conversation-list--dim { color: $text-muted; background: $surface; }
    ConversationList > .conversation-list--badge { color: $warning; text-style: bold; }
    ConversationList > .conversation-list--marked { background: $secondary 35%; }
    """
    COMPONENT_CLASSES = {
        "conversation-list--cursor",
        "conversation-list--unread",
        "conversation-list--dim",
        "conversation-list--badge",
        "conversation-list--marked",
    }
    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False),
        Binding("k,up", "cursor_up", "Up", show=False),
        Binding("g,home", "first", "Top", show=False),
        Binding("G,end", "last", "Bottom", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("enter", "open", "Open", id="open"),
    ]

    #: No repaint on change: watch_cursor refreshes just the two lines whose highlight moved.
    cursor: reactive[int] = reactive(0, repaint=False)

    class Highlighted(Message):
        def __init__(self, conversation: ConversationRecord | None) -> None:
            super().__init__()
            self.conversation = conversation

    class Opened(Message):
        def __init__(self, conversation: ConversationRecord) -> None:
            super().__init__()
            self.conversation = conversation

    def __init__(self, *, clock: Callable[[], datetime], id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self._source: RowSource | None = None
        self._count = 0
        self._page_size = PAGE
        self._open_ended = False
        self._pages: dict[int, list[ConversationRecord]] = {}
        #: Pages asked of the source and not arrived yet, and the load they belong to.
        self._wanted: set[int] = set()
        self._generation = 0
        #: One page read at a time: a search's pages continue from the one before.
        self._source_lock = threading.Lock()
        #: Conversations with a write still waiting for the store: drawn "saving…".
        self.saving: set[int] = set()
        #: The open conversation, shown at this index though the listing no longer has it
        #: (opening it in Unread made it read): it stays in its place until the cursor leaves.
        self._pin: tuple[int, ConversationRecord] | None = None
        #: Conversations selected for an action on many (``x``, ``*``), by id.
        self.marked: set[int] = set()
        #: Conversations with an unsent draft of this staff member.
        self.drafts: frozenset[int] = frozenset()
        #: Drawn rows by (index, under the cursor, width, focused).
        self._strips: dict[tuple[int, bool, int, bool], Strip] = {}

    # ---- data ---------------------------------------------------------------------------

    def load(
        self,
        source: RowSource,
        count: int | None,
        keep_id: int | None = None,
        *,
        page_size: int = PAGE,
        pages: dict[int, list[ConversationRecord]] | None = None,
        pinned: ConversationRecord | None = None,
    ) -> None:
        """Show rows from ``source``, keeping ``keep_id`` selected if present.

        ``pinned`` is the open conversation: when the rows no longer have it, it is shown
        where the cursor is, until the cursor leaves it.

        ``pages`` are the pages already read (on a worker, with the count); the others are
        read on a worker thread when they come into view, never while drawing. ``count``
        is how many rows there are; None when that is not known in advance (search
        results): the list then grows a page at a time as the cursor nears its end.
        """
        self._generation += 1
        self._source = source
        self._page_size = page_size
        self._pages = dict(pages or {})
        self._wanted.clear()
        self._strips.clear()
        self._open_ended = count is None
        self._count = count if count is not None else sum(len(rows) for rows in self._pages.values())
        if self._open_ended:
            self._open_ended = all(len(rows) == page_size for rows in self._pages.values())
        self._pin = None
        index = self.index_of(keep_id) if keep_id is not None else None
        if pinned is not None and self.index_of(pinned.id) is None:
            index = min(self.cursor, self._count)
            self._pin = (index, pinned)
        self.virtual_size = Size(self.size.width, self.count)
        target = index if index is not None else min(self.cursor, max(self.count - 1, 0))
        self.set_reactive(ConversationList.cursor, target)
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self.selected))

    def _want(self, page: int) -> None:
        """Read ``page`` on a worker; it is drawn when it arrives."""
        if page in self._pages or page in self._wanted or self._source is None:
            return
        self._wanted.add(page)
        source, generation, size = self._source, self._generation, self._page_size

        def read() -> None:
            with self._source_lock:
                rows = source(page * size, size)
            self.app.call_from_thread(self._arrived, generation, page, rows)

        self.run_worker(read, thread=True, group="list-pages", exit_on_error=False)

    def _arrived(self, generation: int, page: int, rows: list[ConversationRecord]) -> None:
        if generation != self._generation:
            return  # read for a list that has been loaded anew since
        self._wanted.discard(page)
        self._pages[page] = rows
        if self._open_ended and page * self._page_size + len(rows) > self._count:
            self._count = page * self._page_size + len(rows)
            self._open_ended = len(rows) == self._page_size
            self.virtual_size = Size(self.size.width, self.count)
        self._strips.clear()
        self.refresh()
        if page * self._page_size <= self._in_source(self.cursor) < (page + 1) * self._page_size:
            self.post_message(self.Highlighted(self.selected))

    @property
    def complete(self) -> bool:
        """Whether every row is known (always, except for a search still being paged)."""
        return not self._open_ended

    def _in_source(self, index: int) -> int:
        """Where row ``index`` is in the source (rows after the pinned one are one further down)."""
        return index - 1 if self._pin is not None and index > self._pin[0] else index

    def row(self, index: int) -> ConversationRecord | None:
        """The row at ``index`` if its page has arrived (else None, and the page is asked for)."""
        if self._pin is not None and index == self._pin[0]:
            return self._pin[1]
        if self._source is None or not 0 <= index < self.count:
            return None
        index = self._in_source(index)
        page = index // self._page_size
        rows = self._pages.get(page)
        if rows is None:
            self._want(page)
            return None
        offset = index - page * self._page_size
        return rows[offset] if offset < len(rows) else None

    def index_of(self, conversation_id: int) -> int | None:
        """Where ``conversation_id`` is among the rows that have arrived."""
        if self._pin is not None and self._pin[1].id == conversation_id:
            return self._pin[0]
        for page, rows in sorted(self._pages.items()):
            for offset, record in enumerate(rows):
                if record.id == conversation_id:
                    index = page * self._page_size + offset
                    return index + 1 if self._pin is not None and index >= self._pin[0] else index
        return None

    def update_row(self, record: ConversationRecord) -> None:
        """Draw ``record`` anew where it is (its state changed: read, muted, saving)."""
        if self._pin is not None and self._pin[1].id == record.id:
            self._pin = (self._pin[0], record)
        for rows in self._pages.values():
            for offset, row in enumerate(rows):
                if row.id == record.id:
                    rows[offset] = record
        self._forget_drawn()

    @property
    def selected(self) -> ConversationRecord | None:
        return self.row(self.cursor)

    @property
    def count(self) -> int:
        """Rows shown: the source's, and the pinned one."""
        return self._count + (1 if self._pin is not None else 0)

    def select_id(self, conversation_id: int) -> bool:
        index = self.index_of(conversation_id)
        if index is None:
            return False
        self.cursor = index
        return True

    def find_unread(self, step: int) -> int | None:
        """The index of the next (+1) or previous (-1) unread conversation from the cursor,
        among the rows that have arrived."""
        index = self.cursor + step
        while 0 <= index < self.count:
            record = self.row(index)
            if record is None:
                return None
            if record.folder is Folder.UNREAD:
                return index
            index += step
        return None

    def toggle_mark(self) -> None:
        """Select or unselect the highlighted conversation."""
        if self.selected is not None:
            self.marked ^= {self.selected.id}
            self._forget_drawn()

    def mark(self, conversation_ids) -> None:
        self.marked |= set(conversation_ids)
        self._forget_drawn()

    def clear_marks(self) -> None:
        self.marked.clear()
        self._forget_drawn()

    def set_drafts(self, conversation_ids: frozenset[int]) -> None:
        if conversation_ids != self.drafts:
            self.drafts = conversation_ids
            self._forget_drawn()

    def set_saving(self, conversation_id: int, saving: bool) -> None:
        """Draw (or stop drawing) "saving…" on a conversation whose write waits for the store."""
        (self.saving.add if saving else self.saving.discard)(conversation_id)
        self._forget_drawn()

    # ---- drawing ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """One row; rows already drawn come from a cache, so scrolling redraws only new ones."""
        index = self.scroll_offset.y + y
        width = self.size.width
        key = (index, index == self.cursor, width, self.has_focus)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._draw(index, width)
            if len(self._strips) > STRIP_CACHE:
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def _draw(self, index: int, width: int) -> Strip:
        record = self.row(index)
        base = self.rich_style
        if record is None:
            if 0 <= index < self.count:  # its page is on its way
                dim = base + self._dim()
                return Strip([Segment("  …".ljust(width), dim)], width)
            return Strip.blank(width, base)
        style = base
        if record.folder is Folder.UNREAD:
            style += self.get_component_rich_style("conversation-list--unread")
        if record.id in self.marked:
            style += self.get_component_rich_style("conversation-list--marked")
        if index == self.cursor:
            style += self.get_component_rich_style("conversation-list--cursor")
        return Strip(self._segments(record, width, style), width).crop(0, width)

    def _dim(self) -> Style:
        """The muted colour of previews and times. Textual's ``$text-muted`` is "auto 60%",
        a contrast to a background: taken against the list's own (the component class has
        it), as a colour alone, so that the cursor's background still shows under it."""
        return Style(color=self.get_component_rich_style("conversation-list--dim").color)

    def _forget_drawn(self) -> None:
        """Rows, styles or times changed: draw every row afresh."""
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_mount(self) -> None:
        # Relative times ("5m") age; redraw them now and then.
        self.set_interval(30, self._forget_drawn)

    def _segments(self, record: ConversationRecord, width: int, style: Style) -> list[Segment]:
        dim = style + self._dim()
        badge_style = style + self.get_component_rich_style("conversation-list--badge", partial=True)
        when = " " + ("saving…" if record.id in self.saving else relative(record.last_activity_at, self.clock())).rjust(6)
        folder_mark = {Folder.ARCHIVED: "A", Folder.SNOOZED: "Z"}.get(record.folder, " ")
        marks = ("!" if record.send_failed else " ") + ("P" if record.pinned else " ") + ("M" if record.muted else " ")
        marks += folder_mark
        who = initials(record.assignee_name or "", record.assignee_username or "") if record.assignee_id else ""
        marks = f"{who:>2} {marks}"
        badge = f"({record.unread_count})" if record.folder is Folder.UNREAD else ""
        dot = ("✓" if record.id in self.marked else " ") + ("● " if record.folder is Folder.UNREAD else "  ")
        name_width = min(20, max(10, width // 3))
        name = set_cell_size(clean_line(record.title), name_width)  # wide characters take two cells
        arrow = "› " if record.last_direction == Direction.OUTBOUND else ""
        draft = "draft " if record.id in self.drafts else ""
        fixed = len(dot) + name_width + 1 + len(when) + 1 + len(badge) + 1 + len(marks)
        preview_width = max(0, width - fixed)
        preview = set_cell_size(arrow + clean_line(record.last_preview), max(0, preview_width - len(draft)))
        return [
            Segment(dot, badge_style),
            Segment(name + " ", style),
            Segment(draft[:preview_width], badge_style),
            Segment(preview, dim),
            Segment(when + " ", dim),
            Segment(badge.rjust(len(badge)), badge_style),
            Segment(" " + marks, dim),
        ]

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.count)

    # ---- movement -----------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        if self._pin is not None and new != self._pin[0]:
            self._unpin(new)
            return
        top = self.scroll_offset.y
        self._scroll_to_cursor()
        if self.scroll_offset.y == top:  # only the two lines whose highlight changed
            self.refresh_line(old)
            self.refresh_line(new)
        else:
            self.refresh()
        self.post_message(self.Highlighted(self.selected))

    def _unpin(self, new: int) -> None:
        """The cursor left the pinned conversation: it goes, and the rows after it move up."""
        assert self._pin is not None
        at, self._pin = self._pin[0], None
        self.virtual_size = Size(self.size.width, self.count)
        self.set_reactive(ConversationList.cursor, max(0, min(new - 1 if new > at else new, self.count - 1)))
        self._scroll_to_cursor()
        self._forget_drawn()
        self.post_message(self.Highlighted(self.selected))

    def _scroll_to_cursor(self) -> None:
        top = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def _move(self, to: int) -> None:
        if self._open_ended and to >= self._count - self._page_size // 2:
            self._want(self._count // self._page_size)  # the next page of an open-ended list
        if self.count:
            self.cursor = max(0, min(self.count - 1, to))

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(self.count - 1)

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.size.height - 1))

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.size.height - 1))

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Opened(self.selected))

    def on_click(self, event) -> None:
        self._move(self.scroll_offset.y + event.y)
        self.action_open()
