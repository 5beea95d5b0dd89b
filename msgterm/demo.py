"""A deterministic demo store: believable clients and front-desk conversations in every folder.

The history is written through the same store paths the poller and the composer use
(ingest for the provider's log, begin/finish send for staff replies), with the store's
clock moved to each message's time, so every folder rule and event applies as in life.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from msgterm.domain.clients import ClientInput
from msgterm.domain.folders import FolderView
from msgterm.domain.provider_message import Direction, ProviderMedia, ProviderMessage, Status
from msgterm.store import Store
from msgterm.sync.simulated import DEMO_MEDIA

DEMO_BUSINESS_NUMBER = "+12125550100"
DEMO_STAFF = (("maria", "Maria Lopez", "Front Desk"), ("sam", "Sam Okafor", "Front Desk"), ("alex", "Alex Chen", "Viewer"))

FIRST = (
    "Emma Olivia Ava Sophia Mia Isabella Amelia Harper Evelyn Abigail Emily Ella Grace Chloe Zoe Lily Hannah Nora "
    "Liam Noah Oliver Elijah James William Benjamin Lucas Henry Alexander Mason Ethan Daniel Jacob Logan Jackson "
    "Priya Aisha Mei Sofia Lucia Yuki Fatima Amara Ines Leila Diego Mateo Kenji Ravi Omar Tomas Andre Jamal"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Patel "
    "Kim Okafor Rossi Novak Cohen Murphy Schmidt Costa Silva Tanaka"
).split()
AREA_CODES = ("212", "646", "718", "917", "415", "312", "617", "303")
CLIENT_TYPES = (("Member", 55), ("Prospect", 25), ("Former member", 12), ("Staff guest", 8))
GROUPS = ("Yoga regulars", "VIP", "Early birds", "Pilates", "New parents", "Corporate", "Students", "Seniors")
LOCATIONS = ("Downtown", "Riverside", "Uptown")
CLASSES = ("Vinyasa Flow", "Hot Yoga", "Reformer Pilates", "Spin", "Barre", "Yin Yoga", "HIIT")
COACHES = ("Jess", "Marco", "Dana", "Priya", "Tom")
SERVICES = ("massage", "personal training session", "facial", "physio assessment")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
TIMES = ("7am", "9:30am", "12pm", "5:30pm", "6pm", "7:15pm")

# Each script is a list of (who, text): "in" is the client, "staff" a reply from
# msgterm, "auto" the booking system's automated texts. Scripts end in different
# places so that the folders fill naturally.
SCRIPTS: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        ("in", "Hi, is there space in the {time} {cls} tomorrow?"),
        ("staff", "Hi {first}! Yes, 3 spots left in {cls} at {time}. Want me to book you in?"),
        ("in", "Yes please!"),
        ("staff", "Done, you're booked. See you tomorrow!"),
        ("in", "Thank you!!"),
    ),
    (
        ("auto", "Reminder: {cls} with {coach} tomorrow at {time}, {location} studio. Reply C to confirm or call us to cancel."),
        ("in", "C"),
    ),
    (
        ("auto", "Reminder: your {service} is on {day} at {time}. Reply C to confirm."),
        ("in", "Something came up, can I move it to {day2}?"),
        ("staff", "No problem {first}. {day2} we have {time} or {time2}. Which works?"),
        ("in", "{time2} please"),
        ("staff", "All set for {day2} at {time2}. See you then!"),
    ),
    (
        (
            "auto",
            "Hi {first}, your payment of ${amount}.00 for the 10-class pack was declined. Please update your card in the app.",
        ),
        ("in", "Just updated it, sorry about that. Can you try again?"),
        ("staff", "Thanks {first}, it went through. You're all set."),
    ),
    (("auto", "Flash sale! 20% off all class packs this weekend only. Book in the app."), ("in", "STOP")),
    (
        ("in", "Why was I charged $15 yesterday?"),
        ("staff", "Hi {first}, that was the late-cancel fee for {cls} on {day}. Cancellations need 12 hours notice."),
        ("in", "Oh ok. It was a work emergency, could you waive it this once?"),
    ),
    (
        ("in", "I'm traveling for 3 weeks in {month}. Can I freeze my membership?"),
        ("staff", "Of course. I've frozen it from the 3rd to the 24th; billing resumes after."),
        ("in", "Perfect, thanks {staff_first}!"),
    ),
    (
        ("auto", "New class alert: {cls} with {coach} starts {day} at {time} at {location}!"),
        ("in", "Is it beginner friendly?"),
        ("in", "Also do I need to bring a mat?"),
    ),
    (
        ("in", "Running 10 min late for {time} {cls}, please hold my spot!"),
        ("staff", "Got it {first}, we'll hold it until 10 past."),
    ),
    (
        ("in", "Do you still have the intro offer? 2 weeks unlimited?"),
        ("staff", "Yes! $49 for 2 weeks unlimited at any location. Want me to set it up?"),
        ("in", "Let me check my schedule and get back to you"),
    ),
    (
        ("auto", "Thanks for visiting {location}! How was {cls} today? Reply 1-5."),
        ("in", "5! {coach} is amazing"),
        ("staff", "So glad to hear it {first}! We'll pass that on to {coach}."),
    ),
    (
        ("in", "I think I left my water bottle in the {location} studio, a blue one"),
        ("staff", "Found it! It's at the front desk whenever you're by."),
        ("in", "You're the best"),
    ),
)


@dataclass(frozen=True)
class DemoSummary:
    clients: int
    conversations: int
    messages: int
    folders: dict[str, int]


class _Clock:
    """A clock the generator moves through the history."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


