"""How many SMS segments a body takes, and in which encoding (GSM-7 or UCS-2)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_CHARS = 1600

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentInfo:
    chars: int
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"

    def __str__(self) -> str:
        return f"{self.chars} / {self.segments} ({self.encoding})"


def segment_info(body: str) -> SegmentInfo:
    """Count characters and segments the way carriers do."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = -(-units // multi)
    return SegmentInfo(chars=len(body), segments=segments, encoding=encoding)
