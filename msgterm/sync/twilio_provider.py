"""The Twilio provider, through the real ``twilio`` package (v9)."""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from itertools import islice

from msgterm.domain.provider_errors import describe_error
from msgterm.domain.provider_message import Direction, ProviderMedia, ProviderMessage
from msgterm.sync.provider import AuthFailed, ProviderError, RateLimited, Rejected, TransientError

log = logging.getLogger(__name__)

#: The twilio client has no default timeout: without one a stalled connection hangs a poll forever.
REQUEST_TIMEOUT = 20.0
PAGE_SIZE = 1000
#: The longest Retry-After honoured; a larger (or absurd) one waits this long.
RETRY_AFTER_CAP = 600.0
#: Tries of one read (a page, a fetch) before the cycle gives up on it: 429s, 5xx, timeouts.
READ_TRIES = 6
#: Tries of one send refused with 429 (Twilio took nothing, so trying again is safe).
SEND_TRIES = 3
#: Backoff between tries when Twilio says nothing of how long to wait: full jitter, capped.
BACKOFF_BASE, BACKOFF_CAP = 1.0, 60.0


class Interrupted(TransientError):
    """The provider was told to stop (the app is quitting) while it waited to try again."""


_JITTER = random.Random()


def backoff_delay(attempt: int, rng: random.Random = _JITTER) -> float:
    """Seconds before try ``attempt + 1``: exponential, with jitter, capped."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


def newest_first(streams: list[Iterator[ProviderMessage]], size: int) -> Iterator[list[ProviderMessage]]:
    """Several newest-first streams (one per filter) as one, in pages of ``size``.

    Merged message by message, so that every message newer than the last one handed out
    has been handed out, whichever filter it came from: the poller can then take the last
    message's time as how far back it has read.
    """
    merged = heapq.merge(*streams, key=lambda m: (m.when, m.sid), reverse=True)
    while page := list(islice(merged, size)):
        yield page


class TwilioProvider:
    def __init__(self, settings, *, timeout: float = REQUEST_TIMEOUT, sleep: Callable[[float], None] | None = None) -> None:
        self.number = settings.number
        self.messaging_service_sid = settings.messaging_service_sid
        self._settings = settings
        self._timeout = timeout
        self._client = None
        self._numbers: tuple[str, ...] | None = None
        self._interrupted = threading.Event()
        self._sleep = sleep or self._wait

    def interrupt(self) -> None:
        """Stop waiting between tries (the app is quitting): the wait raises Interrupted."""
        self._interrupted.set()

    def _wait(self, seconds: float) -> None:
        if self._interrupted.wait(seconds):
            raise Interrupted("stopped while waiting to try Twilio again")

    @property
    def client(self):
        """The twilio Client, made on first use: importing twilio.rest costs 0.3 s, which the
        app's first paint should not wait for (the poller's first call makes it, off the UI)."""
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            settings = self._settings
            username, password = (
                (settings.api_key, settings.api_secret)
                if settings.api_key and settings.api_secret
                else (settings.account_sid, settings.auth_token)
            )
            # environment={"_": ""}: an empty mapping would make the client read os.environ.
            client = Client(
                username,
                password,
                account_sid=settings.account_sid,
                environment={"_": ""},
                http_client=TwilioHttpClient(timeout=self._timeout),
            )
            if settings.api_url and settings.api_url.rstrip("/") != "https://api.twilio.com":
                # TWILIO_REGION/TWILIO_EDGE would rewrite a custom host into *.twilio.com.
                client.region = None
                client.edge = None
                client.api.base_url = settings.api_url.rstrip("/")
                client.messaging.base_url = settings.api_url.rstrip("/")
            self._client = client
        return self._client

    # ---- reading --------------------------------------------------------------------------

    @property
    def numbers(self) -> tuple[str, ...]:
        """The business numbers whose log is read: ``twilio.numbers``, else the Messaging
        Service's sender pool when the credentials may list it, else ``twilio.number``."""
        if self._numbers is None:
            numbers = tuple(self._settings.numbers)
            if not numbers and self.messaging_service_sid:
                numbers = self._service_numbers()
            if not numbers and self.number:
                numbers = (self.number,)
            self._numbers = numbers
        return self._numbers

    def _service_numbers(self) -> tuple[str, ...]:
        service = self.client.messaging.v1.services(self.messaging_service_sid)
        try:
            listed = self._call(lambda: service.phone_numbers.list(page_size=PAGE_SIZE))
        except ProviderError as error:
            log.warning(
                "cannot list the numbers of Messaging Service %s (%s); set twilio.numbers to read their messages",
                self.messaging_service_sid,
                error,
            )
            return ()
        return tuple(n.phone_number for n in listed if n.phone_number)

    def list_messages(
        self, *, sent_after: date | None = None, sent_before: date | None = None, sent_on: date | None = None
    ) -> Iterator[list[ProviderMessage]]:
        chosen = {"date_sent_after": sent_after, "date_sent_before": sent_before, "date_sent": sent_on}
        # A UTC day, as Twilio's DateSent filters want (the library would send a datetime's time too).
        days = {key: day.isoformat() for key, day in chosen.items() if day is not None}
        numbers = self.numbers
        filters = [f for n in numbers for f in ({"to": n}, {"from_": n})] if numbers else [{}]
        streams = [self._stream(dict(f, **days)) for f in filters]
        return newest_first(streams, PAGE_SIZE)

    def _stream(self, kwargs: dict) -> Iterator[ProviderMessage]:
        """One filter's messages, newest first, a page at a time; each page tried again on
        429s and server errors, so a fault never restarts the read from its first page."""
        page = self._call(lambda: _message_page(lambda: self.client.messages.page(page_size=PAGE_SIZE, **kwargs)))
        seen: set[str] = set()
        while page is not None:
            yield from self._convert_page(page)
            url = page.next_page_url
            if url is None:
                return
            if url in seen:
                raise TransientError(
                    "Twilio's message log did not page on (it sent the same next page again); "
                    "stopped reading it this cycle and will try again"
                )
            seen.add(url)
            page = self._call(lambda current=page: _message_page(current.next_page))

    def recent_to(self, number: str, limit: int = 50) -> list[ProviderMessage]:
        page = self._call(lambda: _message_page(lambda: self.client.messages.page(to=number, page_size=limit)))
        return self._convert_page(page)

    def fetch_message(self, sid: str) -> ProviderMessage:
        instance = self._call(lambda: self.client.messages(sid).fetch())
        message = to_provider_message(_instance_record(instance))
        if message is None:
            raise TransientError(f"Twilio returned an unreadable record for {sid}")
        return message

    def list_media(self, message_sid: str) -> list[ProviderMedia]:
        listed = self._call(lambda: self.client.messages(message_sid).media.list())
        return [ProviderMedia(m.sid, message_sid, m.content_type or "application/octet-stream") for m in listed if m.sid]

    def fetch_media(self, media: ProviderMedia) -> bytes:
        """The file at ``.../Messages/{MsgSid}/Media/{Sid}``: Twilio answers with a redirect to
        its media store, which requests follows (dropping the credentials for another host)."""
        return self._call(lambda: self._get_media(media, lambda response: response.content))

    def media_size(self, media: ProviderMedia) -> int | None:
        """A file's length in bytes, from its download's headers (the Media resource has no
        size), without reading the file; None when the store does not say."""

        def length(response) -> int | None:
            value = response.headers.get("Content-Length", "")
            return int(value) if value.isdigit() else None

        return self._call(lambda: self._get_media(media, length, stream=True))

    def _get_media(self, media: ProviderMedia, read: Callable, *, stream: bool = False):
        import requests

        settings = self._settings
        auth = (settings.api_key, settings.api_secret) if settings.api_key and settings.api_secret else None
        auth = auth or (settings.account_sid, settings.auth_token)
        base = (settings.api_url or "https://api.twilio.com").rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{settings.account_sid}/Messages/{media.message_sid}/Media/{media.sid}"
        with requests.get(url, auth=auth, timeout=self._timeout, stream=stream) as response:
            if response.status_code >= 400:
                code, text = _error_body(response.text)
                raise classify(response.status_code, code, text, response.headers)
            return read(response)

    def send_message(self, to: str, body: str) -> ProviderMessage:
        kwargs = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.number
        # Only a 429 is tried again: Twilio took nothing. A timeout or 5xx may have sent it.
        instance = self._call(lambda: self.client.messages.create(**kwargs), tries=SEND_TRIES, retry=(RateLimited,))
        message = to_provider_message(_instance_record(instance))
        if message is None:
            raise TransientError("Twilio accepted the message but returned an unreadable record")
        return message

    def _convert_page(self, page) -> list[ProviderMessage]:
        out = []
        for record in page._payload["messages"]:
            message = to_provider_message(record)
            if message is None:
                log.warning(
                    "skipped a malformed message record from Twilio: sid=%r",
                    record.get("sid") if isinstance(record, dict) else None,
                )
            else:
                out.append(message)
        return out

    # ---- errors ---------------------------------------------------------------------------

    def _call(self, fn, *, tries: int = READ_TRIES, retry: tuple[type[ProviderError], ...] = (RateLimited, TransientError)):
        """``fn()`` with Twilio's faults as ProviderErrors, tried again after a wait on ``retry``
        faults: as long as a 429's Retry-After says, else an exponential backoff."""
        for attempt in range(1, tries + 1):
            try:
                return self._call_once(fn)
            except retry as error:
                if attempt == tries:
                    raise
                retry_after = getattr(error, "retry_after", None)
                delay = retry_after if retry_after is not None else backoff_delay(attempt)
                log.warning("%s; trying again in %.1f s (try %d of %d)", error, delay, attempt + 1, tries)
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _call_once(self, fn):
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            return fn()
        except TwilioRestException as error:
            raise classify(error.status, error.code, error.msg, None) from None
        except TwilioException as error:
            # list()/page() raise a bare TwilioException("Unable to fetch page", response).
            response = error.args[1] if len(error.args) > 1 else None
            if response is None:
                raise TransientError(f"Twilio: {error.args[0] if error.args else error}") from None
            code, text = _error_body(response.text)
            raise classify(response.status_code, code, text, response.headers) from None
        except (OSError, ValueError) as error:
            raise TransientError(f"cannot reach Twilio: {type(error).__name__}") from None
        except Exception as error:
            import requests

            if isinstance(error, requests.RequestException):
                raise TransientError(f"cannot reach Twilio: {type(error).__name__}") from None
            raise


