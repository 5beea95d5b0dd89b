"""First syncs of a busy number against the Twilio-compatible server: peak memory against a
quiet cycle's, how soon the newest conversations are stored, and list calls.

    uv run python bench/sync_memory.py                      # 60,000 and 300,000 messages
    uv run python bench/sync_memory.py --sizes 60000 --page-delay 0.4

Each sync is ``msgterm sync --once`` in a process of its own, into a new SQLite store; the
process reports its own peak resident memory (VmHWM) as it exits. The quiet cycle is
the same command again on the synced store, with 50 new messages: the baseline of the same
run. "First conversations stored" is the time from the command's start to the first commit
of history that the store shows (polled every 50 ms), at the given page pace.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_twilio import ACCOUNT, TOKEN, FakeTwilio  # noqa: E402
from twilio_server import BUSINESS, busy_log  # noqa: E402

# The peak is the kernel's VmHWM, reset first: ru_maxrss would count the moment after fork,
# when the child still maps this process's memory (the server's whole log).
CHILD = """
import atexit, json, os
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
def report():
    status = open("/proc/self/status").read()
    peak_kb = int(status.split("VmHWM:")[1].split()[0])
    with open(os.environ["BENCH_REPORT"], "w") as out:
        json.dump({"max_rss_kb": peak_kb}, out)
atexit.register(report)
from msgterm.cli import main
main(["sync", "--once"])
"""


def first_message_seen(db: Path, began: float, seen: dict) -> None:
    import sqlite3

    while "at" not in seen and time.monotonic() - began < 600:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                if conn.execute("SELECT 1 FROM message LIMIT 1").fetchone():
                    seen["at"] = time.monotonic() - began
                    return
        except sqlite3.Error:
            pass
        time.sleep(0.05)


def sync_once(fake: FakeTwilio, db: Path, scratch: Path) -> dict:
    report = scratch / "report.json"
    env = {
        **os.environ,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "MSGTERM_TWILIO_NUMBER": BUSINESS,
        "MSGTERM_TWILIO_API_URL": fake.url,
        "MSGTERM_DATABASE_URL": str(db),
        "MSGTERM_HISTORY_DAYS": "90",
        "BENCH_REPORT": str(report),
        "XDG_STATE_HOME": str(scratch / "state"),
        "XDG_CONFIG_HOME": str(scratch / "config"),
    }
    calls_before = fake.list_calls()
    began = time.monotonic()
    seen: dict = {}
    watcher = threading.Thread(target=first_message_seen, args=(db, began, seen), daemon=True)
    watcher.start()
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - began
    if done.returncode != 0:
        raise SystemExit(f"sync failed: {done.stderr[-2000:]}")
    watcher.join(timeout=1)
    figures = json.loads(report.read_text())
    return {
        "peak_mb": figures["max_rss_kb"] / 1024,
        "seconds": elapsed,
        "first_stored_s": seen.get("at"),
        "list_calls": fake.list_calls() - calls_before,
    }


def measure(size: int, page_delay: float) -> dict:
    fake = FakeTwilio(business_number=BUSINESS, page_delay=page_delay)
    busy_log(fake, size, 30, datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1))
    fake.url = fake.start()
    scratch = Path(tempfile.mkdtemp(prefix="msgterm-sync-bench-"))
    try:
        db = scratch / "store.db"
        first = sync_once(fake, db, scratch)
        for n in range(50):
            fake.inbound(f"+1212555{8000 + n:04d}", f"new {n}", datetime.now(UTC).replace(tzinfo=None))
        quiet = sync_once(fake, db, scratch)
        return {"size": size, "first": first, "quiet": quiet}
    finally:
        fake.stop()
        for path in sorted(scratch.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        scratch.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[60_000, 300_000])
    parser.add_argument("--page-delay", type=float, default=0.0, help="seconds per list page (Twilio: 0.3-1 s)")
    args = parser.parse_args()
    print(
        f"{'messages':>9} | {'first sync':>10} | {'peak MB':>7} | {'quiet cycle peak MB':>19} | {'peak - quiet':>12} | "
        f"{'first stored':>12} | {'list calls':>10} | {'quiet calls':>11}"
    )
    for size in args.sizes:
        r = measure(size, args.page_delay)
        first, quiet = r["first"], r["quiet"]
        stored = f"{first['first_stored_s']:.1f} s" if first["first_stored_s"] is not None else "-"
        print(
            f"{size:>9,} | {first['seconds']:>8.1f} s | {first['peak_mb']:>7.0f} | {quiet['peak_mb']:>19.0f} | "
            f"{first['peak_mb'] - quiet['peak_mb']:>9.0f} MB | {stored:>12} | {first['list_calls']:>10} | {quiet['list_calls']:>11}",
            flush=True,
        )


if __name__ == "__main__":
    main()