#: Saved replies the demo starts with (Insert template…, ctrl+t in the composer).
DEMO_TEMPLATES = (
    ("Class confirmed", "Hi {first_name}, your class is confirmed. See you soon! {staff_first_name}"),
    ("Closed on Sunday", "We're closed on Sundays; we open again on Monday at 6:00."),
    ("Membership frozen", "Hi {first_name}, your membership at {home_location} is frozen as you asked."),
)


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"+1{rng.choice(AREA_CODES)}5550{rng.randint(100, 199)}"
        if number not in used:
            used.add(number)
            return number


def make_clients(rng: random.Random, count: int) -> list[ClientInput]:
    used: set[str] = {DEMO_BUSINESS_NUMBER}
    clients: list[ClientInput] = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        ctype = rng.choices([t for t, _ in CLIENT_TYPES], weights=[w for _, w in CLIENT_TYPES])[0]
        groups = tuple(sorted(rng.sample(GROUPS, k=rng.choice((0, 1, 1, 2, 3)))))
        clients.append(
            ClientInput(
                client_id=f"C{10001 + n}",
                uid=f"UID-{rng.randint(100000, 999999)}-{n:03d}",
                first_name=first,
                last_name=last,
                mobile_phone=_phone(rng, used) if n < 780 else None,
                email=f"{first.lower()}.{last.lower()}{n}@example.com",
                client_type=ctype,
                groups=groups,
                home_location=rng.choice(LOCATIONS),
            )
        )
    return clients


