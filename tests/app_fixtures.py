"""A small store and an app over it, on a fixed clock, for Pilot and snapshot tests."""

from __future__ import annotations

from datetime import timedelta

import textual._wait
from conftest import BUSINESS, T0, FixedClock, add_client, automated, inbound, migrated_sqlite, staff_send

from msgterm.app import MsgtermApp
from msgterm.store import open_store
from msgterm.sync.simulated import SimulatedProvider
from msgterm.widgets.conversation_list import ConversationList

# Pilot waits after every key until the app looks idle, in slices of 1/50 s: at least 40 ms a
# key, most of a typing test's time. The same test (a slice with 5% of it busy is idle) in
# slices of 5 ms. Tests never rely on it: they wait for workers and conditions.
textual._wait.SLEEP_GRANULARITY = 0.005
textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 20

HOSTILE = [
    "[@click=app.quit]quit[/]",
    "[link=https://x]x[/link]",
    "[bold red]",
    "esc \x1b]0;pwned\x07 \x1b[2J clear \u202egnp.exe\u202c ctrl \x00\x08 end",
]


def build_store(tmp_path, *, hostile: bool = False, url=None):
    clock = FixedClock(T0)
    store = open_store(url or migrated_sqlite(tmp_path / "app.db"), clock=clock, business_number=BUSINESS)
    desk = store.add_staff("desk", "Dee Desk", "Front Desk")[0]
    store.add_staff("viewer", "Vic Viewer", "Viewer")
    people = [
        dict(first_name="Ada", last_name="Lovelace", client_type="Member", groups=("VIP",), home_location="Downtown"),
        dict(first_name="Grace", last_name="Hopper", client_type="Prospect", groups=(), home_location="Riverside"),
        dict(first_name="Alan", last_name="Turing", client_type="Member", groups=("Yoga regulars",), home_location="Downtown"),
        dict(first_name="Edsger", last_name="Dijkstra", client_type="Former member", groups=(), home_location="Uptown"),
        dict(first_name="Barbara", last_name="Liskov", client_type="Member", groups=("VIP",), home_location="Uptown"),
    ]
    ids = [add_client(store, n + 1, **p) for n, p in enumerate(people)]
    phones = [store.client(i).mobile_phone for i in ids]
    clock.now = T0 - timedelta(hours=5)
    inbound(store, phones[0], "Is there space in the 6pm Vinyasa?")
    clock.advance(minutes=3)
    (replied,) = inbound(store, phones[1], "Can I move my massage to Friday?").changed_conversations
    clock.advance(minutes=10)
    staff_send(store, desk, replied, "Sure, Friday at 5:30 works")
    clock.advance(minutes=30)
    automated(store, phones[2], "Reminder: Hot Yoga tomorrow at 7am")
    clock.advance(minutes=1)
    inbound(store, phones[2], "C")
    clock.advance(hours=1)
    (archived,) = inbound(store, phones[3], "Thanks for everything!").changed_conversations
    store.archive(desk, archived)
    clock.advance(minutes=20)
    inbound(store, phones[4], "Running 10 min late")
    clock.advance(minutes=1)
    inbound(store, phones[4], "Please hold my spot")
    if hostile:
        for body in HOSTILE:
            clock.advance(minutes=1)
            inbound(store, phones[0], body)
    clock.now = T0
    store.mark_synced(T0)
    return store, clock


#: Workers that run as long as the app does (the poller, the change watcher): waiting for them
#: to complete would wait for ever.
LIFELONG_GROUPS = {"poller", "changes"}


async def reads_done(app) -> None:
    """Until every read and write the app started has completed."""
    ending = [w for w in app.workers if w.group not in LIFELONG_GROUPS]
    if ending:  # an empty list would mean every worker to Textual
        await app.workers.wait_for_complete(ending)


async def settled_start(pilot) -> None:
    """Wait until the main screen shows its first listing and every read it started is done."""
    while not pilot.app.main_screen.ready:
        await pilot.pause(0.01)
    await reads_done(pilot.app)
    await pilot.pause()


async def quiet(pilot) -> None:
    """Until every read and write of the store is done and shown, and no preview is due."""
    for _ in range(2):  # a result may start another read (a list page, the preview)
        await reads_done(pilot.app)
        await pilot.pause()
    while pilot.app.main_screen is not None and not pilot.app.main_screen.quiet:
        await pilot.pause(0.01)
        await reads_done(pilot.app)
        await pilot.pause()


def make_app(store, clock, staff: str = "desk", provider=None, **kwargs) -> MsgtermApp:
    provider = provider or SimulatedProvider(
        BUSINESS, store.textable_numbers, clock=clock, walk_in_every=timedelta(days=365), reply_after=timedelta(days=365)
    )
    kwargs = {"start_poller": False, "watch_changes": False, "bell": False} | kwargs
    app = MsgtermApp(store, store.staff_member(staff), provider=provider, clock=clock, **kwargs)
    app.animation_level = "none"  # Textual's scroll animations take a second each
    return app


# ---- for Pilot tests ------------------------------------------------------------------------


def listing(app) -> ConversationList:
    return app.screen.query_one(ConversationList)


def header(app) -> str:
    return str(app.screen.query_one("#list-header").render())


def thread_text(app) -> str:
    return str(app.screen.query_one("#thread-text").render())


async def settled(pilot, condition, timeout: float = 5.0) -> bool:
    """Wait until ``condition()`` holds (workers finished), at most ``timeout`` seconds."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return True
        await pilot.pause(0.05)
    return condition()


def by_name(store, name):
    return next(c for c in store.conversations(limit=100) if c.title == name)


async def open_named(pilot, app, name):
    await pilot.press("4")
    listing(app).select_id(by_name(app.store, name).id)
    await pilot.press("enter")
    await pilot.pause()
