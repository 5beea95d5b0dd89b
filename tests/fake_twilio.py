"""A Twilio-compatible HTTP server for the tests (loopback only).

It answers the Messages endpoints of API v2010 the way Twilio does: the message JSON
fields of ``api.v2010.account.message``, RFC 2822 dates, numbers and segments as strings,
newest first by the time sent (``date_sent``; not yet sent: created), ``next_page_uri``
paging (PageSize up to 1000, PageToken keyset), To/From and DateSent filters at UTC-day
granularity (``DateSent``, and ``DateSent>`` and ``DateSent<`` inclusive), HTTP Basic
auth, and Twilio's error JSON; and a Messaging Service's sender pool
(``/v1/Services/{Sid}/PhoneNumbers``). Faults can be queued for the next requests, list
pages can be given the real API's pace (``page_delay``), and ``on_list`` runs before each
list page is answered (to add messages while a sync pages, or to stop a process).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import phonenumbers

ACCOUNT = "AC" + "a" * 32
TOKEN = "tok" + "9" * 29
API = "/2010-04-01"

ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21211: "Invalid 'To' Phone Number",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
}


def rfc2822(when: datetime | None) -> str | None:
    if when is None:
        return None
    return format_datetime(when.replace(tzinfo=UTC), usegmt=False).replace("-0000", "+0000")


@dataclass
class Fault:
    status: int
    code: int | None = None
    retry_after: str | None = None
    path_contains: str = ""
    method: str | None = None


_NOT_ODD = object()


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT
    auth_token: str = TOKEN
    business_number: str = "+12125550100"
    messages: list[dict] = field(default_factory=list)  # raw records, newest last
    opted_out: set[str] = field(default_factory=set)
    landlines: set[str] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    clock: object = None
    #: Seconds each list page takes to answer (Twilio's own: 0.3-1 s for a page of 1,000).
    page_delay: float = 0.0
    #: Called with the request's query before each list request is answered (faults it
    #: queues apply to that request).
    on_list: object = None
    #: Answer every list page with itself as its next page (a paging bug seen in a mock).
    stuck_paging: bool = False
    #: Raw JSON bodies the next list requests answer with, one each, instead of a list page.
    odd_pages: list = field(default_factory=list)
    #: Messaging Services and their sender pools.
    services: dict[str, list[str]] = field(default_factory=dict)
    _n: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.clock = self.clock or (lambda: datetime.now(UTC).replace(tzinfo=None))
        self._listed: dict[tuple, tuple[list[dict], dict[str, int]]] = {}  # per filter: rows, sid -> position

    def list_calls(self) -> int:
        return sum(1 for method, path in self.requests if method == "GET" and path.split("?")[0].endswith("/Messages.json"))

    # ---- the log -------------------------------------------------------------------------

    def _sid(self) -> str:
        self._n += 1
        return f"SM{self._n:032x}"

    def record(
        self,
        *,
        direction: str,
        from_: str,
        to: str,
        body: str,
        status: str,
        created: datetime,
        sent: datetime | None = None,
        error_code: int | None = None,
        error_message: str | None = None,
        sid: str | None = None,
        num_segments: int = 1,
        media: list[tuple[str, bytes]] | None = None,
    ) -> dict:
        sid = sid or self._sid()
        if media:  # an MMS: its SID starts MM, and its files are the Media subresource
            sid = "MM" + sid[2:]
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": rfc2822(created),
            "date_sent": rfc2822(sent),
            "date_updated": rfc2822(sent or created),
            "direction": direction,
            "error_code": error_code,
            "error_message": error_message,
            "from": from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"{API}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"{API}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "_created": created,
            "_sent": sent,
            "_media": [
                {"sid": f"ME{sid[4:]}{n:02d}", "content_type": content_type, "_bytes": data}
                for n, (content_type, data) in enumerate(media or [])
            ],
        }
        message["num_media"] = str(len(message["_media"]))
        with self.lock:
            self.messages.append(message)
            self._listed.clear()
        return message

    def bulk(self, records: list[tuple[str, str, str, datetime]], direction_out: str = "outbound-api") -> None:
        """Many messages at once: (direction, client number, body, time) each, sent at that time."""
        rows = []
        for direction, number, body, at in records:
            sid = self._sid()
            inbound = direction == "inbound"
            rows.append(
                {
                    "account_sid": self.account_sid,
                    "api_version": "2010-04-01",
                    "body": body,
                    "date_created": rfc2822(at),
                    "date_sent": rfc2822(at),
                    "date_updated": rfc2822(at),
                    "direction": "inbound" if inbound else direction_out,
                    "error_code": None,
                    "error_message": None,
                    "from": number if inbound else self.business_number,
                    "messaging_service_sid": None,
                    "num_media": "0",
                    "num_segments": "1",
                    "price": None,
                    "price_unit": "USD",
                    "sid": sid,
                    "status": "received" if inbound else "delivered",
                    "subresource_uris": {"media": f"{API}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
                    "to": self.business_number if inbound else number,
                    "uri": f"{API}/Accounts/{self.account_sid}/Messages/{sid}.json",
                    "_created": at,
                    "_sent": at,
                }
            )
        with self.lock:
            self.messages.extend(rows)
            self._listed.clear()

    def inbound(self, from_: str, body: str, at: datetime, **kw) -> dict:
        return self.record(
            direction="inbound", from_=from_, to=self.business_number, body=body, status="received", created=at, sent=at, **kw
        )

    def outbound(self, to: str, body: str, at: datetime, status: str = "delivered", **kw) -> dict:
        sent = None if status in ("queued", "accepted", "scheduled", "canceled") else at
        return self.record(
            direction="outbound-api", from_=self.business_number, to=to, body=body, status=status, created=at, sent=sent, **kw
        )

    def set_status(
        self, sid: str, status: str, error_code: int | None = None, error_message: str | None = None, sent: datetime | None = None
    ) -> None:
        with self.lock:
            for message in self.messages:
                if message["sid"] == sid:
                    message["status"] = status
                    message["error_code"] = error_code
                    message["error_message"] = error_message
                    if sent is not None:
                        message["_sent"] = sent
                        message["date_sent"] = rfc2822(sent)
                    self._listed.clear()
                    return
        raise KeyError(sid)

    def fail_next(
        self,
        status: int,
        *,
        code: int | None = None,
        retry_after: str | None = None,
        times: int = 1,
        path_contains: str = "",
        method: str | None = None,
    ) -> None:
        for _ in range(times):
            self.faults.append(Fault(status, code, retry_after, path_contains, method))

    @staticmethod
    def public(message: dict) -> dict:
        return {k: v for k, v in message.items() if not k.startswith("_")}

    # ---- HTTP ----------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        # A short poll: shutdown() waits for it, once per test that uses the server.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _send(self, handler, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _error(self, handler, status: int, code: int, message: str | None = None, headers=None) -> None:
        self._send(
            handler,
            status,
            {
                "code": code,
                "message": message or ERROR_TEXT.get(code, "Error"),
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            headers,
        )

    def _handle(self, handler, method: str) -> None:
        url = urlsplit(handler.path)
        self.requests.append((method, handler.path))
        if self.on_list is not None and method == "GET" and url.path.endswith("/Messages.json"):
            self.on_list({k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()})
        with self.lock:
            fault = next((f for f in self.faults if f.path_contains in url.path and f.method in (None, method)), None)
            if fault:
                self.faults.remove(fault)
        if fault:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            return self._error(handler, fault.status, fault.code or (20429 if fault.status == 429 else 20500), headers=headers)
        if url.path.startswith("/media-store/") and method == "GET":  # the store Twilio redirects to: no auth
            return self._media_content(handler, url.path.rsplit("/", 1)[1])
        if not self._authorized(handler.headers.get("Authorization", "")):
            return self._error(handler, 401, 20003)
        if url.path.startswith("/v1/Services/") and url.path.endswith("/PhoneNumbers") and method == "GET":
            return self._service_numbers(handler, url.path.split("/")[3])
        prefix = f"{API}/Accounts/{self.account_sid}/Messages"
        if url.path == prefix + ".json" and method == "GET":
            return self._list(handler, url)
        if url.path == prefix + ".json" and method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
            return self._create(handler, form)
        if url.path.startswith(prefix + "/") and "/Media" in url.path and method == "GET":
            return self._media(handler, url.path[len(prefix) + 1 :])
        if url.path.startswith(prefix + "/") and url.path.endswith(".json") and method == "GET":
            sid = url.path[len(prefix) + 1 : -5]
            with self.lock:
                found = next((m for m in self.messages if m["sid"] == sid), None)
            if found is None:
                return self._error(handler, 404, 20404)
            return self._send(handler, 200, self.public(found))
        return self._error(handler, 404, 20404)

    def _media(self, handler, rest: str) -> None:
        """``{MsgSid}/Media.json`` (the list), ``{MsgSid}/Media/{Sid}.json`` (one), and
        ``{MsgSid}/Media/{Sid}`` (the file: a redirect to the media store, as Twilio's)."""
        message_sid, _, tail = rest.partition("/Media")
        with self.lock:
            message = next((m for m in self.messages if m["sid"] == message_sid), None)
        if message is None:
            return self._error(handler, 404, 20404)
        base = f"{API}/Accounts/{self.account_sid}/Messages/{message_sid}/Media"

        def public(item: dict) -> dict:
            return {
                "account_sid": self.account_sid,
                "content_type": item["content_type"],
                "date_created": message["date_created"],
                "date_updated": message["date_created"],
                "parent_sid": message_sid,
                "sid": item["sid"],
                "uri": f"{base}/{item['sid']}.json",
            }

        if tail == ".json":
            items = [public(item) for item in message.get("_media", ())]
            return self._send(
                handler,
                200,
                {
                    "media_list": items,
                    "first_page_uri": f"{base}.json?PageSize=50&Page=0",
                    "next_page_uri": None,
                    "previous_page_uri": None,
                    "page": 0,
                    "page_size": 50,
                    "start": 0,
                    "end": max(0, len(items) - 1),
                    "uri": f"{base}.json?PageSize=50&Page=0",
                },
            )
        media_sid = tail.strip("/").removesuffix(".json")
        item = next((i for i in message.get("_media", ()) if i["sid"] == media_sid), None)
        if item is None:
            return self._error(handler, 404, 20404)
        if tail.endswith(".json"):
            return self._send(handler, 200, public(item))
        handler.send_response(307)
        handler.send_header("Location", f"http://{handler.headers['Host']}/media-store/{media_sid}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _media_content(self, handler, media_sid: str) -> None:
        with self.lock:
            item = next((i for m in self.messages for i in m.get("_media", ()) if i["sid"] == media_sid), None)
        if item is None or item["_bytes"] is None:  # None: listed, but gone from the store
            return self._error(handler, 404, 20404)
        handler.send_response(200)
        handler.send_header("Content-Type", item["content_type"])
        handler.send_header("Content-Length", str(len(item["_bytes"])))
        handler.end_headers()
        handler.wfile.write(item["_bytes"])

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.account_sid and password == self.auth_token

    def _rows(self, query: dict) -> tuple[list[dict], dict[str, int]]:
        """The messages a list query selects, newest first by time sent, with each SID's place."""
        key = tuple(sorted((k, v) for k, v in query.items() if k in ("To", "From", "DateSent", "DateSent>", "DateSent<")))
        with self.lock:
            if key not in self._listed:
                rows = list(self.messages)
                if "To" in query:
                    rows = [m for m in rows if m["to"] == query["To"]]
                if "From" in query:
                    rows = [m for m in rows if m["from"] == query["From"]]
                for name, keep in (
                    ("DateSent", lambda d, v: d == v),
                    ("DateSent>", lambda d, v: d >= v),
                    ("DateSent<", lambda d, v: d <= v),
                ):
                    if name in query:
                        wanted = date.fromisoformat(query[name][:10])
                        rows = [m for m in rows if m["_sent"] is not None and keep(m["_sent"].date(), wanted)]
                rows.sort(key=lambda m: (m["_sent"] or m["_created"], m["sid"]), reverse=True)
                self._listed[key] = (rows, {m["sid"]: i for i, m in enumerate(rows)})
            return self._listed[key]

    def _list(self, handler, url) -> None:
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if self.page_delay:
            time.sleep(self.page_delay)
        with self.lock:
            odd = self.odd_pages.pop(0) if self.odd_pages else _NOT_ODD
        if odd is not _NOT_ODD:
            return self._send(handler, 200, odd)
        page_size = max(1, min(int(query.get("PageSize", 50)), 1000))
        page = int(query.get("Page", 0))
        rows, places = self._rows(query)
        token = query.get("PageToken")
        start = 0
        if token:
            start = places[token[2:]] + 1 if token[2:] in places else len(rows)
        chunk = rows[start : start + page_size]
        base = f"{API}/Accounts/{self.account_sid}/Messages.json"
        keep_params = {k: v for k, v in query.items() if k not in ("Page", "PageToken", "PageSize")}
        next_uri = None
        if len(rows) > start + page_size:
            next_uri = (
                base
                + "?"
                + urlencode({**keep_params, "PageSize": page_size, "Page": page + 1, "PageToken": "PA" + chunk[-1]["sid"]})
            )
        this_uri = url.path + ("?" + url.query if url.query else "")
        if self.stuck_paging:
            next_uri = this_uri
        self._send(
            handler,
            200,
            {
                "messages": [self.public(m) for m in chunk],
                "end": page * page_size + max(len(chunk) - 1, 0),
                "first_page_uri": base + "?" + urlencode({**keep_params, "PageSize": page_size, "Page": 0}),
                "next_page_uri": next_uri,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": page * page_size,
                "uri": this_uri,
            },
        )

    def _service_numbers(self, handler, service_sid: str) -> None:
        if service_sid not in self.services:
            return self._error(handler, 404, 20404)
        numbers = [
            {
                "sid": f"PN{i:032d}",
                "service_sid": service_sid,
                "phone_number": number,
                "country_code": "US",
                "account_sid": self.account_sid,
                "capabilities": ["SMS"],
                "date_created": None,
                "date_updated": None,
                "url": f"/v1/Services/{service_sid}/PhoneNumbers/PN{i:032d}",
            }
            for i, number in enumerate(self.services[service_sid])
        ]
        self._send(
            handler,
            200,
            {
                "phone_numbers": numbers,
                "meta": {
                    "page": 0,
                    "page_size": 50,
                    "first_page_url": None,
                    "previous_page_url": None,
                    "next_page_url": None,
                    "url": f"/v1/Services/{service_sid}/PhoneNumbers",
                    "key": "phone_numbers",
                },
            },
        )

    def _create(self, handler, form: dict) -> None:
        to, body = form.get("To", ""), form.get("Body", "")
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(to))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            return self._error(handler, 400, 21211, f"Invalid 'To' Phone Number: {to}")
        if to in self.opted_out:
            return self._error(handler, 400, 21610)
        if to in self.landlines:
            return self._error(handler, 400, 21614)
        if len(body) > 1600:
            return self._error(handler, 400, 21617)
        message = self.record(
            direction="outbound-api",
            from_=form.get("From") or self.business_number,
            to=to,
            body=body,
            status="queued",
            created=self.clock(),
            sent=None,
        )
        self._send(handler, 201, self.public(message))
