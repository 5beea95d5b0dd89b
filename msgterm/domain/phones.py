"""Phone numbers: parsing to E.164, checking that a number can take a text, formatting."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from msgterm.domain.errors import ValidationError

# US and Canadian numbers cannot be told apart as mobile or fixed line, so
# FIXED_LINE_OR_MOBILE is accepted; landlines, toll-free and premium numbers are not.
_TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def parse_number(text: str, region: str = "US") -> str:
    """Return ``text`` as an E.164 number, or raise ValidationError saying why not."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationError("the number is empty")
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        raise ValidationError(f'"{raw}" is not a valid number') from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f'"{raw}" is not a valid number')
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def parse_mobile(text: str, region: str = "US") -> str:
    """Like parse_number, but also refuse numbers that cannot receive a text message."""
    e164 = parse_number(text, region)
    if phonenumbers.number_type(phonenumbers.parse(e164)) not in _TEXTABLE:
        raise ValidationError(f'"{text.strip()}" is not a mobile number, so it cannot receive text messages')
    return e164


def format_number(e164: str) -> str:
    """A number as people write it: national format at home, international otherwise."""
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
