"""A Twilio-compatible server on 127.0.0.1 with a busy number's log, for trying msgterm's sync
by hand and for bench/sync_memory.py. It is the test suite's own server (tests/fake_twilio.py).

    uv run python bench/twilio_server.py --messages 60000 --page-delay 0.4 --port 8765

then point msgterm at it (the account and token are printed), e.g.

    MSGTERM_TWILIO_API_URL=http://127.0.0.1:8765 TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… \\
    MSGTERM_TWILIO_NUMBER=+12125550100 uv run msgterm --db /tmp/busy.db sync

Every ``--inbound-every`` seconds a client texts in, so that a running app has news to show.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_twilio import ACCOUNT, TOKEN, FakeTwilio  # noqa: E402

BUSINESS = "+12125550100"


def busy_log(fake: FakeTwilio, messages: int, days: int, end: datetime) -> None:
    """``messages`` over ``days``: five sixths of them in the last sixth of the days (a number
    that started sending automated reminders), one in ten an answer from a client."""
    busy_days = max(1, days // 6)
    quiet = messages // 6
    records = []
    for n in range(messages):
        if n < quiet:
            at = end - timedelta(days=days) + timedelta(seconds=n * (days - busy_days) * 86_400 / max(quiet, 1))
        else:
            at = end - timedelta(days=busy_days) + timedelta(seconds=(n - quiet) * busy_days * 86_400 / (messages - quiet))
        number = f"+1212555{n % 5000 + 2000:04d}"
        records.append(
            ("inbound", number, f"Answer {n}", at) if n % 10 == 3 else ("outbound", number, f"Reminder {n}: class tomorrow", at)
        )
    fake.bulk(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--page-delay", type=float, default=0.4, help="seconds per list page (Twilio: 0.3-1 s)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--inbound-every", type=float, default=20.0)
    args = parser.parse_args()
    fake = FakeTwilio(business_number=BUSINESS, page_delay=args.page_delay)
    busy_log(fake, args.messages, args.days, datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1))
    url = fake.start(port=args.port)
    print(f"{url}  account {ACCOUNT}  token {TOKEN}  number {BUSINESS}  ({len(fake.messages):,} messages)", flush=True)

    def walk_ins() -> None:
        n = 0
        while True:
            time.sleep(args.inbound_every)
            n += 1
            fake.inbound(f"+1212555{n % 50 + 7000:04d}", f"Walk-in text {n}", datetime.now(UTC).replace(tzinfo=None))

    threading.Thread(target=walk_ins, daemon=True).start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