def _message_page(read):
    """``read()``'s page, checked to be a Twilio list page of messages: anything else (a JSON
    array, null, messages that are not a list, a next page that is not a URI) is a provider
    error, tried again with backoff, never a traceback."""
    try:
        page = read()
    except (AttributeError, TypeError, KeyError) as error:  # raised by the library's Page on odd JSON
        raise TransientError(f"Twilio sent a page that is not a message list ({type(error).__name__}); will try again") from None
    if page is None:
        return None
    payload = page._payload
    if not isinstance(payload.get("messages"), list):
        raise TransientError("Twilio sent a page without a list of messages; will try again")
    if not isinstance(payload.get("next_page_uri"), (str, type(None))):
        raise TransientError("Twilio sent a page whose next_page_uri is not a URI; will try again")
    return page


def _error_body(text: str) -> tuple[int | None, str]:
    try:
        payload = json.loads(text)
        return payload.get("code"), str(payload.get("message") or "")
    except (ValueError, AttributeError):
        return None, ""


def classify(status: int | None, code: int | None, text: str | None, headers) -> ProviderError:
    words = describe_error(code, text or f"HTTP {status}")
    if status == 401 or code == 20003:
        return AuthFailed(words, status=status, code=code)
    if status == 429:
        retry_after = None
        if headers is not None:
            value = headers.get("Retry-After") or headers.get("retry-after")
            try:
                retry_after = min(max(0.0, float(value)), RETRY_AFTER_CAP)
            except (TypeError, ValueError, OverflowError):
                pass
        return RateLimited("Twilio is rate limiting requests (HTTP 429)", retry_after, status=status, code=code)
    if status is None or status >= 500:
        return TransientError(f"Twilio had a server error (HTTP {status})", status=status, code=code)
    return Rejected(words, status=status, code=code)


