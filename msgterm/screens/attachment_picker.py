"""Open attachment…: the conversation's files, newest first, to pick one to open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from msgterm.domain.media import describe_file
from msgterm.store.records import Attachment
from msgterm.timefmt import local
from msgterm.widgets.literal import literal


class AttachmentPicker(ModalScreen[Attachment | None]):
    """Dismisses with the file picked, or None."""

    DEFAULT_CSS = """
    AttachmentPicker { align: center middle; }
    AttachmentPicker > Vertical { width: 60; height: auto; max-height: 80%; border: thick $primary; background: $panel; padding: 0 1; }
    AttachmentPicker OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [("escape", "dismiss(None)", "Close")]

    def __init__(self, whom: str, files: list[Attachment]) -> None:
        super().__init__()
        self.whom = whom
        self.files = files

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(f"Open an attachment of {self.whom}"))
            yield OptionList(
                *(
                    Option(
                        literal(
                            f"{local(a.sent_at):%a %d %b %H:%M}  {'◀' if a.inbound else '▶'}  {describe_file(a.file.content_type, a.file.size)}"
                        ),
                        id=str(index),
                    )
                    for index, a in enumerate(self.files)
                )
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.files[int(event.option.id or 0)])
