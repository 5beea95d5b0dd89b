"""Segments and encodings for the composer; the sanitiser for outside text."""

from msgterm.domain.provider_message import opt_keyword
from msgterm.domain.sanitize import clean_line, clean_text
from msgterm.domain.segments import segment_info


def test_gsm7_segments():
    assert str(segment_info("")) == "0 / 0 (GSM-7)"
    assert (segment_info("a" * 160).segments, segment_info("a" * 161).segments) == (1, 2)
    assert segment_info("a" * 306).segments == 2 and segment_info("a" * 307).segments == 3
    assert segment_info("{" * 80).segments == 1 and segment_info("{" * 81).segments == 2  # extension chars count twice


def test_ucs2_segments():
    info = segment_info("Thanks 🙏")
    assert info.encoding == "UCS-2" and info.segments == 1
    assert segment_info("é" * 160).encoding == "GSM-7"
    assert segment_info("ł" * 70).segments == 1 and segment_info("ł" * 71).segments == 2
    assert segment_info("ł" * 134).segments == 2 and segment_info("ł" * 135).segments == 3


def test_sanitiser_neutralises_controls_and_bidi():
    hostile = "a\x1b]8;;http://x\x07b\x1b[2Jc\u202eevil\x9bd\x00"
    cleaned = clean_line(hostile)
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in cleaned)
    assert "\u202e" not in cleaned and "<U+202E>" in cleaned
    assert cleaned.startswith("a␛]8;;http://x␇b␛[2Jc")
    assert clean_text("line1\r\nline2\tx") == "line1\nline2 x"
    assert clean_line("line1\nline2") == "line1 line2"
    assert clean_line("[bold red]x[/]") == "[bold red]x[/]"  # markup is left to literal rendering


def test_opt_keywords():
    assert [opt_keyword(w) for w in ("STOP", " stop ", "Stopall", "unsubscribe", "cancel", "end", "quit")] == ["out"] * 7
    assert [opt_keyword(w) for w in ("START", "unstop")] == ["in", "in"]
    assert opt_keyword("please stop by") is None
