"""How long other writers wait while ``msgterm clients import`` stores a big directory.

    uv run python bench/import_turns.py [--clients 100000] [--db /tmp/import-turns.db]

A fresh SQLite store; the import runs in its own process (as a manager would run it in
another terminal) while this one, like a front-desk terminal and the poller beside it,
writes every 0.2 s in turn: an archive, a send's bookkeeping (begin and finish), a sync
batch of 100 inbound messages. Each write is timed from call to commit; the longest and
the median are printed, with how long the import took. Nothing is asserted: figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from msgterm.domain.clients import ClientInput  # noqa: E402
from msgterm.domain.provider_message import ProviderMessage  # noqa: E402
from msgterm.store import open_store  # noqa: E402

BUSINESS = "+12125550100"
HEADER = "client_id,uid,first_name,last_name,mobile_phone,email,client_type,groups,home_location\n"


def write_directory(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(count):
            area = ("212", "646", "917", "718", "347")[n % 5]
            out.write(f"I{n},IU{n},First{n},Last{n},+1{area}{2000000 + n // 5:07d},i{n}@example.com,Member,VIP;Yoga,Downtown\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="import-turns-"))
    db = Path(args.db) if args.db else work / "store.db"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    store = open_store(db, business_number=BUSINESS)
    desk = store.add_staff("desk", "Dee Desk", "Front Desk")[0]
    store.upsert_clients(
        [
            (
                2,
                ClientInput(
                    client_id="K1",
                    uid=None,
                    first_name="Kay",
                    last_name="Front",
                    mobile_phone="+12125550142",
                    email=None,
                    client_type=None,
                    groups=(),
                    home_location=None,
                ),
            )
        ]
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    store.ingest([ProviderMessage("SM" + "0" * 32, "inbound", "+12125550142", BUSINESS, "hello", "received", now, now)])
    conversation = store.conversations()[0].id
    csv_path = work / "directory.csv"
    write_directory(csv_path, args.clients)

    started = time.monotonic()
    importer = subprocess.Popen(
        [sys.executable, "-m", "msgterm", "--db", str(db), "clients", "import", str(csv_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    waits: dict[str, list[float]] = {"archive": [], "send bookkeeping": [], "sync batch of 100": []}
    batch = 0
    while importer.poll() is None:
        for kind in waits:
            began = time.monotonic()
            if kind == "archive":
                store.archive(desk, conversation)
            elif kind == "send bookkeeping":
                message = store.begin_send(desk, conversation, "See you at 6")
                store.fail_send(message.id, None, "bench: not sent")
            else:
                batch += 1
                at = datetime.now(UTC).replace(tzinfo=None)
                store.ingest(
                    [
                        ProviderMessage(
                            f"SMb{batch:015d}{n:016d}",
                            "inbound",
                            f"+1212555{n % 100 + 3000:04d}",
                            BUSINESS,
                            f"batch {batch}",
                            "received",
                            at,
                            at,
                        )
                        for n in range(100)
                    ]
                )
            waits[kind].append(time.monotonic() - began)
            time.sleep(0.2)
    took = time.monotonic() - started
    out, err = importer.communicate()
    print(out.decode().strip(), err.decode().strip()[-300:], sep="\n")
    print(f"import of {args.clients:,} clients: {took:.1f} s ({args.clients / took:,.0f} clients/s)")
    for kind, values in waits.items():
        print(
            f"{kind:>18}: {len(values)} writes, median {statistics.median(values) * 1000:.0f} ms, longest {max(values) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
