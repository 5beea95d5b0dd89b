"""The command line: version, client import, staff and roles, export, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from msgterm.cli import main

HEADER = "client_id,uid,first_name,last_name,mobile_phone,email,client_type,groups,home_location\n"


def run(*args, db=None):
    argv = (["--db", str(db)] if db else []) + list(args)
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def csv_file(tmp_path, rows, name="clients.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


ROWS = [
    "C1,U1,Ada,Lovelace,(212) 555-0201,ada@example.com,Member,Yoga regulars;VIP,Downtown",
    "C2,U2,Grace,Hopper,+1 415 555 0102,grace@example.com,Prospect,,Riverside",
    "C3,U3,Alan,Turing,2125550203,alan@example.com,Member,Pilates,Downtown",
    "C4,U4,Bad,Email,2125550204,not-an-email,Member,,Downtown",
    ",U5,No,Id,2125550205,,Member,,Downtown",
    "C6,U6,Bad,Phone,555-12,,Member,,Downtown",
    "C7,U1,Dup,Uid,2125550207,,Member,,Downtown",
]


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and "msgterm, version 0.1.0" in result.output


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "msgterm", "--version"], capture_output=True, text=True, check=True)
    assert "msgterm" in out.stdout


def test_import_reports_bad_rows_by_line_and_keeps_good_ones(tmp_path):
    db = tmp_path / "s.db"
    result = run("clients", "import", str(csv_file(tmp_path, ROWS)), db=db)
    assert result.exit_code == 1
    assert 'line 5: email "not-an-email" is not an email address' in result.output
    assert "line 6: client_id is empty" in result.output
    assert 'line 7: mobile_phone "555-12" is not a valid number' in result.output
    assert 'line 8: uid "U1" already belongs to client C1' in result.output
    assert "imported 3 new and updated 0 clients; 4 rows skipped" in result.output

    from msgterm.store import open_store

    store = open_store(db)
    ada = store.client_by_ref("C1")
    assert (ada.mobile_phone, ada.groups, ada.client_type, ada.home_location) == (
        "+12125550201",
        ("VIP", "Yoga regulars"),
        "Member",
        "Downtown",
    )
    assert store.client_count() == 3


def test_reimport_updates_by_client_id_without_duplicates(tmp_path):
    db = tmp_path / "s.db"
    run("clients", "import", str(csv_file(tmp_path, ROWS[:3])), db=db)
    changed = [ROWS[0].replace("Lovelace", "King").replace("Yoga regulars;VIP", "VIP"), *ROWS[1:3]]
    result = run("clients", "import", str(csv_file(tmp_path, changed, "again.csv")), db=db)
    assert result.exit_code == 0, result.output
    assert "imported 0 new and updated 3 clients; 0 rows skipped" in result.output
    from msgterm.store import open_store

    store = open_store(db)
    assert store.client_count() == 3
    ada = store.client_by_ref("C1")
    assert (ada.last_name, ada.groups) == ("King", ("VIP",))


def test_import_with_wrong_header_says_which_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,name\n1,x\n")
    result = run("clients", "import", str(path), db=tmp_path / "s.db")
    assert result.exit_code == 1 and "lacks client_id, uid" in result.output


def test_staff_add_list_and_roles(tmp_path):
    db = tmp_path / "s.db"
    assert (
        "added jo (Jo Desk) as Front Desk" in run("staff", "add", "jo", "--name", "Jo Desk", "--role", "front desk", db=db).output
    )
    assert "updated jo (Jo Desk) as Viewer" in run("staff", "add", "jo", "--role", "Viewer", db=db).output
    assert "jo\tJo Desk\tViewer" in run("staff", "list", db=db).output
    bad = run("staff", "add", "kim", "--role", "Boss", db=db)
    assert bad.exit_code == 1 and 'there is no role "Boss"' in bad.output
    roles = run("roles", db=db).output
    assert "Manager: Send Email/SMS to clients" in roles
    assert "Front Desk: Send Email/SMS to clients" in roles
    assert "Viewer: read only" in roles


def test_export_fields_exactly(tmp_path):
    from conftest import add_client, inbound, staff_send

    from msgterm.store import open_store

    db = tmp_path / "s.db"
    store = open_store(db, business_number="+12125550100")
    desk = store.add_staff("desk", "Dee", "Front Desk")[0]
    client = add_client(store)
    (cid,) = inbound(store, store.client(client).mobile_phone, "hi [bold]x[/]").changed_conversations
    store.archive(desk, cid)
    staff_send(store, desk, cid, "hello")
    inbound(store, "+19175550299", "unknown")
    lines = [json.loads(line) for line in run("export", "--json", db=db).output.splitlines()]
    kinds = [(line["kind"], line.get("event") or line.get("direction")) for line in lines]
    assert kinds == [
        ("message", "inbound"),
        ("event", "archive"),
        ("message", "outbound"),
        ("event", "send"),
        ("message", "inbound"),
        ("totals", None),
        ("totals", None),
    ]
    first = lines[0]
    assert set(first) == {"kind", "at", "client_id", "phone", "sid", "direction", "body", "status", "staff"}
    assert first["client_id"] == "C001" and first["phone"] == "+12125550201" and first["body"] == "hi [bold]x[/]"
    assert first["at"].endswith("Z") and first["staff"] is None
    assert set(lines[1]) == {"kind", "at", "client_id", "phone", "event", "staff"} and lines[1]["staff"] == "desk"
    assert lines[2]["staff"] == "desk" and lines[2]["direction"] == "outbound"
    assert lines[4]["client_id"] is None and lines[4]["phone"] == "+19175550299"
    # Then what each client (and unknown sender) sent and received, for the credit bill.
    assert lines[5] == {
        "kind": "totals",
        "client_id": "C001",
        "phone": None,
        "sent_messages": 1,
        "sent_segments": 1,
        "sent_media": 0,
        "received_segments": 1,
        "received_media": 0,
    }
    assert (lines[6]["client_id"], lines[6]["phone"], lines[6]["received_segments"]) == (None, "+19175550299", 1)
    only = run("export", "--client", "C001", "--json", db=db).output.splitlines()
    assert len(only) == 5 and json.loads(only[-1])["sent_segments"] == 1


def test_unwritable_database_is_a_clear_error(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.geteuid() == 0:
            db = "/proc/msgterm-cannot-be-here/s.db"
        else:
            db = locked / "sub" / "s.db"
        result = subprocess.run([sys.executable, "-m", "msgterm", "--db", str(db), "roles"], capture_output=True, text=True)
        assert result.returncode == 1
        assert result.stderr.startswith("msgterm: ")
        assert "Traceback" not in result.stderr
    finally:
        os.chmod(locked, 0o700)


def test_csv_problems_are_reported_by_line_and_nothing_else_is_lost(tmp_path):
    rows = [
        'C1,U1,Ada,"Lovelace,2125550201,,Member,,Downtown',  # a quote never closed
        "C2,U2,Grace,Hopper,2125550202,,Member,,Downtown",
        "C2,U9,Grace,Again,2125550209,,Member,,Uptown",  # the same client_id again
        "C3,U3," + "x" * 200_000 + ",Long,2125550203,,Member,,Downtown",  # past csv's own field limit
        "C4,U4,Alan,Turing,2125550204,,Member,,Downtown",
    ]
    db = tmp_path / "s.db"
    result = run("clients", "import", str(csv_file(tmp_path, rows)), db=db)
    assert result.exit_code == 1
    assert 'line 2: has a quote (") that is never closed' in result.output
    assert 'line 4: client_id "C2" is also on line 3, which was kept' in result.output
    assert "line 5: first_name is 200,000 characters long; at most 1,000" in result.output
    assert "imported 2 new and updated 0 clients; 3 rows skipped" in result.output
    from msgterm.store import open_store

    store = open_store(db)
    assert store.client_by_ref("C2").home_location == "Downtown"
    assert store.client_by_ref("C4").name == "Alan Turing"


def test_staff_list_on_an_empty_store_says_how_to_add_one(tmp_path):
    result = run("staff", "list", db=tmp_path / "s.db")
    assert result.exit_code == 0
    assert "no staff members yet; add one with: msgterm staff add" in result.output


def test_shared_options_work_after_the_command_too(tmp_path):
    db = tmp_path / "after.db"
    added = CliRunner().invoke(main, ["staff", "add", "bob", "--db", str(db), "--name", "Bob"], catch_exceptions=False)
    assert added.exit_code == 0, added.output
    listed = CliRunner().invoke(main, ["staff", "list", f"--db={db}"], catch_exceptions=False)
    assert "bob\tBob\tFront Desk" in listed.output
    assert "bob\tBob" in run("staff", "list", db=db).output


def test_assign_and_note_from_the_command_line_with_the_same_checks(tmp_path):
    from conftest import add_client, inbound

    from msgterm.store import open_store

    db = tmp_path / "s.db"
    store = open_store(db, business_number="+12125550100")
    store.add_staff("desk", "Dee Desk", "Front Desk")
    store.add_staff("maria", "Maria Lopez", "Front Desk")
    store.add_staff("vic", "Vic Viewer", "Viewer")
    client = store.client(add_client(store))
    (cid,) = inbound(store, client.mobile_phone, "hi").changed_conversations

    result = run("--as", "desk", "assign", "C001", "maria", db=db)
    assert result.exit_code == 0 and "assigned First1 Last1 to Maria Lopez" in result.output
    assert store.conversation(cid).assignee_username == "maria"
    assert "nothing changed" in run("--as", "desk", "assign", "C001", "maria", db=db).output
    assert run("--as", "desk", "assign", "C001", db=db).exit_code == 2  # whom?
    refused = run("--as", "vic", "assign", "C001", "--nobody", db=db)
    assert refused.exit_code == 1 and "cannot assign conversations" in refused.output
    assert 'no staff member "nobody-here"' in run("--as", "desk", "assign", "C001", "nobody-here", db=db).output
    assert "unassigned First1 Last1" in run("--as", "desk", "assign", "C001", "--nobody", db=db).output
    assert store.conversation(cid).assignee_id is None

    assert "note added to First1 Last1" in run("--as", "desk", "note", "C001", "call back after 5 @maria", db=db).output
    (note,) = [m for m in store.messages(cid) if m.note]
    assert (note.body, note.staff_username) == ("call back after 5 @maria", "desk")
    assert [a.kind for a in store.alerts_since(0)] == ["inbound", "mention"]
    assert run("--as", "vic", "note", "C001", "psst", db=db).exit_code == 1
    store.dispose()


def test_link_an_unknown_senders_number_from_the_command_line(tmp_path):
    from conftest import add_client, inbound

    from msgterm.store import open_store

    db = tmp_path / "s.db"
    store = open_store(db, business_number="+12125550100")
    store.add_staff("desk", "Dee Desk", "Front Desk")
    store.add_staff("vic", "Vic Viewer", "Viewer")
    ada = add_client(store, 1, first_name="Ada", last_name="Lovelace")
    (walk_in,) = inbound(store, "+12125559876", "hi").changed_conversations

    assert "only a number that has texted in" in run("--as", "desk", "link", "212 555 0000", "C001", db=db).output
    refused = run("--as", "vic", "link", "(212) 555-9876", "C001", db=db)
    assert refused.exit_code == 1 and "cannot link a number to a client" in refused.output
    linked = run("--as", "desk", "link", "(212) 555-9876", "C001", db=db)
    assert linked.exit_code == 0 and "linked +1 212-555-9876 to Ada Lovelace" in linked.output
    assert store.conversation(walk_in).client_id == ada
    again = run("--as", "desk", "link", "(212) 555-9876", "C001", db=db)
    assert again.exit_code == 1 and "already Ada Lovelace's" in again.output
    store.dispose()


def test_usage_counts_the_segments_and_media_of_a_month(tmp_path, monkeypatch):
    from conftest import time_zone

    with time_zone(monkeypatch, "UTC"):
        _usage_in_utc(tmp_path)


def _usage_in_utc(tmp_path):
    from datetime import datetime

    from conftest import BUSINESS, FixedClock, add_client, inbound, staff_send

    from msgterm.domain.provider_message import ProviderMessage
    from msgterm.store import open_store

    db = tmp_path / "s.db"
    clock = FixedClock(datetime(2026, 11, 10, 12, 0))
    store = open_store(db, clock=clock, business_number=BUSINESS)
    desk = store.add_staff("desk", "Dee Desk", "Front Desk")[0]
    phone = store.client(add_client(store)).mobile_phone
    (cid,) = inbound(store, phone, "hi").changed_conversations
    staff_send(store, desk, cid, "Sure")
    at = clock()
    reminder = ProviderMessage("SM" + "7" * 32, "outbound", BUSINESS, phone, "r" * 400, "delivered", at, at, num_segments=3)
    store.ingest([reminder])  # another system's: sent too
    store.ingest([ProviderMessage("MM" + "1" * 32, "inbound", phone, BUSINESS, "", "received", at, at, num_media=2)])
    store.schedule_send(desk, cid, "later", datetime(2026, 11, 20, 9, 0))  # not sent: costs nothing
    clock.now = datetime(2026, 12, 1, 0, 0)
    inbound(store, phone, "December")

    november = run("usage", "--month", "2026-11", db=db)
    assert november.exit_code == 0, november.output
    assert november.output.split("\n")[:3] == [
        "usage 2026-11 (local time)",
        "  sent:             2 messages         4 segments       0 media",
        "  received:         2 messages         2 segments       2 media",
    ]
    assert "received:         1 messages" in run("usage", "--month", "2026-12", db=db).output
    bad = run("usage", "--month", "November", db=db)
    assert bad.exit_code == 2 and "write it as YYYY-MM" in bad.output
    store.dispose()