def build_demo(
    store: Store, *, seed: int = 7, clients: int = 300, conversations: int = 120, now: datetime | None = None
) -> DemoSummary:
    """Fill an empty store with the demo directory and histories."""
    rng = random.Random(seed)
    real_clock = store.clock
    now = now or real_clock()
    clock = _Clock(now)
    store.clock = clock
    try:
        directory = make_clients(rng, min(clients, 780))
        store.upsert_clients(list(enumerate(directory, start=2)))
        staff = {}
        for username, name, role in DEMO_STAFF:
            staff[username] = store.add_staff(username, name, role)[0]
        for name, body in DEMO_TEMPLATES:
            store.save_template(staff["maria"], name, body)
        senders = [staff["maria"], staff["sam"]]
        people = [c for c in directory if c.mobile_phone]
        chosen = rng.sample(people, k=min(conversations, len(people)))
        sid_n = 0

        def sid() -> str:
            nonlocal sid_n
            sid_n += 1
            return f"SM{rng.getrandbits(96):024x}{sid_n:08x}"

        conversation_ids: list[int] = []
        for index, client in enumerate(chosen):
            script = SCRIPTS[index % len(SCRIPTS)]
            # Spread the conversations over the last 60 days, the newest most recent.
            start = now - timedelta(
                days=rng.uniform(0.02, 60) * (index / max(1, len(chosen))) + rng.uniform(0, 0.5), minutes=len(script) * 20
            )
            values = {
                "first": client.first_name,
                "cls": rng.choice(CLASSES),
                "coach": rng.choice(COACHES),
                "time": rng.choice(TIMES[:3]),
                "time2": rng.choice(TIMES[3:]),
                "day": rng.choice(DAYS),
                "day2": rng.choice(DAYS),
                "service": rng.choice(SERVICES),
                "location": client.home_location,
                "amount": rng.choice((89, 120, 149, 199)),
                "month": rng.choice(("March", "June", "August")),
                "staff_first": rng.choice(("Maria", "Sam")),
            }
            at = start
            phone = client.mobile_phone or ""
            conversation_id = 0  # every script opens with the client or an automated text, which makes it
            for who, text in script:
                at += timedelta(minutes=rng.randint(2, 90))
                clock.now = at
                body = text.format(**values)
                if who == "staff":
                    member = rng.choice(senders)
                    sending = store.begin_send(member, conversation_id, body)
                    store.finish_send(
                        member,
                        sending.id,
                        ProviderMessage(sid(), Direction.OUTBOUND, DEMO_BUSINESS_NUMBER, phone, body, Status.DELIVERED, at, at),
                    )
                else:
                    inbound = who == "in"
                    item = ProviderMessage(
                        sid(),
                        Direction.INBOUND if inbound else Direction.OUTBOUND,
                        phone if inbound else DEMO_BUSINESS_NUMBER,
                        DEMO_BUSINESS_NUMBER if inbound else phone,
                        body,
                        Status.RECEIVED if inbound else Status.DELIVERED,
                        at,
                        at,
                    )
                    conversation_id = next(iter(store.ingest([item]).changed_conversations))
            conversation_ids.append(conversation_id)

        # Staff have worked through part of the inbox: some read, some archived, some muted.
        manager = staff["maria"]
        for conversation_id in conversation_ids:
            roll = rng.random()
            clock.now = now - timedelta(minutes=rng.randint(1, 600))
            if roll < 0.25:
                store.open_conversation(manager, conversation_id)
            elif roll < 0.40:
                store.archive(manager, conversation_id)
            if rng.random() < 0.08:
                store.set_muted(manager, conversation_id, True)

        # Two clients sent photos (their membership card; a mat, with the receipt).
        for client, minutes, body, files in (
            (chosen[0], 12, "Here's my membership card, the app won't load it", ("ME0de0000000000000000000000000card",)),
            (chosen[1], 95, "", ("ME0de00000000000000000000000000mat", "ME0de0000000000000000000000receipt")),
        ):
            clock.now = now - timedelta(minutes=minutes)
            mms = ProviderMessage(
                "MM" + sid()[2:],
                Direction.INBOUND,
                client.mobile_phone or "",
                DEMO_BUSINESS_NUMBER,
                body,
                Status.RECEIVED,
                clock.now,
                clock.now,
                num_media=len(files),
            )
            store.ingest([mms])
            message_id = store.message_id_for_sid(mms.sid)
            assert message_id is not None, "the MMS was just stored"
            listed = [ProviderMedia(media_sid, mms.sid, DEMO_MEDIA[media_sid][0]) for media_sid in files]
            store.record_media(message_id, [(media, len(DEMO_MEDIA[media.sid][1]()), None) for media in listed])

        # Two numbers that match no client: unknown senders.
        for offset, body in (
            (35, "Hi, do you have parking near the Downtown studio?"),
            (300, "Is this the front desk? Wrong number maybe"),
        ):
            clock.now = now - timedelta(minutes=offset)
            store.ingest(
                [
                    ProviderMessage(
                        sid(),
                        Direction.INBOUND,
                        f"+1917555{rng.randint(200, 299):04d}",
                        DEMO_BUSINESS_NUMBER,
                        body,
                        Status.RECEIVED,
                        clock.now,
                        clock.now,
                    )
                ]
            )
    finally:
        store.clock = real_clock
    store.mark_synced(now)  # the demo's history is all here: its provider starts from now
    return demo_summary(store)


def demo_summary(store: Store) -> DemoSummary:
    counts = store.folder_counts()
    return DemoSummary(
        clients=store.client_count(),
        conversations=counts[FolderView.ALL],
        messages=store.message_count(),
        folders={view.value: n for view, n in counts.items()},
    )