def _instance_record(instance) -> dict:
    """The JSON fields we read, back from a MessageInstance (create and fetch return those)."""
    return {
        "sid": instance.sid,
        "direction": instance.direction,
        "from": instance.from_,
        "to": instance.to,
        "body": instance.body,
        "status": instance.status,
        "date_created": instance.date_created,
        "date_sent": instance.date_sent,
        "num_segments": instance.num_segments,
        "num_media": instance.num_media,
        "error_code": instance.error_code,
        "error_message": instance.error_message,
    }


def _direction(value: str) -> Direction:
    return Direction.INBOUND if value == Direction.INBOUND else Direction.OUTBOUND


def _when(value) -> datetime | None:
    from email.utils import parsedate_to_datetime

    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = parsedate_to_datetime(value)  # RFC 2822
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(tzinfo=None)


#: Counts beyond these are not a real message's (and would not fit the store's integers).
MAX_SEGMENTS = 10_000
MAX_MEDIA = 100
MAX_ERROR_CODE = 2**31 - 1
#: Characters no store can keep (NUL on PostgreSQL, a lone surrogate anywhere): a body that
#: holds one is kept with U+FFFD in its place rather than lost.
_UNSTORABLE = {0: "\ufffd", **{code: "\ufffd" for code in range(0xD800, 0xE000)}}


def _text(value, *, required: bool = False) -> str:
    """A JSON string field; a number, list or object where text belongs makes the record malformed."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise TypeError("not text")
    return value.translate(_UNSTORABLE)


def _count(value, limit: int) -> int:
    number = int(value or 0)
    if not 0 <= number <= limit:
        raise ValueError("out of range")
    return number


def to_provider_message(record) -> ProviderMessage | None:
    """A Twilio message JSON object as a ProviderMessage, or None when it is malformed."""
    try:
        sid = record["sid"]
        if not isinstance(sid, str) or not sid.startswith(("SM", "MM")) or len(sid) > 64 or not sid.isalnum():
            return None
        created = _when(record["date_created"])
        if created is None:
            return None
        direction = _direction(_text(record["direction"], required=True))
        from_number, to_number = _text(record["from"]), _text(record["to"])
        client_number = from_number if direction == Direction.INBOUND else to_number
        if not client_number:
            return None  # no client to file it under
        error_code = record.get("error_code")
        error_message = record.get("error_message")
        return ProviderMessage(
            sid=sid,
            direction=direction,
            from_number=from_number,
            to_number=to_number,
            body=_text(record.get("body")),
            status=_text(record["status"], required=True),
            created_at=created,
            sent_at=_when(record.get("date_sent")),
            num_segments=_count(record.get("num_segments"), MAX_SEGMENTS),
            num_media=_count(record.get("num_media"), MAX_MEDIA),
            error_code=_count(error_code, MAX_ERROR_CODE) if error_code not in (None, "") else None,
            error_message=_text(error_message) if error_message is not None else None,
        )
    except (KeyError, TypeError, ValueError, IndexError, OverflowError):
        return None
