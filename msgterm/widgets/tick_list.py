"""Tick boxes that differ by more than colour: ticked ``✓``, unticked empty (Textual draws
the same ``X`` in both and tells them apart by colour alone, which some eyes and terminals
cannot see)."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

TICK = "✓"


class TickBox(Checkbox):
    def render(self):
        self.BUTTON_INNER = TICK if self.value else " "  # read by ToggleButton's drawing
        return super().render()


class TickList(SelectionList):
    """A SelectionList with ticks."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line
        inner = TICK if selection.value in self._selected else " "
        segments = list(line)
        for index, segment in enumerate(segments[:4]):
            if segment.text == ToggleButton.BUTTON_INNER:
                segments[index] = Segment(inner, segment.style, segment.control)
                return Strip(segments, line.cell_length)
        return line
