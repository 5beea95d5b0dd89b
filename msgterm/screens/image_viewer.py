"""An image attachment drawn in the terminal (where it can draw images): o opens it in the
system viewer, escape closes."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from msgterm.widgets.literal import literal


class ImageViewer(ModalScreen[None]):
    DEFAULT_CSS = """
    ImageViewer { align: center middle; }
    ImageViewer > Vertical { width: 90%; height: 90%; border: thick $primary; background: $panel; padding: 0 1; }
    ImageViewer #image { width: 1fr; height: 1fr; }
    ImageViewer #image-keys { color: $text-muted; }
    """
    BINDINGS = [("escape", "dismiss(None)", "Close"), ("o", "open_outside", "Open in the viewer")]

    def __init__(self, path: Path, title: str, image_widget: type) -> None:
        super().__init__()
        self.path = path
        self.title_words = title
        self.image_widget = image_widget

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(self.title_words))
            yield self.image_widget(self.path, id="image")
            yield Label("o opens it in the system viewer · escape closes", id="image-keys")

    def action_open_outside(self) -> None:
        from msgterm.viewer import open_with_viewer

        def start() -> None:
            problem = open_with_viewer(self.path)
            if problem:
                self.app.call_from_thread(self.notify, problem, severity="error", markup=False)

        self.run_worker(start, thread=True, group="viewer", exit_on_error=False)
