"""The Twilio provider, through the real ``twilio`` package (v9)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime

from msgterm.domain.provider_errors import describe_error
from msgterm.domain.provider_message import ProviderMessage
from msgterm.sync.provider import AuthFailed, ProviderError, RateLimited, Rejected, TransientError

log = logging.getLogger(__name__)

#: The twilio client has no default timeout: without one a stalled connection hangs a poll forever.
REQUEST_TIMEOUT = 20.0
PAGE_SIZE = 1000


class TwilioProvider:
    def __init__(self, settings, *, timeout: float = REQUEST_TIMEOUT) -> None:
        self.number = settings.number
        self.messaging_service_sid = settings.messaging_service_sid
        self._settings = settings
        self._timeout = timeout
        self._client = None

    @property
    def client(self):
        """The twilio Client, made on first use: importing twilio.rest costs 0.3 s, which the
        app's first paint should not wait for (the poller's first call makes it, off the UI)."""
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            settings = self._settings
            username, password = (
                (settings.api_key, settings.api_secret) if settings.api_key and settings.api_secret else (settings.account_sid, settings.auth_token)
            )
            # environment={"_": ""}: an empty mapping would make the client read os.environ.
            client = Client(
                username, password, account_sid=settings.account_sid, environment={"_": ""},
                http_client=TwilioHttpClient(timeout=self._timeout),
            )
            if settings.api_url and settings.api_url.rstrip("/") != "https://api.twilio.com":
                # TWILIO_REGION/TWILIO_EDGE would rewrite a custom host into *.twilio.com.
                client.region = None
                client.edge = None
                client.api.base_url = settings.api_url.rstrip("/")
            self._client = client
        return self._client

    # ---- reading --------------------------------------------------------------------------

    def list_messages(self, since: date | None) -> Iterator[list[ProviderMessage]]:
        after = since.isoformat() if since else None  # a UTC day, as Twilio's DateSent wants
        filters = [{"to": self.number}, {"from_": self.number}] if self.number else [{}]
        for extra in filters:
            kwargs = dict(extra, page_size=PAGE_SIZE)
            if after:
                kwargs["date_sent_after"] = after
            page = self._call(lambda: self.client.messages.page(**kwargs))
            while page is not None:
                yield self._convert_page(page)
                current = page
                page = self._call(current.next_page)

    def recent_to(self, number: str, limit: int = 50) -> list[ProviderMessage]:
        page = self._call(lambda: self.client.messages.page(to=number, page_size=limit))
        return self._convert_page(page)

    def fetch_message(self, sid: str) -> ProviderMessage:
        instance = self._call(lambda: self.client.messages(sid).fetch())
        message = to_provider_message(_instance_record(instance))
        if message is None:
            raise TransientError(f"Twilio returned an unreadable record for {sid}")
        return message

    def send_message(self, to: str, body: str) -> ProviderMessage:
        kwargs = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.number
        instance = self._call(lambda: self.client.messages.create(**kwargs))
        message = to_provider_message(_instance_record(instance))
        if message is None:
            raise TransientError("Twilio accepted the message but returned an unreadable record")
        return message

    def _convert_page(self, page) -> list[ProviderMessage]:
        out = []
        for record in page.load_page(page._payload):
            message = to_provider_message(record)
            if message is None:
                log.warning("skipped a malformed message record from Twilio: sid=%r", record.get("sid") if isinstance(record, dict) else None)
            else:
                out.append(message)
        return out

    # ---- errors ---------------------------------------------------------------------------

    def _call(self, fn):
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
        retry_after = 1.0
        if headers is not None:
            value = headers.get("Retry-After") or headers.get("retry-after")
            try:
                retry_after = max(0.0, float(value))
            except (TypeError, ValueError):
                pass
        return RateLimited(f"Twilio is rate limiting requests; retrying in {retry_after:g} s", retry_after, status=status, code=code)
    if status is None or status >= 500:
        return TransientError(f"Twilio had a server error (HTTP {status})", status=status, code=code)
    return Rejected(words, status=status, code=code)


def _instance_record(instance) -> dict:
    """The JSON fields we read, back from a MessageInstance (create and fetch return those)."""
    return {
        "sid": instance.sid, "direction": instance.direction, "from": instance.from_, "to": instance.to,
        "body": instance.body, "status": instance.status, "date_created": instance.date_created,
        "date_sent": instance.date_sent, "num_segments": instance.num_segments, "num_media": instance.num_media,
        "error_code": instance.error_code, "error_message": instance.error_message,
    }


def _direction(value: str) -> str:
    return "inbound" if value == "inbound" else "outbound"


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


def to_provider_message(record) -> ProviderMessage | None:
    """A Twilio message JSON object as a ProviderMessage, or None when it is malformed."""
    try:
        sid = record["sid"]
        if not isinstance(sid, str) or not sid.startswith(("SM", "MM")):
            return None
        created = _when(record["date_created"])
        if created is None:
            return None
        error_code = record.get("error_code")
        return ProviderMessage(
            sid=sid,
            direction=_direction(record["direction"]),
            from_number=record["from"] or "",
            to_number=record["to"] or "",
            body=record.get("body") or "",
            status=str(record["status"]),
            created_at=created,
            sent_at=_when(record.get("date_sent")),
            num_segments=int(record.get("num_segments") or 0),
            num_media=int(record.get("num_media") or 0),
            error_code=int(error_code) if error_code not in (None, "") else None,
            error_message=record.get("error_message"),
        )
    except (KeyError, TypeError, ValueError, IndexError):
        return None
