"""An MMS file in words ("image/png · 14 KB") and as a file name on disk."""

from __future__ import annotations

import mimetypes
import re

from msgterm.domain.sanitize import clean_line

#: Types whose usual extension mimetypes gets wrong or does not know.
_EXTENSIONS = {"image/jpeg": ".jpg", "text/vcard": ".vcf", "text/x-vcard": ".vcf", "audio/amr": ".amr"}


def human_size(size: int) -> str:
    """Bytes in the units people read: 812 B, 14 KB, 2.3 MB."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{round(size / 1000)} KB"
    return f"{size / 1_000_000:.1f} MB"


def describe_file(content_type: str, size: int | None) -> str:
    """A file as the bubble lists it: its type and, once known, its size."""
    words = clean_line(content_type) or "file"
    return f"{words} · {human_size(size)}" if size is not None else words


def file_name(media_sid: str, content_type: str) -> str:
    """A safe file name for a file: its SID (Twilio's, checked to be plain) and the type's
    extension, so that the system viewer knows what it is."""
    stem = re.sub(r"[^A-Za-z0-9]", "", media_sid) or "attachment"
    kind = content_type.split(";")[0].strip().lower()
    extension = _EXTENSIONS.get(kind) or mimetypes.guess_extension(kind) or ".bin"
    return stem + extension
