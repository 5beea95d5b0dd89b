"""Insert template…: a fuzzy type-ahead over the templates' names (and their text)."""

from __future__ import annotations

from textual.fuzzy import Matcher
from textual.widgets.option_list import Option

from msgterm.domain.sanitize import clean_line
from msgterm.domain.templates import Template
from msgterm.screens.type_ahead import TypeAheadPicker
from msgterm.widgets.literal import literal


class TemplatePicker(TypeAheadPicker[Template | None]):
    """Dismisses with the template picked, or None when cancelled."""

    def __init__(self, whom: str, templates: list[Template]) -> None:
        super().__init__(f"Insert a template for {whom}", "template name")
        self.templates = templates

    def on_mount(self) -> None:
        if not self.templates:
            self.show_options([Option("No templates yet: add one with msgterm templates add NAME TEXT", disabled=True)])
        else:
            self.typed("")

    def typed(self, text: str) -> None:
        if not self.templates:
            return
        matcher = Matcher(text.strip()) if text.strip() else None
        scored = []
        for index, template in enumerate(self.templates):
            score = 1.0 if matcher is None else max(matcher.match(template.name), matcher.match(template.body) / 2)
            if score > 0:
                scored.append((-score, index, template))
        self.show_options(
            [
                Option(literal(f"{clean_line(t.name)}  ·  {clean_line(t.body)[:60]}"), id=str(index))
                for _score, index, t in sorted(scored)
            ]
        )

    def pick(self, option_id: str) -> None:
        self.dismiss(self.templates[int(option_id)])
