"""Database failures said in words a front desk can act on."""

from __future__ import annotations

from msgterm.domain.errors import MsgtermError


class StoreBusy(MsgtermError):
    """Another terminal held the write lock too long; this change was not made."""


BUSY = "the store is busy (another msgterm is writing to it); nothing was changed. Try again in a moment."


def is_busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite giving up on another connection's write lock."""
    text = str(getattr(error, "orig", None) or error).lower()
    return "database is locked" in text or "database is busy" in text


def describe_database_error(error: BaseException) -> str | None:
    """A clear message for a database error, or None when ``error`` is not one."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(error, DBAPIError):
        return None
    text = str(error.orig) if error.orig is not None else str(error)
    lowered = text.lower()
    if is_busy(error):
        return BUSY
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return f"cannot write the store ({text}). Check that its folder exists and that you may write to it, or choose another with --db."
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return (
            f"the store file is damaged or is not a SQLite database ({text}). Restore it from a backup, "
            "or move it away to start a new store; point --db at another file meanwhile."
        )
    if isinstance(error, OperationalError):
        return f"cannot reach the store: {text.splitlines()[0]}. Check --db or MSGTERM_DATABASE_URL."
    return None
