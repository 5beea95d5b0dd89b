"""The msgterm App: wiring only (store, staff, send pipeline, poller worker, change watcher)."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from msgterm.domain.permissions import StaffMember
from msgterm.domain.sanitize import clean_line
from msgterm.domain.team import AlertRecord, AlertsFor, concerns
from msgterm.domain.when import QuietHours, local_zone
from msgterm.messages import AlertsArrived, HistoryProgressed, StoreChanged, SyncStepped
from msgterm.preferences import load_theme, save_theme
from msgterm.store import Store
from msgterm.sync.cycle import HistoryProgress
from msgterm.sync.poller import Poller, PollLoop, SendTiming, holder_name
from msgterm.sync.send import SendPipeline

log = logging.getLogger(__name__)

#: How often each terminal looks at the store's change log (cheap: one indexed range read).
#: On PostgreSQL a NOTIFY from the writer wakes it at once.
CHANGE_CHECK_SECONDS = 1.0


class MsgtermApp(App):
    """A Message Center for the front desk."""

    CSS_PATH = "app.tcss"
    TITLE = "msgterm"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(
        self,
        store: Store | None,
        staff: StaffMember | None,
        *,
        provider=None,
        demo: bool = False,
        region: str = "US",
        poll_interval: float = 10.0,
        history_days: int = 90,
        bell: bool = True,
        alerts: str = AlertsFor.MINE_AND_UNASSIGNED,
        clock: Callable[[], datetime] | None = None,
        first_run_config: str | None = None,
        watch_changes: bool = True,
        start_poller: bool = True,
        freeze_heap: bool = False,
        preferences: Path | None = None,
        quiet_hours: QuietHours | None = None,
        zone: tzinfo | None = None,
        image_widget: type | None = None,
    ) -> None:
        super().__init__()
        #: What draws an image attachment in this terminal (inline_images.py); None: the system viewer.
        self.image_widget = image_widget
        self.store = store
        self.staff = staff
        self.provider = provider
        self.demo = demo
        self.bell_on_inbound = bell
        self.alerts_for = AlertsFor(alerts)
        self.clock = clock or (store.clock if store else datetime.utcnow)
        self.first_run_config = first_run_config
        self.watch_changes = watch_changes
        self.start_poller = start_poller
        self._freezes_left = 2 if freeze_heap else 0  # after the first paint, after the first sync step
        self.send_pipeline = SendPipeline(store, provider, region) if store and provider else None
        #: The region, quiet hours and time zone that scheduled sends and times typed use.
        self.timing = SendTiming(region, quiet_hours, zone or local_zone())
        self.poll_loop = (
            PollLoop(
                Poller(
                    store,
                    provider,
                    history_days=history_days,
                    on_progress=self._history_progressed,
                    holder=holder_name(staff.full_name or staff.username if staff else ""),
                    timing=self.timing,
                ),
                poll_interval,
            )
            if store and provider
            else None
        )
        self.main_screen: Screen | None = None
        #: Where the chosen theme is remembered (preferences.py); None in tests.
        self.preferences = preferences
        self._theme_restored = False
        self._stop = threading.Event()
        self._change_seq = 0
        #: The last alert this terminal has looked at (None until the store was first read).
        self._alert_seq: int | None = None
        self._alert_lock = threading.Lock()
        #: This terminal's name in the store's presence table.
        self.terminal = holder_name(staff.username if staff else "")

    def on_mount(self) -> None:
        remembered = load_theme(self.preferences) if self.preferences else None
        if remembered in self.available_themes:
            self.theme = remembered
        self._theme_restored = True  # from now on a theme change is the user's choice
        if self.first_run_config is not None:
            from msgterm.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(self.first_run_config))
            return
        from msgterm.screens.main_screen import MainScreen

        self.main_screen = MainScreen()
        self.push_screen(self.main_screen)

    def watch_theme(self, theme: str) -> None:
        if self.preferences is not None and self._theme_restored:
            save_theme(self.preferences, theme)

    # ---- background work ---------------------------------------------------------------------

    def start_background_work(self) -> None:
        """The change watcher and the poller; the main screen starts them after its first paint,
        which they would otherwise slow (the poller's first step imports the Twilio client)."""
        self._freeze_long_lived()
        if self.watch_changes:
            self.watch_store()
        if self.poll_loop is not None and self.start_poller:
            self.poll_forever()

    @work(thread=True, exclusive=True, group="poller", exit_on_error=False)
    def poll_forever(self) -> None:
        """The poller, in a worker thread; it never blocks the UI."""
        loop = self.poll_loop
        assert loop is not None, "the poller runs only with a provider"
        while not self._stop.is_set():
            outcome = loop.step()
            self.call_from_thread(self.post_sync, outcome)
            self._stop.wait(outcome.delay)
        loop.release()

    def poll_now(self) -> None:
        """One poll step on the calling thread (tests drive the poller this way)."""
        assert self.poll_loop is not None, "the poller runs only with a provider"
        self.post_sync(self.poll_loop.step())

    def _freeze_long_lived(self) -> None:
        """With ``freeze_heap`` (the real app; not in tests, where it would keep every earlier
        test's garbage), freeze what exists after the first paint (modules, the first screen)
        and again after the first sync step (the Twilio client): it lives as long as the
        process, and the garbage collector stops walking it. Unfrozen, each full collection
        walked it all and stalled the UI for 100-190 ms every few seconds of browsing a big
        store; frozen twice, 8-25 ms. (Garbage cycles not yet collected at those two moments
        are kept too, once.)"""
        if self._freezes_left:
            self._freezes_left -= 1
            gc.freeze()

    def watch_from(self, change_seq: int, alert_seq: int | None = None) -> None:
        """Where the change watcher starts: the change log's end before the first reads (and
        the alerts' end: only what arrives after the start alerts)."""
        self._change_seq = change_seq
        if alert_seq is not None and self._alert_seq is None:
            self._alert_seq = alert_seq

    def _history_progressed(self, progress: HistoryProgress) -> None:
        """The poller stored a batch of history (on its own thread: post_message is thread-safe)."""
        if self.main_screen is not None:
            self.main_screen.post_message(HistoryProgressed(progress))

    def post_sync(self, outcome) -> None:
        """App-wide events go to the main screen, which is under any modal on top."""
        self._freeze_long_lived()
        if self.main_screen is not None:
            self.main_screen.post_message(SyncStepped(outcome))
        report = outcome.report
        if report and report.alerts:
            self.check_alerts()  # at once, on this terminal too; the others from the change log
        if report and report.changed:
            self._post_changes(frozenset(report.changed))

    @work(thread=True, exclusive=False, group="alerts", exit_on_error=False)
    def check_alerts(self) -> None:
        self._read_alerts()

    def _read_alerts(self) -> None:
        """Raise the alerts stored since the last look that concern this staff member: a new
        message in a conversation assigned to them (or to nobody, or to anyone, as the
        ``alerts`` setting says), a note that mentions them. Any thread may call this."""
        store, staff = self.store, self.staff
        if store is None or staff is None:
            return
        with self._alert_lock:
            if self._alert_seq is None:
                return  # not started: what is stored already is no news
            alerts = store.alerts_since(self._alert_seq)
            if not alerts:
                return
            self._alert_seq = alerts[-1].seq
        mine = [alert for alert in alerts if concerns(alert, staff.id, self.alerts_for)]
        if mine and not self._stop.is_set():
            self.post_message(AlertsArrived(mine))

    def on_alerts_arrived(self, event: AlertsArrived) -> None:
        alerts: list[AlertRecord] = event.alerts
        for alert in alerts:
            title = "New message" if alert.kind == "inbound" else "Mentioned in a note"
            self.notify(clean_line(f"{alert.title}: {alert.preview}"), title=title, markup=False)
        if self.bell_on_inbound:
            self.bell()

    @work(thread=True, exclusive=True, group="changes", exit_on_error=False)
    def watch_store(self) -> None:
        """Other terminals' changes: re-read only the conversations they touched."""
        store = self.store
        assert store is not None, "the change watcher runs only on a store"
        failures = 0
        while not self._stop.is_set():
            try:
                store.wait_for_changes(CHANGE_CHECK_SECONDS)
                seq, changed = store.changes_since(self._change_seq)
            except Exception as error:  # noqa: BLE001 - a store out of reach: wait, then catch up from the change log
                failures += 1
                log.warning("cannot read the store's changes (%s); trying again", type(error).__name__)
                self._stop.wait(min(30.0, CHANGE_CHECK_SECONDS * 2**failures))
                continue
            failures = 0
            if changed and not self._stop.is_set():
                self._change_seq = seq
                self.call_from_thread(self._post_changes, changed)
                try:
                    self._read_alerts()  # alerts are written with the changes that raise them
                except Exception as error:  # noqa: BLE001 - read again with the next change
                    log.warning("cannot read the store's alerts (%s)", type(error).__name__)

    def _post_changes(self, changed: frozenset[int]) -> None:
        if self.main_screen is not None:
            self.main_screen.post_message(StoreChanged(changed))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed says so on screen and in the log, never silently."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            log.error("background task %s failed", event.worker.name, exc_info=error)
            self.notify(
                f"{event.worker.name} failed: {type(error).__name__}: {error}. Nothing stored was lost; details are in the log.",
                severity="error",
                markup=False,
                timeout=10,
            )

    def _fatal_error(self) -> None:
        """An unhandled error ends the app with one plain line, never Textual's crash screen:
        that shows each frame's local variables, which hold clients' names, numbers and
        messages. The whole traceback (without locals) goes to the log file."""
        error = self._exception
        log.error("msgterm stopped on an unexpected error", exc_info=error)
        self.bell()
        name = type(error).__name__ if error is not None else "error"
        self._exit_renderables.append(
            Text(
                f"msgterm stopped on an unexpected error ({name}). Nothing stored was lost; "
                "the details are in the log file (msgterm.log in the log directory)."
            )
        )
        self._close_messages_no_wait()

    async def action_quit(self) -> None:
        from msgterm.screens.main_screen import MainScreen

        if isinstance(self.main_screen, MainScreen):
            self.main_screen.pane.flush_draft()  # the reply being typed stays as its draft
        await super().action_quit()

    def on_unmount(self) -> None:
        self._stop.set()
        interrupt = getattr(self.provider, "interrupt", None)
        if interrupt is not None:  # a Twilio call waiting to try again must not hold up quitting
            interrupt()

    # ---- app-wide actions ------------------------------------------------------------------------

    def action_help(self) -> None:
        from msgterm.screens.help_screen import HelpScreen

        self.push_screen(HelpScreen())

    def action_open_demo(self) -> None:
        self.exit("demo")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        from msgterm.screens.main_screen import MainScreen

        if isinstance(screen, MainScreen):
            from msgterm.screens.keymap import palette_commands

            for key in palette_commands():
                yield SystemCommand(key.command, key.does, lambda k=key: k.run_on(screen))
        yield SystemCommand("Help", "Every key", self.action_help)
