"""Measure msgterm on a big store and print one table of medians, budgets and ratios.

    uv run python bench/make_store.py --db /tmp/big.db
    uv run python bench/run.py --db /tmp/big.db

    uv run python bench/make_store.py --db postgresql+psycopg://postgres@127.0.0.1/msgterm_bench
    uv run python bench/run.py --db /tmp/big.db --db postgresql+psycopg://postgres@127.0.0.1/msgterm_bench

With several ``--db``, each store is measured in turn and the table has a column for each.

Every figure is a median of several runs. Where a same-run baseline makes sense it is
measured too and the ratio printed (these machines are noisy; ratios travel better):
start-up against an empty Textual app started the same way, a keypress against the
same keypress in a trivial Textual app, ingest against a bare executemany.
The app figures come from the real ``python -m msgterm`` in a pseudo-terminal of 120x36,
driven by keys and timed by its output; peak memory is that process's high-water mark.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import random
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from stores import bare_insert_seconds, copy_of, is_postgres, phones, shown, sizes, write_lock_held  # noqa: E402

BUSINESS = "+12125550100"
QUERIES = (("common word", "class"), ("rare word", "aquafit"), ("number fragment", "0142"))


def median(values) -> float:
    return statistics.median(values)


# ---- the real app in a pseudo-terminal ----------------------------------------------------------


class Terminal:
    """A program in a 120x36 pseudo-terminal, driven by keys and timed by what it draws.

    A keypress is timed from writing the key to the last byte of the frames it causes
    (output then stays quiet for QUIET seconds): key to paint, as the user sees it.
    """

    QUIET = 0.06

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.probe = Path(tempfile.mktemp(prefix="paint-"))
        env = {**env, "MSGTERM_PAINT_PROBE": str(self.probe), "TERM": "xterm-256color"}
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
        self.began = time.monotonic()
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
        )
        os.close(slave)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                return bool(os.read(self.master, 1 << 16))
            except OSError:
                return False
        return False

    def moment(self, name: str, limit: float = 60) -> float:
        """When the app noted ``name`` as painted (see msgterm/probe.py), waiting for it."""
        deadline = time.monotonic() + limit
        while True:
            if self.probe.exists():
                for line in self.probe.read_text().split("\n")[:-1]:  # whole lines only
                    noted, _, at = line.rpartition(" ")
                    if noted == name:
                        return float(at)
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.process.args} never noted {name!r}")
            self._read(0.005)

    def first_paint(self) -> float:
        """Seconds from the start of the process to its first full paint."""
        painted = self.moment("first-paint")
        self.settle()
        return painted - self.began

    def press_until(self, key: str, moment: str) -> float:
        """Seconds from the key to the paint the app notes as ``moment``."""
        self.settle()
        self.probe.write_text("")
        sent = time.monotonic()
        os.write(self.master, key.encode())
        return self.moment(moment, limit=10) - sent

    def settle(self) -> None:
        while self._read(self.QUIET * 2):
            pass

    def press(self, key: str, *, settle: bool = True) -> float:
        """Seconds from the key to the end of the output it caused."""
        if settle:
            self.settle()
        sent = time.monotonic()
        os.write(self.master, key.encode())
        last = sent
        deadline = sent + 5
        while time.monotonic() < deadline:
            if self._read(self.QUIET if last > sent else 5):
                last = time.monotonic()
            elif last > sent:
                break
        return last - sent

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self.master)
        self.probe.unlink(missing_ok=True)


def key_figures(terminal: Terminal, presses: int, bursts: int = 7) -> tuple[float, float]:
    """Median key-to-paint of ``presses`` presses of ``j``, and the median CPU per press over
    ``bursts`` bursts of 30 presses repeated 25 times a second (one burst's figure moves by
    a few ms from run to run).
    """
    times = [terminal.press("j") for _ in range(presses)]
    return median(times), median([burst_cpu(terminal, b"j", 30) for _ in range(bursts)])


def key_while_locked(terminal: Terminal, db: str, presses: int) -> float:
    """Median key-to-paint of ``j`` while another process holds the store's write lock (as a
    sync batch or an import does) and a mute pressed just before waits for it. The mute is
    undone afterwards (a second ``m`` on the same row, run once the first has been stored)."""
    with write_lock_held(db):
        terminal.press("m")
        times = [terminal.press("j") for _ in range(presses)]
        for _ in range(presses):
            terminal.press("k", settle=False)
    terminal.press("m")
    terminal.settle()
    return median(times)


def burst_cpu(terminal: Terminal, key: bytes, presses: int) -> float:
    """CPU seconds per press while ``key`` repeats 25 times a second, less what the process
    spends idle over the same time (its timers and background threads)."""
    terminal.settle()
    cpu_before, wall_before = terminal.cpu_seconds(), time.monotonic()
    for _ in range(presses):
        os.write(terminal.master, key)
        end = time.monotonic() + 0.04
        while time.monotonic() < end:
            terminal._read(max(0.0, end - time.monotonic()))
    terminal.settle()
    cpu_busy, wall_busy = terminal.cpu_seconds() - cpu_before, time.monotonic() - wall_before
    cpu_before = terminal.cpu_seconds()
    time.sleep(wall_busy)
    idle_rate = (terminal.cpu_seconds() - cpu_before) / wall_busy
    return max(0.0, cpu_busy - idle_rate * wall_busy) / presses


def measure_app(db: str, runs: int) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="msgterm-bench-"))
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(scratch / "config"),
        "XDG_DATA_HOME": str(scratch / "data"),
        "XDG_STATE_HOME": str(scratch / "state"),
        "MSGTERM_STAFF": "bench",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "bench-token",
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": "http://127.0.0.1:9",  # nothing listens: no network
    }
    empty_command = [sys.executable, str(ROOT / "bench" / "empty_app.py")]
    app_command = [sys.executable, "-m", "msgterm", "--db", str(db)]
    figures: dict[str, float] = {}
    starts, empty_starts = [], []
    for _ in range(runs):
        for command, samples in ((empty_command, empty_starts), (app_command, starts)):
            terminal = Terminal(command, env)
            samples.append(terminal.first_paint())
            terminal.close()
    figures["start"], figures["start_empty"] = median(starts), median(empty_starts)

    terminal = Terminal(empty_command, env)
    terminal.first_paint()
    figures["key_trivial"], figures["key_trivial_cpu"] = key_figures(terminal, 60)
    terminal.close()

    terminal = Terminal(app_command, env)
    terminal.first_paint()
    terminal.press("4")
    figures["key"], figures["key_cpu"] = key_figures(terminal, 60)
    figures["key_locked"] = key_while_locked(terminal, db, 60)
    opens = []
    for _ in range(runs):
        terminal.press("g")
        # Let the preview of #1 (drawn once the cursor rests 0.12 s) finish first: on a slow
        # machine it can start just as the quiet wait ends, and the open then queues behind it.
        time.sleep(0.4)
        opens.append(terminal.press_until("\r", "opened 1"))  # conversation #1: 2,000 messages, first in All
        terminal.press("\x1b")
        terminal.press("j")
        terminal.press("\r")
        terminal.press("\x1b")
    figures["open"] = median(opens)

    terminal.press("/")
    for label, typed in QUERIES:
        samples = []
        for _ in range(runs):
            for char in typed[:-1]:
                terminal.press(char, settle=False)
            time.sleep(0.3)
            samples.append(terminal.press_until(typed[-1], f"search {typed}"))
            for _ in typed:
                terminal.press("\x7f", settle=False)  # backspace
            time.sleep(0.3)
        figures[f"keystroke {label}"] = median(samples)
    terminal.press("\x1b")

    terminal.press("f")  # the folder list; tab (Assigned), tab (Date), tab: the client type list
    for _ in range(3):
        terminal.press("\t")
    filters = []
    for _ in range(runs):
        for _toggle in ("on", "off"):  # the first client type on, and off again
            time.sleep(0.4)  # the preview of the row the filter left highlighted, as for opening
            filters.append(terminal.press_until(" ", "filtered"))
    figures["filter"] = median(filters)
    figures["peak_rss_mb"] = terminal.peak_rss_mb()
    terminal.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return figures


def measure_queries(db: str, runs: int) -> dict:
    """The search queries alone, through the store API, as the app's worker runs them."""
    from msgterm.domain.folders import FolderView
    from msgterm.domain.search_query import parse
    from msgterm.store import open_store
    from msgterm.store.records import Filters
    from msgterm.store.search import SearchResults

    store = open_store(db, business_number=BUSINESS)
    figures = {}
    for label, typed in QUERIES:
        samples = []
        for _ in range(runs * 3):
            began = time.perf_counter()
            with store.cancellable():  # one connection for the search's reads, as in the app
                SearchResults(store, parse(typed), FolderView.ALL, Filters(), page_size=50)
            samples.append(time.perf_counter() - began)
        figures[f"query {label}"] = median(samples)
    store.dispose()
    return figures


