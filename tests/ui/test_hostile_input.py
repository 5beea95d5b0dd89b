"""Outside text (client directory, staff names, provider data) is shown literally everywhere:
never parsed as markup, never run as an action, never sent raw to the terminal, never wider
than its row."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from app_fixtures import make_app, settled, settled_start
from click.testing import CliRunner
from conftest import BUSINESS, T0, FixedClock, add_client, inbound, point_at
from rich.cells import cell_len

from msgterm.cli import main
from msgterm.domain.sanitize import clean_line
from msgterm.screens.new_conversation import NewConversation
from msgterm.store import open_store
from msgterm.widgets.conversation_list import ConversationList
from msgterm.widgets.filter_sidebar import FilterSidebar

CORPUS: list[str] = json.loads((Path(__file__).parents[1] / "data" / "hostile_strings.json").read_text())["strings"]
#: What must never reach a terminal: ESC, other C0 controls but newline and tab, DEL, C1.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufe0f\ufeff]")
SIZE = (120, 36)


_TEMPLATE: dict[str, Path] = {}


def hostile_store(tmp_path):
    """One client per hostile string: in the name, the type, a group and the location.
    Built once per test process and copied for each test (it takes a second to build)."""
    import shutil

    clock = FixedClock(T0)
    if "path" not in _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="hostile-")) / "hostile.db"
        store = open_store(template, clock=clock, business_number=BUSINESS)
        store.add_staff("desk", "Dee Desk", "Front Desk")
        for n, text in enumerate(CORPUS, start=1):
            add_client(
                store,
                n,
                first_name=text or "-",
                last_name=f"Hostile{n}",
                client_type=text or "-",
                groups=(text or "-",),
                home_location=text or "-",
                email=None,
            )
            inbound(store, store.client(store.client_by_ref(f"C{n:03d}").id).mobile_phone, text or "(empty)")
        store.mark_synced(T0)
        store.dispose()
        _TEMPLATE["path"] = template
    shutil.copy(_TEMPLATE["path"], tmp_path / "hostile.db")
    return open_store(tmp_path / "hostile.db", clock=clock, business_number=BUSINESS), clock


def assert_literal(shown: str, original: str) -> None:
    assert shown == clean_line(original), (shown, original)
    assert not RAW_CONTROL.search(shown)


async def test_directory_values_with_markup_are_sidebar_text_not_markup(tmp_path):
    store, clock = hostile_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        sidebar = app.screen.query_one(FilterSidebar)
        for list_id, values in (
            ("#types", store.filter_values().client_types),
            ("#groups", store.filter_values().groups),
            ("#locations", store.filter_values().locations),
        ):
            selection = sidebar.query_one(list_id)
            shown = [str(selection.get_option_at_index(i).prompt) for i in range(selection.option_count)]
            assert len(shown) == len(values) >= len(set(CORPUS)) - 1
            for prompt, value in zip(shown, values, strict=True):
                assert_literal(prompt, value)
        # Selecting "[@click=app.quit]VIP[/]" filters by it; it runs nothing.
        groups = sidebar.query_one("#groups")
        index = list(store.filter_values().groups).index("[@click=app.quit]VIP[/]")
        groups.focus()
        groups.highlighted = index
        await pilot.press("space")
        await pilot.pause()
        assert app.is_running
        assert sidebar.filters.groups == ("[@click=app.quit]VIP[/]",)
        assert app.screen.query_one(ConversationList).count == 1


async def test_list_rows_keep_their_columns_whatever_the_name(tmp_path):
    store, clock = hostile_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        listing = app.screen.query_one(ConversationList)
        width = listing.size.width
        name_width = min(20, max(10, width // 3))
        assert listing.count == len(CORPUS)
        for index in range(listing.count):
            strip = listing._draw(index, width)
            segments = list(strip)
            text = strip.text
            assert strip.cell_length == width
            assert cell_len(segments[1].text) == name_width + 1, segments[1].text
            assert not RAW_CONTROL.search(text) and not INVISIBLE.search(text), repr(text)


async def test_new_conversation_picker_shows_hostile_names_literally_and_runs_no_action(tmp_path):
    store, clock = hostile_store(tmp_path)
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, NewConversation)
        clients = store.find_clients("hostile", limit=len(CORPUS))
        assert len(clients) == len(CORPUS)
        picker.show_matches(clients)
        await pilot.pause()
        matches = picker.query_one("#matches")
        for index, client in enumerate(clients):
            prompt = str(matches.get_option_at_index(index).prompt)
            assert prompt.startswith(clean_line(client.name) + "  —  "), (prompt, client.name)
            assert not RAW_CONTROL.search(prompt)
        # Typing a hostile name finds it; clicking it opens that client, nothing else happens.
        await pilot.click("#typed")
        await pilot.press(*"tap here")
        await pilot.wait_for_scheduled_animations()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert matches.option_count == 1
        assert str(matches.get_option_at_index(0).prompt).startswith("[@click=app.quit]tap here[/] Hostile")
        await pilot.click("#matches")
        await pilot.pause()
        assert app.is_running


def test_like_wildcards_typed_in_the_picker_match_themselves(tmp_path):
    store, _clock = hostile_store(tmp_path)
    found = {c.name for c in store.find_clients("%", limit=200)}
    assert found and all("%" in name for name in found)
    underscored = {c.name for c in store.find_clients("a_b", limit=200)}
    assert underscored == {"a_b Hostile" + str(CORPUS.index("a_b") + 1)}


async def test_an_unexpected_error_never_shows_anyones_data(tmp_path, capsys):
    """Textual's crash screen prints every frame's locals; ours prints one line."""
    store, clock = hostile_store(tmp_path)
    app = make_app(store, clock)

    def explode():
        client_name = "Ada Lovelace +12125550201"  # noqa: F841 - a local the crash screen would print
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            app.call_later(explode)
            await pilot.pause()
    shown = capsys.readouterr().err
    assert "RuntimeError" in shown and "log" in shown
    assert "Lovelace" not in shown and "5550201" not in shown


ESCAPING = [s for s in CORPUS if RAW_CONTROL.search(s) or INVISIBLE.search(s)]


def raw_bytes_are_safe(output: bytes) -> None:
    text = output.decode("utf-8")
    assert not RAW_CONTROL.search(text.replace("\t", " ")), repr(text)
    assert "\u202e" not in text and "\u2066" not in text


def test_cli_prints_hostile_staff_and_client_names_as_text(tmp_path, monkeypatch, twilio):
    db = tmp_path / "cli.db"
    runner = CliRunner()
    for n, name in enumerate(ESCAPING):
        added = runner.invoke(main, ["--db", str(db), "staff", "add", f"user{n}", "--name", name])
        assert added.exit_code == 0, added.output
        raw_bytes_are_safe(added.stdout_bytes)
    listed = subprocess.run(
        [sys.executable, "-m", "msgterm", "--db", str(db), "staff", "list"],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    raw_bytes_are_safe(listed.stdout)
    assert listed.stdout.count(b"\n") == len(ESCAPING)
    assert b"\xe2\x90\x9b]0;pwned" in listed.stdout  # ␛ shown for ESC

    point_at(twilio, monkeypatch, db)
    store = open_store(db, business_number=BUSINESS)
    for n, name in enumerate(ESCAPING[:6], start=1):
        add_client(store, n, first_name=name, last_name="Client")
        sent = runner.invoke(main, ["--as", "user0", "send", f"C{n:03d}", "See you at 6"])
        assert sent.exit_code == 0, sent.output
        assert "sent to" in sent.output
        raw_bytes_are_safe(sent.stdout_bytes)
    exported = runner.invoke(main, ["export", "--json"])
    raw_bytes_are_safe(exported.stdout_bytes)


def test_the_export_stays_exact_while_safe_to_print(tmp_path):
    store, _clock = hostile_store(tmp_path)
    from msgterm.export import export_lines

    lines = list(export_lines(store))
    for line in lines:
        assert not RAW_CONTROL.search(line) and "\u202e" not in line
    bodies = {json.loads(line)["body"] for line in lines if '"kind": "totals"' not in line}
    assert bodies == {text or "(empty)" for text in CORPUS}


def test_log_lines_carry_outside_text_as_text(tmp_path):
    import logging

    from msgterm.logs import setup_logging

    path = setup_logging(tmp_path / "logs")
    logging.getLogger("msgterm.test").warning("provider said %s", "\x1b]0;pwned\x07 \x9b2J")
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = path.read_text(encoding="utf-8")
    assert "provider said ␛]0;pwned␇ \ufffd2J" in written
    assert not RAW_CONTROL.search(written.replace("\n", ""))


def test_the_store_and_the_log_are_private_to_their_owner(tmp_path):
    import logging
    import stat

    from msgterm.logs import setup_logging

    def mode(path) -> int:
        return stat.S_IMODE(os.stat(path).st_mode)

    db = tmp_path / "new" / "store.db"
    store = open_store(db, business_number=BUSINESS)
    store.add_staff("desk", "Dee Desk", "Front Desk")
    assert mode(db.parent) == 0o700
    for suffix in ("", "-wal", "-shm"):
        assert mode(db.with_name(db.name + suffix)) == 0o600, suffix
    store.dispose()

    path = setup_logging(tmp_path / "logs")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None) == str(path))
    logging.getLogger("msgterm.test").warning("a line")
    handler.doRollover()
    logging.getLogger("msgterm.test").warning("another line")
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600 and mode(path.with_name(path.name + ".1")) == 0o600


async def test_every_screen_shows_hostile_names_literally(tmp_path):
    """Thread header, contact history, options menu and the new-message toast, for the
    clients whose names hold markup, actions and escapes."""
    from msgterm.sync.cycle import CycleReport
    from msgterm.sync.poller import LoopOutcome, LoopState

    store, clock = hostile_store(tmp_path)
    markup = [s for s in CORPUS if s.startswith("[")]
    escapes = [s for s in CORPUS if RAW_CONTROL.search(s) or INVISIBLE.search(s)]
    chosen = markup[:2] + escapes[:2] + ["漢" * 200, "👨‍👩‍👧‍👦 family"]
    app = make_app(store, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settled_start(pilot)
        listing = app.screen.query_one(ConversationList)
        for text in chosen:
            client = store.client_by_ref(f"C{CORPUS.index(text) + 1:03d}")
            name = clean_line(client.name)
            await pilot.press("4")
            assert listing.select_id(next(c.id for c in store.conversations() if c.client_id == client.id))
            await pilot.press("enter")
            await pilot.pause()
            header = str(app.screen.query_one("#thread-text").render())
            assert name in header and not RAW_CONTROL.search(header)
            if text not in chosen[::2]:
                continue  # each modal costs a screen switch: a sample of names is enough there
            await pilot.press("c")
            await pilot.pause()
            history = str(app.screen.query_one("#history-text").render())
            assert f"Contact history — {name}" in history and not RAW_CONTROL.search(history)
            await pilot.press("escape", "o")
            await pilot.pause()
            labels = " ".join(str(label.render()) for label in app.screen.query("Label"))
            assert name in labels and not RAW_CONTROL.search(labels)
            await pilot.press("escape")
            await pilot.pause()
            assert app.is_running
        report = CycleReport()
        # A client's hostile text stored by a sync: its alert is read from the store.
        report.alerts = list(inbound(store, client.mobile_phone, "[@click=app.quit]tap[/] \x1b]0;t\x07").alerts)
        app.post_sync(LoopOutcome(LoopState.SYNCED, 1.0, "ok", report))
        assert await settled(pilot, lambda: any(n.title == "New message" for n in app._notifications))
        shown = [n.message for n in app._notifications if n.title == "New message"][-1]
        assert shown == clean_line(f"{client.name}: [@click=app.quit]tap[/] \x1b]0;t\x07")
        assert app.is_running
