"""Snapshots of every screen at 120x36, on fixed data and a fixed clock (UTC)."""

from __future__ import annotations

import time

import pytest
from app_fixtures import build_store, make_app

from msgterm.app import MsgtermApp

SIZE = (120, 36)


def keys(*pressed: str):
    """A run_before that presses ``pressed`` and, after each key, waits until the screen has
    settled: every store read and write finished and its result painted (no fixed waits)."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run_before


async def settle(pilot) -> None:
    for _ in range(3):  # a result may start another read (a list page, the preview)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_main_screen(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4"))


def test_search_hit_opened_at_the_match(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("4", "slash", *"yoga", "enter", "enter"))


def test_new_conversation(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("n", *"Ada"))


def test_options_menu(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("enter", "o"))


def test_contact_history(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("enter", "c"))


def test_help(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, run_before=keys("question_mark"))


def test_first_run(snap_compare):
    assert snap_compare(MsgtermApp(None, None, first_run_config="/home/desk/.config/msgterm/config.toml"), terminal_size=SIZE)
