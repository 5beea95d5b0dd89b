"""Editing a long reply in the user's own editor ($VISUAL, $EDITOR, else vi)."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


class EditorFailed(Exception):
    """The editor could not be started or exited with an error: the draft is unchanged."""


def editor_command() -> list[str]:
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def edit_text(text: str) -> str:
    """``text`` after the user edited it in their editor. The file lives in a private
    temporary folder (a reply may hold a client's details) and is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="msgterm-") as folder:
        path = Path(folder) / "reply.txt"
        path.write_text(text, encoding="utf-8")
        command = editor_command()
        try:
            finished = subprocess.run([*command, str(path)], check=False)
        except OSError as error:
            raise EditorFailed(f"cannot start the editor {command[0]!r} ({error.strerror}); set $EDITOR") from error
        if finished.returncode != 0:
            raise EditorFailed(f"the editor {command[0]!r} exited with status {finished.returncode}; the draft is unchanged")
        edited = path.read_text(encoding="utf-8", errors="replace")
    return edited[:-1] if edited.endswith("\n") and not text.endswith("\n") else edited  # editors add a final newline
