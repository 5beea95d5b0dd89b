"""MMS files on disk: downloaded with the account's credentials into a cache of bounded
size, so that opening one a second time costs nothing, and what a download found (the
size, or why it failed) noted in the store for every terminal's bubble."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

from msgterm.domain.media import file_name
from msgterm.domain.provider_message import ProviderMedia
from msgterm.sync.provider import Provider, ProviderError

log = logging.getLogger(__name__)

#: What the cache may hold before the files opened longest ago are removed.
CACHE_LIMIT = 200 * 1000 * 1000


class MediaNotes(Protocol):
    def note_media_read(self, media_sid: str, *, size: int | None = None, error: str | None = None) -> None: ...


def cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("msgterm") / "media"


class MediaCache:
    """Files by name in one directory; the least recently used go once it passes ``limit``."""

    def __init__(self, directory: Path | None = None, limit: int = CACHE_LIMIT) -> None:
        self.directory = directory or cache_dir()
        self.limit = limit

    def get(self, name: str) -> Path | None:
        path = self.directory / name
        if not path.is_file():
            return None
        os.utime(path)  # used now: the last to go
        return path

    def put(self, name: str, data: bytes) -> Path:
        """Write ``data`` whole (a reader never sees half a file), then trim the cache."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.directory / name
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        partial.replace(path)
        self._trim(keep=path)
        return path

    def _trim(self, keep: Path) -> None:
        files = [(entry.stat().st_mtime, entry) for entry in self.directory.iterdir() if entry.is_file()]
        total = sum(entry.stat().st_size for _, entry in files)
        for _, entry in sorted(files):
            if total <= self.limit:
                return
            if entry != keep:
                total -= entry.stat().st_size
                entry.unlink(missing_ok=True)


def download(provider: Provider, notes: MediaNotes | None, media: ProviderMedia, cache: MediaCache) -> Path:
    """The file on disk (from the cache when it is there); its size, or why it could not be
    read, noted in the store. Raises ProviderError with words to show."""
    name = file_name(media.sid, media.content_type)
    cached = cache.get(name)
    if cached is not None:
        return cached
    try:
        data = provider.fetch_media(media)
    except ProviderError as error:
        if notes is not None:
            notes.note_media_read(media.sid, error=f"could not download: {error}")
        raise
    path = cache.put(name, data)
    if notes is not None:
        notes.note_media_read(media.sid, size=len(data))
    log.info("downloaded %s (%d bytes)", media.sid, len(data))
    return path
