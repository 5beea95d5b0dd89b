"""Snooze… and Send later…: a few presets, or a time typed as people say it ("tomorrow
9am", "mon 17:30", "in 2h", ISO 8601), read back before it is taken."""

from __future__ import annotations

from datetime import datetime, tzinfo

from textual import work
from textual.widgets.option_list import Option

from msgterm.domain.errors import ValidationError
from msgterm.domain.when import QuietHours, parse_when, to_local
from msgterm.screens.type_ahead import TypeAheadPicker
from msgterm.widgets.literal import literal

#: The option a typed time becomes once read.
TYPED = "typed"


def spoken(at: datetime, zone: tzinfo) -> str:
    return f"{to_local(at, zone):%a %d %b %H:%M}"


class WhenPicker(TypeAheadPicker[datetime | None]):
    """Dismisses with the UTC time chosen, or None when cancelled."""

    def __init__(
        self,
        heading: str,
        presets: list[tuple[str, datetime]],
        now: datetime,
        zone: tzinfo,
        quiet_hours: QuietHours | None = None,
    ) -> None:
        super().__init__(heading, "or type a time: tomorrow 9am, mon 17:30, in 2h")
        self.presets = presets
        self.now = now
        self.zone = zone
        self.quiet_hours = quiet_hours
        self.typed_at: datetime | None = None

    def on_mount(self) -> None:
        self.typed("")

    def _label(self, words: str, at: datetime) -> str:
        label = f"{words} · {spoken(at, self.zone)}" if words else spoken(at, self.zone)
        if self.quiet_hours is not None and self.quiet_hours.contains(at, self.zone):
            label += f"  (quiet hours: waits until {to_local(self.quiet_hours.end_after(at, self.zone), self.zone):%H:%M})"
        return label

    def typed(self, text: str) -> None:
        if not text.strip():
            self.typed_at = None
            self.show_options([Option(literal(self._label(words, at)), id=str(n)) for n, (words, at) in enumerate(self.presets)])
            return
        self._read(text)

    @work(thread=True, exclusive=True, group="when")
    def _read(self, text: str) -> None:
        """dateparser takes a moment the first time (its data loads): off the UI thread."""
        try:
            at: datetime | str = parse_when(text, self.now, self.zone)
        except ValidationError as error:
            at = str(error)
        self.app.call_from_thread(self._read_back, text, at)

    def _read_back(self, text: str, at: datetime | str) -> None:
        if text != self.query_one("#typed").value:  # type: ignore[attr-defined]
            return  # typed on since: a newer read follows
        if isinstance(at, str):
            self.typed_at = None
            self.show_options([Option(literal(at), id=TYPED, disabled=True)])
        else:
            self.typed_at = at
            self.show_options([Option(literal(self._label("", at)), id=TYPED)])

    def pick(self, option_id: str) -> None:
        if option_id == TYPED:
            if self.typed_at is not None:
                self.dismiss(self.typed_at)
            return
        self.dismiss(self.presets[int(option_id)][1])