# ---- actions on many -----------------------------------------------------------------------------


def measure_bulk(db: str, runs: int, count: int = 10_000) -> dict:
    """Select every conversation of a filtered view (``*``: one client type, 14,000 of the
    store's 100,000), archive ``count`` of them in one transaction (``a``), and undo that
    (``z``), through the store calls the app makes; each run on a fresh copy of the store."""
    from msgterm.domain.folders import FolderView, Triage
    from msgterm.store import open_store
    from msgterm.store.records import Filters

    selects, archives, undos = [], [], []
    for _run in range(runs):
        with copy_of(db) as copy:
            store = open_store(copy, business_number=BUSINESS)
            staff = store.add_staff("bench", "Bench Desk", "Front Desk")[0]
            began = time.perf_counter()
            ids = store.conversation_ids(FolderView.ALL, Filters(client_types=("Former member",)))
            selects.append(time.perf_counter() - began)
            began = time.perf_counter()
            done = store.triage(staff, Triage.ARCHIVE, ids[:count])
            archives.append(time.perf_counter() - began)
            began = time.perf_counter()
            store.undo(staff, done)
            undos.append(time.perf_counter() - began)
            store.dispose()
    return {"bulk_select": median(selects), "bulk_archive": median(archives), "bulk_undo": median(undos), "bulk_count": count}


