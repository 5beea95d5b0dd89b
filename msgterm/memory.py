"""Keep the app's memory to what it uses, on Linux's C library (glibc); elsewhere nothing.

What a search or a filter allocates outside Python (SQLite's full-text doclists, sorts,
result rows on the way in) is freed when it ends, but glibc keeps the freed memory for
the process: one heap ("arena") per thread that ever allocated, a threshold for returning
memory that rises after each large free, and no trimming of the thread heaps at all. The
app's peak RSS therefore grew with every search and filter and varied by 70 MB from run
to run of the same sequence (docs/performance.md). Here: two arenas, fixed thresholds,
and a thread that gives free pages back every few seconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

# mallopt() parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

#: How often freed memory is handed back to the system (malloc_trim costs ~4 ms off the UI thread).
GIVE_BACK_EVERY = 5.0


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None  # musl and others: their allocators return memory by themselves
    return libc


def tune_allocator() -> bool:
    """Set glibc's allocator for a long-lived app with many short worker threads. Call it
    before threads start. Returns whether it applied."""
    libc = _glibc()
    if libc is None:
        return False
    libc.mallopt(M_ARENA_MAX, 2)
    libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)  # fixed: large blocks always go back on free
    libc.mallopt(M_TRIM_THRESHOLD, 1024 * 1024)
    return True


def give_back_forever(stop: threading.Event, every: float = GIVE_BACK_EVERY) -> threading.Thread | None:
    """Start a daemon thread that returns free heap pages to the system every ``every``
    seconds until ``stop`` is set. None where there is nothing to do."""
    libc = _glibc()
    if libc is None:
        return None

    def run() -> None:
        while not stop.wait(every):
            libc.malloc_trim(0)  # ctypes lets go of the GIL for the call

    thread = threading.Thread(target=run, name="msgterm-give-back", daemon=True)
    thread.start()
    return thread
