"""Snapshots of every screen at 120x36, on fixed data and a fixed clock (UTC)."""

from __future__ import annotations

import time

import pytest

from msgterm.app import MsgtermApp

from app_fixtures import build_store, make_app

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_main_screen(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, press=["4", "wait:300"])


def test_search_hit_opened_at_the_match(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, press=["4", "slash", *"yoga", "wait:300", "enter", "enter"])


def test_new_conversation(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, press=["n", *"Ada", "wait:300"])


def test_options_menu(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, press=["enter", "o"])


def test_contact_history(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, press=["enter", "c"])


def test_help(snap_compare, tmp_path):
    store, clock = build_store(tmp_path)
    assert snap_compare(make_app(store, clock), terminal_size=SIZE, press=["question_mark"])


def test_first_run(snap_compare):
    assert snap_compare(MsgtermApp(None, None, first_run_config="/home/desk/.config/msgterm/config.toml"), terminal_size=SIZE)
