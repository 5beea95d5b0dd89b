"""Errors that carry a message meant for the person at the terminal."""


class MsgtermError(Exception):
    """Something the user can act on; ``str()`` says what is wrong and what to do."""


class PermissionDenied(MsgtermError):
    """The staff member's role lacks a permission the action needs."""


class ValidationError(MsgtermError):
    """Input (a number, a message body, a CSV row) is not acceptable."""


class NotFound(MsgtermError):
    """A client, staff member or conversation that was named does not exist."""
