"""The app gives freed memory back to the system (msgterm/memory.py), on glibc."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from msgterm.memory import _glibc, give_back_forever


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(_glibc() is None, reason="glibc's allocator only (Linux)")
def test_memory_a_worker_thread_freed_goes_back_to_the_system():
    # A worker thread allocates 60 MB in small blocks and frees all but every 200th, as a
    # search's rows do; glibc keeps the pages of that thread's heap until it is trimmed.
    kept = []

    def work() -> None:
        blocks = [bytearray(2000) for _ in range(30_000)]
        kept.extend(blocks[::200])
        del blocks

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    held = rss_mb()
    stop = threading.Event()
    thread = give_back_forever(stop, every=0.01)
    assert thread is not None
    try:
        deadline = time.monotonic() + 10
        while rss_mb() > held - 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rss_mb() <= held - 30, f"{held:.0f} MB held, {rss_mb():.0f} MB after giving back"
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert len(kept) == 150 and sys.getsizeof(kept[0]) >= 2000


def test_memory_sqlites_caches_share_one_limit_for_the_process(tmp_path):
    from sqlalchemy import text

    from msgterm.store import open_store
    from msgterm.store.engine import SQLITE_HEAP_LIMIT

    store = open_store(tmp_path / "store.db")
    try:
        with store.read() as conn:
            assert conn.execute(text("PRAGMA soft_heap_limit")).scalar() == SQLITE_HEAP_LIMIT
    finally:
        store.dispose()
