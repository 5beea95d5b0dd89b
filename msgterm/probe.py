"""A probe for bench/run.py: with MSGTERM_PAINT_PROBE set to a file, the app appends a line
``<moment> <time.monotonic()>`` when chosen moments (first paint, search results, an
opened conversation, a filter applied) have reached the screen. Unset, it does nothing.
"""

from __future__ import annotations

import os
import time

PROBE = os.environ.get("MSGTERM_PAINT_PROBE")


def after_paint(widget, moment: str) -> None:
    """Note ``moment`` once the screen has been refreshed after what ``widget`` just did."""
    if PROBE:
        widget.call_after_refresh(_note, moment)


def _note(moment: str) -> None:
    if not PROBE:
        return
    with open(PROBE, "a", encoding="utf-8") as probe:
        probe.write(f"{moment} {time.monotonic()!r}\n")
