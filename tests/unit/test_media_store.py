"""The media table on both backends: what the poller has still to list, newest first, the
files as listed, a conversation's attachments, and what a download found."""

from __future__ import annotations

from datetime import timedelta

from conftest import BUSINESS, inbound

from msgterm.domain.media import describe_file, file_name, human_size
from msgterm.domain.provider_message import Direction, ProviderMedia, ProviderMessage, Status
from msgterm.store.media import MediaStore
from msgterm.sync.attachments import MediaCache


def mms(store, phone: str, n: int, files: int = 1, body: str = ""):
    at = store.clock() + timedelta(minutes=n)
    sid = f"MM{n:032x}"
    store.ingest([ProviderMessage(sid, Direction.INBOUND, phone, BUSINESS, body, Status.RECEIVED, at, at, num_media=files)])
    return sid


def test_unlisted_mms_newest_first_then_listed_with_their_files(any_store: MediaStore):
    store = any_store
    inbound(store, "+12125550111", "plain text")
    first, second = mms(store, "+12125550111", 1), mms(store, "+12125550112", 2, files=2)
    ids = {sid: store.message_id_for_sid(sid) for sid in (first, second)}
    assert store.media_unlisted(10) == [(ids[second], second), (ids[first], first)]

    files = [
        (ProviderMedia(f"ME{n:032x}", second, kind), size, None)
        for n, (kind, size) in enumerate((("image/png", 14_344), ("video/mp4", None)))
    ]
    conversation_id = store.record_media(ids[second], files)
    assert store.media_unlisted(10) == [(ids[first], first)]
    # Listed again (a CLI fetch of the same message): nothing doubles.
    store.record_media(ids[second], files)
    listed, waiting = store.conversation_media(conversation_id)
    assert [(a.file.content_type, a.file.size, a.message_sid, a.inbound) for a in listed] == [
        ("image/png", 14_344, second, True),
        ("video/mp4", None, second, True),
    ]
    assert waiting == 0
    (message,) = store.messages(conversation_id)
    assert [f.content_type for f in message.media] == ["image/png", "video/mp4"]
    assert store.conversation(conversation_id).last_preview == "📎 2 attachments"

    store.note_media_read(f"ME{1:032x}", size=2_400_000)
    store.note_media_read(f"ME{0:032x}", error="could not download: gone")
    png, mp4 = (a.file for a in store.conversation_media(conversation_id)[0])
    assert (png.size, png.error) == (14_344, "could not download: gone")
    assert (mp4.size, mp4.error) == (2_400_000, None)
    # The other MMS is waiting to be read in its own conversation.
    other = store.conversation_for_phone("+12125550111")
    assert store.conversation_media(other.id) == ([], 1)


def test_files_in_words_and_as_safe_names():
    assert [human_size(n) for n in (812, 14_344, 2_345_678)] == ["812 B", "14 KB", "2.3 MB"]
    assert describe_file("image/png", 14_344) == "image/png · 14 KB"
    assert describe_file("image/png", None) == "image/png"
    assert describe_file("image/png\x1b[2J", None) == describe_file("image/png\x1b[2J", None).replace("\x1b", "")
    assert file_name("ME123", "image/jpeg") == "ME123.jpg"
    assert file_name("../../etc/passwd", "text/plain; charset=utf-8") == "etcpasswd.txt"
    assert file_name("ME1", "application/x-unknown-thing") == "ME1.bin"


def test_the_cache_keeps_what_was_opened_last_within_its_limit(tmp_path):
    cache = MediaCache(tmp_path / "cache", limit=2_500)
    paths = [cache.put(f"f{n}.bin", bytes(1000)) for n in range(2)]
    assert cache.get("f0.bin") == paths[0]  # opened: now the newest
    import os

    os.utime(paths[1], (1, 1))  # the longest ago
    cache.put("f2.bin", bytes(1000))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["f0.bin", "f2.bin"]
    # A file larger than the whole limit is still kept (it is the one being opened).
    big = cache.put("big.bin", bytes(5_000))
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["big.bin"] and big.is_file()
