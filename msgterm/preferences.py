"""What the app remembers between runs for this user: the theme chosen in the palette. A
small JSON file in the platformdirs state directory; the configuration file stays the
user's own (msgterm never writes to it)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def preferences_path() -> Path:
    from platformdirs import user_state_path

    return user_state_path("msgterm") / "preferences.json"


def load_theme(path: Path) -> str | None:
    """The theme last chosen, or None (never chosen, or the file cannot be read: the
    default theme is a fine answer to a damaged file)."""
    try:
        theme = json.loads(path.read_text(encoding="utf-8")).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return theme if isinstance(theme, str) else None


def save_theme(path: Path, theme: str) -> None:
    """Remember ``theme``; a file that cannot be written is logged, never shown as an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump({"theme": theme}, file)
        temporary.replace(path)  # whole or not at all
    except OSError as error:
        log.warning("cannot remember the theme (%s)", error)
