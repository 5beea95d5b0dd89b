"""The theme: previews readable in light and dark themes, and the chosen theme remembered."""

from __future__ import annotations

import pytest
from app_fixtures import build_store, make_app, settled_start
from textual.color import Color

from msgterm.widgets.conversation_list import ConversationList


def luminance(color: Color) -> float:
    """WCAG 2's relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG 2's contrast ratio (1 to 21)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


async def test_previews_stand_out_from_the_list_in_every_theme(tmp_path):
    store, clock = build_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await settled_start(pilot)
        for theme in ["textual-light", "textual-dark", "solarized-light"]:
            app.theme = theme
            await pilot.pause()
            listing = app.screen.query_one(ConversationList)
            row = listing.row(1)  # not under the cursor
            drawn = listing.render_line(1)
            segment = next(s for s in drawn if row.last_preview[:8] in s.text)
            preview, background = Color.from_rich_color(segment.style.color), Color.from_rich_color(segment.style.bgcolor)
            assert contrast(preview, background) > 3, (theme, preview, background)


async def test_the_chosen_theme_is_remembered(tmp_path):
    preferences = tmp_path / "state" / "preferences.json"
    store, clock = build_store(tmp_path)
    app = make_app(store, clock, preferences=preferences)
    async with app.run_test(size=(120, 30)) as pilot:
        await settled_start(pilot)
        assert app.theme == "textual-dark"
        app.theme = "textual-light"
        await pilot.pause()
    assert oct(preferences.stat().st_mode & 0o777) == "0o600"
    again = make_app(store, clock, preferences=preferences)
    async with again.run_test(size=(120, 30)) as pilot:
        await settled_start(pilot)
        assert again.theme == "textual-light"


@pytest.mark.parametrize("damage", ["{not json", '{"theme": 7}', '{"theme": "no-such-theme"}', "[]"])
async def test_a_damaged_preferences_file_starts_the_default_theme(tmp_path, damage):
    preferences = tmp_path / "preferences.json"
    preferences.write_text(damage)
    store, clock = build_store(tmp_path)
    app = make_app(store, clock, preferences=preferences)
    async with app.run_test(size=(120, 30)) as pilot:
        await settled_start(pilot)
        assert app.theme == "textual-dark"
