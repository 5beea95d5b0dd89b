"""The demo store: deterministic, believable, every folder filled."""

from __future__ import annotations

from conftest import BUSINESS, T0, FixedClock, migrated_sqlite

from msgterm.demo import build_demo
from msgterm.domain.folders import FolderView
from msgterm.store import open_store


def _build(path, seed):
    store = open_store(migrated_sqlite(path), clock=FixedClock(T0), business_number=BUSINESS)
    summary = build_demo(store, seed=seed, now=T0)
    return store, summary


def test_demo_is_deterministic_and_fills_every_folder(tmp_path):
    store_a, a = _build(tmp_path / "a.db", 7)
    store_b, b = _build(tmp_path / "b.db", 7)
    assert a == b
    assert [c.title for c in store_a.conversations(limit=500)] == [c.title for c in store_b.conversations(limit=500)]
    assert a.clients == 300
    for view in (FolderView.UNREAD, FolderView.REPLIED, FolderView.ARCHIVED):
        assert a.folders[view.value] > 0
    read = store_a.conversation_count(FolderView.ALL) - sum(
        a.folders[v.value] for v in (FolderView.UNREAD, FolderView.REPLIED, FolderView.ARCHIVED)
    )
    assert read > 0
    bodies = [m.body for c in store_a.conversations(limit=500) for m in store_a.messages(c.id)]
    assert "STOP" in bodies
    assert any(c.client_id is None for c in store_a.conversations(limit=500))
    assert any(c.muted for c in store_a.conversations(limit=500))


def test_demo_command_builds_then_reuses_and_fresh_rebuilds(tmp_path):
    from click.testing import CliRunner

    from msgterm.cli import main

    first = CliRunner().invoke(main, ["demo", "--summary"], catch_exceptions=False)
    assert first.exit_code == 0 and "300 clients" in first.output
    again = CliRunner().invoke(main, ["demo", "--summary"], catch_exceptions=False)
    assert again.stdout == first.stdout
    assert "building the demo store in " in first.stderr and "building" not in again.stderr
    fresh = CliRunner().invoke(main, ["demo", "--fresh", "--summary", "--seed", "3"], catch_exceptions=False)
    assert fresh.exit_code == 0 and "300 clients" in fresh.output
    assert fresh.stdout != first.stdout  # another seed, another store
