"""A client as an import or the demo generator supplies it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClientInput:
    """One client as an import or the demo generator supplies it (numbers already E.164)."""

    client_id: str
    uid: str | None = None
    first_name: str = ""
    last_name: str = ""
    mobile_phone: str | None = None
    email: str | None = None
    client_type: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
    home_location: str | None = None
