"""The filter sidebar: folders with live counts, and filters by assignee, date, type, group,
location, muted."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Label, OptionList, Select, SelectionList
from textual.widgets.option_list import Option

from msgterm.domain.folders import FolderView
from msgterm.store.records import Filters, FilterValues
from msgterm.timefmt import local_day_start
from msgterm.widgets.literal import literal
from msgterm.widgets.tick_list import TickBox, TickList

DATE_PRESETS = (("Any time", None), ("Today", 1), ("Last 7 days", 7), ("Last 30 days", 30))
#: The "Assigned" group: whose conversations the list shows.
ASSIGNED = (("Anyone", "anyone"), ("Me", "me"), ("Unassigned", "nobody"))


class FilterSidebar(VerticalScroll):
    """Switch folders and narrow the list. Posts Changed when either changes."""

    DEFAULT_CSS = """
    FilterSidebar { width: 26; background: $panel; padding: 0 1; }
    FilterSidebar > Label { margin-top: 1; color: $text-muted; }
    FilterSidebar > OptionList { height: auto; max-height: 8; }
    FilterSidebar > SelectionList { height: auto; max-height: 6; }
    """

    class Changed(Message):
        def __init__(self, view: FolderView, filters: Filters) -> None:
            super().__init__()
            self.view = view
            self.filters = filters

    def __init__(self, values: FilterValues, *, clock, me: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        #: The username "Me" stands for.
        self.me = me
        self.values = values
        self.clock = clock
        self.view = FolderView.UNREAD
        #: What the screen shows now; widgets announcing their first value change nothing.
        self._shown: tuple[FolderView, Filters] = (self.view, Filters())

    def compose(self) -> ComposeResult:
        yield Label("Folders")
        yield OptionList(*[Option(view.title, id=view.value) for view in FolderView], id="folders")
        yield Label("Assigned")
        yield Select(ASSIGNED, value="anyone", allow_blank=False, id="assigned")
        yield Label("Date")
        yield Select([(name, days or 0) for name, days in DATE_PRESETS], value=0, allow_blank=False, id="dates")
        yield Label("Client type")
        yield TickList(*[(literal(v), v) for v in self.values.client_types], id="types")
        yield Label("Client group")
        yield TickList(*[(literal(v), v) for v in self.values.groups], id="groups")
        yield Label("Home location")
        yield TickList(*[(literal(v), v) for v in self.values.locations], id="locations")
        yield TickBox("Muted only", id="muted")

    def set_values(self, values: FilterValues) -> None:
        """The types, groups and locations the store holds (read on a worker after start)."""
        self.values = values
        for list_id, names in (("#types", values.client_types), ("#groups", values.groups), ("#locations", values.locations)):
            selection = self.query_one(list_id, SelectionList)
            chosen = set(selection.selected)
            highlighted = selection.highlighted
            selection.clear_options()
            selection.add_options([(literal(name), name, name in chosen) for name in names])
            if names:  # as when built with its options: a highlight for space to toggle
                selection.highlighted = min(highlighted or 0, len(names) - 1)

    def set_counts(self, counts: dict[FolderView, int]) -> None:
        folders = self.query_one("#folders", OptionList)
        highlighted = folders.highlighted
        for index, view in enumerate(FolderView):
            folders.replace_option_prompt_at_index(index, f"{view.title} ({counts.get(view, 0)})")
        folders.highlighted = highlighted

    def select_view(self, view: FolderView) -> None:
        self.view = view
        self._shown = (view, self._shown[1])
        self.query_one("#folders", OptionList).highlighted = list(FolderView).index(view)

    @property
    def filters(self) -> Filters:
        chosen = self.query_one("#dates", Select).value
        days = chosen if isinstance(chosen, int) else 0
        assigned = self.query_one("#assigned", Select).value
        since = local_day_start(self.clock(), days - 1) if days else None  # "Last 7 days": today and the 6 before
        return Filters(
            since=since,
            client_types=tuple(self.query_one("#types", SelectionList).selected),
            groups=tuple(self.query_one("#groups", SelectionList).selected),
            locations=tuple(self.query_one("#locations", SelectionList).selected),
            muted_only=self.query_one("#muted", Checkbox).value,
            assignees=(self.me,) if assigned == "me" and self.me else (),
            unassigned=assigned == "nobody",
        )

    def _changed(self) -> None:
        shown = (self.view, self.filters)
        if shown != self._shown:
            self._shown = shown
            self.post_message(self.Changed(*shown))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.view = FolderView(event.option.id or FolderView.UNREAD.value)
        self._changed()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._changed()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        self._changed()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._changed()