# ---- ingest -------------------------------------------------------------------------------------


#: One message in this many is an MMS with one file (the poller lists it in the same cycle).
MEDIA_EVERY = 20


def measure_ingest(db: str, count: int, runs: int, media_every: int = MEDIA_EVERY) -> dict:
    """Median messages per second over ``runs`` syncs of the same ``count`` messages, each
    into a fresh copy of the store, and the same rows through a bare executemany."""
    from msgterm.domain.provider_message import ProviderMessage

    numbers = phones(db)
    rng = random.Random(11)
    now = datetime.utcnow()
    batch: list[ProviderMessage] = []
    pages = []
    for n in range(count):
        phone = rng.choice(numbers) if rng.random() < 0.9 else f"+1332{rng.randrange(2000000, 9999999)}"
        inbound = rng.random() < 0.55
        at = now + timedelta(milliseconds=n)
        body = rng.choice(
            ("Can I book the 6pm class?", "Running late, sorry!", "Yes, you're booked for Spin on Friday", "Thanks!")
        )
        mms = media_every > 0 and n % media_every == 0
        batch.append(
            ProviderMessage(
                f"{'MM' if mms else 'SM'}{rng.getrandbits(128):032x}",
                "inbound" if inbound else "outbound",
                phone if inbound else BUSINESS,
                BUSINESS if inbound else phone,
                body,
                "received" if inbound else "delivered",
                at,
                at,
                num_media=1 if mms else 0,
            )
        )
        if len(batch) == 1000:  # a page of Twilio's message log (oldest first here)
            pages.append(batch)
            batch = []
    if batch:
        pages.append(batch)
    rates, bare_rates = [], []
    for _run in range(runs):
        with copy_of(db) as copy:
            rates.append(count / sync_into(copy, pages, count))
        bare_rates.append(count / bare_insert_seconds(db, pages))
    return {"ingest_rate": median(rates), "ingest_bare_rate": median(bare_rates), "media_every": media_every}


def sync_into(copy: str, pages: list, count: int) -> float:
    """Seconds for the real poller to store ``pages`` into ``copy`` (a copy of the store)."""
    from msgterm.domain.provider_message import ProviderMedia
    from msgterm.store import open_store
    from msgterm.sync.poller import Poller

    store = open_store(copy, business_number=BUSINESS)

    class Log:
        """The provider's message log as the poller reads it: pages, newest first."""

        def list_messages(self, **days):
            return reversed(pages)

        def recent_to(self, number, limit=50):
            return []

        def fetch_message(self, sid):
            raise AssertionError("the benchmark log has no unfinished messages")

        def list_media(self, sid):
            return [ProviderMedia("ME" + sid[2:], sid, "image/jpeg")]

        def media_size(self, media):
            return 48_213

    began = time.perf_counter()
    report = Poller(store, Log()).poll_once()
    elapsed = time.perf_counter() - began
    assert report.new == count, report
    store.dispose()
    return elapsed


# ---- the table ----------------------------------------------------------------------------------


