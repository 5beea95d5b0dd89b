"""Logging: a rotating file in the platformdirs log directory, never the screen; secrets redacted."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from msgterm.domain.sanitize import clean_output


class RedactSecrets(logging.Filter):
    """Replace every configured secret in a record's final text with ***."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = text, None
        return True


class CleanFormatter(logging.Formatter):
    """Log lines carry provider errors and file names from outside: the log file and the
    terminal get them as text, never as escape sequences."""

    def format(self, record: logging.LogRecord) -> str:
        return clean_output(super().format(record))


class PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """The log names clients and numbers: each file it opens (rotations too) is the owner's alone."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)


class CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time, so that a progress display that
    takes stderr over (Rich's) prints log lines above itself instead of through itself."""

    @property
    def stream(self):
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def setup_logging(log_dir: Path, secrets: tuple[str, ...] = (), *, stderr: bool = False, level: int = logging.INFO) -> Path:
    """Log to ``log_dir/msgterm.log`` (rotating), and to stderr for headless commands."""
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / "msgterm.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_msgterm", False):
            root.removeHandler(handler)
    redact = RedactSecrets(secrets)
    handlers: list[logging.Handler] = [PrivateRotatingFile(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")]
    if stderr:
        handlers.append(CurrentStderr())
    formatter = CleanFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler._msgterm = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter)
        handler.addFilter(redact)
        root.addHandler(handler)
    root.setLevel(level)
    # The twilio client logs whole requests at DEBUG/INFO; keep it quiet.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    # Alembic names every migration it runs; the log file keeps that, a terminal needs none of it.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return path
