"""Twilio error codes said in words a front desk can act on."""

from __future__ import annotations

_WORDS = {
    20003: "Twilio refused the credentials (error 20003). Check twilio.account_sid and the auth token or API key and secret.",
    20404: "Twilio does not know that resource (error 20404).",
    20429: "Twilio is limiting how fast this account sends (error 20429); nothing was sent.",
    21211: "the number is not a valid phone number for Twilio (error 21211). Check the client's mobile number.",
    21408: "texting that country is not enabled on the Twilio account (error 21408).",
    21610: "the client has unsubscribed by replying STOP (error 21610); they must text START before they can be messaged again.",
    21612: "Twilio cannot route a text from the business number to that number (error 21612).",
    21614: "the number is not a mobile number, so it cannot receive texts (error 21614).",
    21617: "the message is longer than 1600 characters (error 21617); shorten it.",
    30003: "the phone is unreachable or off (error 30003).",
    30004: "the message was blocked by the recipient or their carrier (error 30004).",
    30005: "the number is unknown or no longer in service (error 30005).",
    30006: "the number is a landline or cannot take texts (error 30006).",
    30007: "the carrier filtered the message as spam (error 30007).",
    30008: "the carrier could not deliver the message (error 30008).",
}


def describe_error(code: int | None, fallback: str | None = None) -> str:
    """The error in words; Twilio's own text when we have no better one."""
    if code in _WORDS:
        return _WORDS[code]
    text = (fallback or "").strip() or "unknown error"
    return f"{text} (error {code})" if code else text


#: Refusals that sending the same text to the same number again cannot fix.
PERMANENT = frozenset({21211, 21610, 21612, 21614, 21617, 30005, 30006})


def can_retry(code: int | None) -> bool:
    """Whether sending a failed message again could succeed (a busy or unreachable Twilio,
    a phone that was off, credentials since fixed), unlike a number that cannot take texts."""
    return code not in PERMANENT
