"""Open a file with the system's viewer (``open`` on macOS, ``xdg-open`` elsewhere, or the
command in ``MSGTERM_VIEWER``), detached: msgterm never waits for it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path


def viewer_command() -> list[str] | None:
    chosen = os.environ.get("MSGTERM_VIEWER", "").strip()
    if chosen:
        return shlex.split(chosen)
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    return [opener] if shutil.which(opener) else None


def open_with_viewer(path: Path) -> str | None:
    """Start the viewer on ``path``; None once started, else why it could not be."""
    command = viewer_command()
    if command is None:
        return f"no viewer here (xdg-open is not installed); the file is at {path}"
    try:
        subprocess.Popen(
            [*command, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as error:
        return f"could not start {command[0]} ({error.strerror or error}); the file is at {path}"
    return None
