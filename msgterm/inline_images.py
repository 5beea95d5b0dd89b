"""Images drawn inside the terminal where it can (kitty's graphics protocol, Sixel), with
textual-image.

textual-image asks the terminal what it can draw when it is imported, which must happen
before Textual takes the terminal over and costs a round trip to the terminal (and a wait
where nothing answers). So msgterm asks only where the environment names a terminal that
draws images, or ``MSGTERM_INLINE_IMAGES=1`` says so (``0`` never asks); everywhere else,
and for files that are not images, ``v`` opens the system viewer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: ``TERM_PROGRAM`` of terminals that draw Sixel or kitty's graphics.
GRAPHICS_PROGRAMS = frozenset({"WezTerm", "iTerm.app", "ghostty", "mintty", "contour"})
YES, NO = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether to ask the terminal if it draws images."""
    choice = environ.get("MSGTERM_INLINE_IMAGES", "").strip().lower()
    if choice in YES or choice in NO:
        return choice in YES
    term = environ.get("TERM", "")
    return (
        "kitty" in term
        or "KITTY_WINDOW_ID" in environ
        or term in ("foot", "foot-extra", "mlterm")
        or environ.get("TERM_PROGRAM", "") in GRAPHICS_PROGRAMS
    )


def image_widget_class(environ: Mapping[str, str] = os.environ) -> type | None:
    """The widget that draws images in this terminal, or None where it cannot (then the
    system viewer opens them). Call before the app starts."""
    if not wanted(environ):
        return None
    from textual_image.renderable import Image as chosen
    from textual_image.renderable.sixel import Image as Sixel
    from textual_image.renderable.tgp import Image as TGP
    from textual_image.widget import Image

    return Image if chosen in (Sixel, TGP) else None