def rows(f: dict) -> list[tuple[str, str, str, str, bool]]:
    """(measure, median, budget, same-run baseline, within budget) for one store's figures."""
    ms = lambda seconds: f"{seconds * 1000:.1f} ms"  # noqa: E731
    found = [
        (
            "start to first full paint",
            ms(f["start"]),
            "≤ 1000 ms and ≤ 3× empty app",
            f"{f['start'] / f['start_empty']:.2f}× empty app ({ms(f['start_empty'])})",
            f["start"] <= 1.0 and f["start"] / f["start_empty"] <= 3,
        ),
        (
            "selection move, key to paint",
            ms(f["key"]),
            "≤ 17 ms",
            f"{f['key'] / f['key_trivial']:.2f}× trivial app ({ms(f['key_trivial'])})",
            f["key"] <= 0.017,
        ),
        (
            "selection move, CPU",
            ms(f["key_cpu"]),
            "≤ 10 ms",
            f"{f['key_cpu'] / f['key_trivial_cpu']:.2f}× trivial app",
            f["key_cpu"] <= 0.010,
        ),
        (
            "selection move, store locked by another process",
            ms(f["key_locked"]),
            "≤ 17 ms",
            f"{f['key_locked'] / f['key']:.2f}× unlocked",
            f["key_locked"] <= 0.017,
        ),
        ("open a 2,000-message conversation", ms(f["open"]), "≤ 100 ms", "", f["open"] <= 0.1),
    ]
    for label, _typed in QUERIES:
        found.append((f"search query, {label}", ms(f[f"query {label}"]), "≤ 10 ms", "", f[f"query {label}"] <= 0.010))
        found.append(
            (
                f"search keystroke to results, {label}",
                ms(f[f"keystroke {label}"]),
                "≤ 50 ms",
                "",
                f[f"keystroke {label}"] <= 0.050,
            )
        )
    found += [
        ("apply a filter", ms(f["filter"]), "≤ 100 ms", "", f["filter"] <= 0.1),
        (
            f"select a view and archive {f['bulk_count']:,} conversations",
            ms(f["bulk_select"] + f["bulk_archive"]),
            "≤ 1000 ms",
            f"select {ms(f['bulk_select'])}, archive {ms(f['bulk_archive'])}; undo {ms(f['bulk_undo'])}",
            f["bulk_select"] + f["bulk_archive"] <= 1.0,
        ),
        (
            f"ingest 100,000 messages, 1 in {f['media_every']} MMS" if f["media_every"] else "ingest 100,000 messages",
            f"{f['ingest_rate']:,.0f} msg/s",
            "≥ 20,000 msg/s",
            f"{f['ingest_rate'] / f['ingest_bare_rate']:.2f}× bare executemany ({f['ingest_bare_rate']:,.0f}/s)",
            f["ingest_rate"] >= 20000,
        ),
        ("peak memory of the app", f"{f['peak_rss_mb']:.0f} MB", "≤ 200 MB", "", f["peak_rss_mb"] <= 200),
    ]
    return found


def table(columns: list[tuple[str, dict]]) -> str:
    """One row a measure, and for each store (name, figures) its median, ✓ or ✗, and baseline."""
    per_store = [rows(figures) for _name, figures in columns]
    head = ["measure", "budget"]
    for name, _figures in columns:
        head += [name, "ok", f"{name} baseline"]
    lines = []
    for index, first in enumerate(per_store[0]):
        cells = [first[0], first[2]]
        for found in per_store:
            _measure, value, _budget, baseline, ok = found[index]
            cells += [value, "✓" if ok else "✗", baseline]
        lines.append(cells)
    widths = [max(len(str(cells[i])) for cells in [head, *lines]) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(c) for c in lines)])


def database(text: str) -> str:
    """A SQLite path or a PostgreSQL URL (``postgresql+psycopg://user@host/dbname``)."""
    if "://" in text and not is_postgres(text):
        raise argparse.ArgumentTypeError(f"{text!r}: give a SQLite file path or a postgresql+psycopg:// URL")
    return text


def measure(db: str, args) -> dict:
    figures = measure_app(db, args.runs)
    figures |= measure_queries(db, args.runs)
    figures |= measure_bulk(db, 3)
    figures |= measure_ingest(db, args.ingest, args.ingest_runs, args.media_every)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=database, action="append", help="a store; repeat for a column each")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ingest", type=int, default=100_000)
    parser.add_argument("--ingest-runs", type=int, default=3)
    parser.add_argument("--only", choices=("bulk", "ingest"), help="measure one part only (printed as figures)")
    parser.add_argument("--media-every", type=int, default=MEDIA_EVERY, help="one message in N is an MMS (0: none)")
    args = parser.parse_args()
    for db in args.db:
        if args.only == "bulk":
            print(shown(db), measure_bulk(db, 3))
        elif args.only == "ingest":
            print(shown(db), measure_ingest(db, args.ingest, args.ingest_runs, args.media_every))
    if args.only:
        return
    columns = [(shown(db), measure(db, args)) for db in args.db]
    import sqlite3

    for db in args.db:
        counts = sizes(db)
        print(f"{shown(db)} store: {counts[0]:,} clients, {counts[1]:,} conversations, {counts[2]:,} messages")
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
    print(table(columns))


if __name__ == "__main__":
    main()
