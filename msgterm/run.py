"""What the commands that run for a while do: the app, the demo, the poller, a send."""

from __future__ import annotations

import threading
from dataclasses import replace

from msgterm.cli import Context, echo
from msgterm.domain.sanitize import clean_line


def prepare_demo(obj: Context, *, seed: int, fresh: bool):
    """Point ``obj`` at the demo store, building it when it is new (or ``fresh``)."""
    from msgterm.demo import DEMO_BUSINESS_NUMBER, build_demo, demo_summary
    from msgterm.settings import demo_database_path, for_demo
    from msgterm.store import open_store

    settings = for_demo(obj.settings)
    settings = replace(settings, twilio=replace(settings.twilio, number=DEMO_BUSINESS_NUMBER))
    path = demo_database_path()
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    obj.use_settings(settings)
    store = open_store(path, business_number=DEMO_BUSINESS_NUMBER)
    obj._store = store
    if store.message_count() == 0:
        echo(f"building the demo store in {path} (once, a few seconds)…", err=True)
        build_demo(store, seed=seed)
    if store.ensure_first_manager(settings.staff) is False:
        try:
            store.staff_member(settings.staff)
        except Exception:  # noqa: BLE001 - the demo lets whoever runs it in, as a Manager
            store.add_staff(settings.staff, settings.staff, "Manager")
    return demo_summary(store)


def run_app(obj: Context, *, demo: bool) -> None:
    """Start the Textual app; with no provider configured, the first-run screen."""
    from msgterm.logs import setup_logging
    from msgterm.settings import log_dir

    settings = obj.settings
    setup_logging(log_dir(), settings.twilio.secrets)
    if not demo and not settings.twilio.configured:
        from msgterm.app import MsgtermApp

        if MsgtermApp(None, None, first_run_config=str(settings.config_path)).run() == "demo":
            prepare_demo(obj, seed=7, fresh=False)
            run_app(obj, demo=True)
        return
    from msgterm.app import MsgtermApp
    from msgterm.inline_images import image_widget_class
    from msgterm.memory import give_back_forever, tune_allocator
    from msgterm.preferences import preferences_path

    tune_allocator()

    store = obj.store
    app = MsgtermApp(
        store,
        obj.staff(),
        provider=make_provider(obj, demo=demo),
        demo=demo,
        region=settings.default_region,
        poll_interval=2.0 if demo else settings.twilio.poll_interval,
        history_days=settings.twilio.history_days,
        bell=settings.bell,
        alerts=settings.alerts,
        freeze_heap=True,
        preferences=preferences_path(),
        quiet_hours=settings.quiet_hours,
        image_widget=image_widget_class(),
    )
    done = threading.Event()
    give_back_forever(done)
    try:
        app.run()
    finally:
        done.set()


def make_provider(obj: Context, *, demo: bool = False):
    """The provider for these settings: simulated for the demo, Twilio otherwise."""
    settings = obj.settings
    if demo:
        from msgterm.demo import DEMO_BUSINESS_NUMBER
        from msgterm.store.base import utcnow
        from msgterm.sync.simulated import SimulatedProvider

        store = obj.store
        return SimulatedProvider(DEMO_BUSINESS_NUMBER, store.textable_numbers, clock=utcnow)
    if not settings.twilio.configured:
        from msgterm.domain.errors import MsgtermError

        raise MsgtermError(
            "Twilio is not configured. Set twilio.account_sid, twilio.auth_token (or api_key and api_secret) "
            "and twilio.number in the config file or the environment (see the README), or try 'msgterm demo'."
        )
    from msgterm.sync.twilio_provider import TwilioProvider

    return TwilioProvider(settings.twilio)


def run_sync(obj: Context, *, once: bool) -> int:
    """``msgterm sync``: one cycle (--once) or a loop until interrupted. Returns the exit code."""
    import logging
    import sys
    import time

    from msgterm.domain.when import local_zone
    from msgterm.logs import setup_logging
    from msgterm.settings import log_dir
    from msgterm.sync.poller import SYNC_COMMAND, LoopState, Poller, PollLoop, SendTiming, holder_name
    from msgterm.sync_progress import HistoryDisplay

    settings = obj.settings
    setup_logging(log_dir(), settings.twilio.secrets, stderr=True)
    log = logging.getLogger("msgterm.sync")
    provider = make_provider(obj)
    stored_before = obj.store.sync_status().history_messages
    with HistoryDisplay(log, terminal=sys.stderr.isatty(), stored_before=stored_before) as display:
        poller = Poller(
            obj.store,
            provider,
            history_days=settings.twilio.history_days,
            on_progress=display.update,
            holder=holder_name(SYNC_COMMAND),
            timing=SendTiming(settings.default_region, settings.quiet_hours, local_zone()),
        )
        loop = PollLoop(poller, settings.twilio.poll_interval)
        try:
            while True:
                outcome = loop.step()
                if once and outcome.state is LoopState.STANDBY:
                    outcome = _wait_for_the_lease(loop, outcome, log)
                if once and outcome.state is LoopState.WAITING:
                    outcome = _wait_for_the_store(loop, outcome, log)
                (log.info if outcome.state in (LoopState.SYNCED, LoopState.STANDBY) else log.error)(outcome.message)
                if once:
                    if outcome.state is not LoopState.SYNCED:
                        echo(f"msgterm: {outcome.message}", err=True)
                    return 0 if outcome.state is LoopState.SYNCED else 1
                time.sleep(outcome.delay)
        except KeyboardInterrupt:
            return 130
        finally:
            loop.release()


#: How long ``sync --once`` waits for another program's write (an import) to let the store go.
STORE_WAIT_SECONDS = 300.0


def _wait_for_the_store(loop, outcome, log):
    """``sync --once`` while another program holds the store's write lock: try again after
    each backoff, for up to STORE_WAIT_SECONDS, instead of giving up at the first refusal."""
    import time

    from msgterm.sync.poller import LoopState

    deadline = time.monotonic() + STORE_WAIT_SECONDS
    while outcome.state is LoopState.WAITING and time.monotonic() + outcome.delay < deadline:
        log.info(outcome.message)
        time.sleep(outcome.delay)
        outcome = loop.step()
    return outcome


def _wait_for_the_lease(loop, outcome, log):
    """``sync --once`` while another process holds the lease: wait one lease lifetime for it
    to lapse (a holder that died elsewhere), trying again meanwhile, and say so."""
    import time

    from msgterm.sync.poller import LoopState

    wait = loop.lease_ttl.total_seconds()
    log.info("%s; waiting up to %.0f s for it to finish or for its lease to run out", outcome.message, wait)
    deadline = time.monotonic() + wait
    while outcome.state is LoopState.STANDBY and time.monotonic() < deadline:
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        outcome = loop.step()
    if outcome.state is LoopState.STANDBY:
        outcome.message = f"{outcome.message} and kept its lease for {wait:.0f} s: the store is being synced already"
    return outcome


def run_send(
    obj: Context,
    client_ref: str,
    message: str | None,
    *,
    template_name: str | None = None,
    when: str | None = None,
    anyway: bool = False,
) -> int:
    """``msgterm send``: the composer's checks and pipeline, from the command line; a
    template filled in for the client; later with ``when``; inside quiet hours only when
    asked (``anyway``, or yes at the prompt)."""
    import sys

    from msgterm.domain.templates import expand
    from msgterm.domain.when import local_zone, parse_when, to_local
    from msgterm.sync.send import SendPipeline, check_body

    settings = obj.settings
    store = obj.store
    staff = obj.staff()
    zone = local_zone()
    client = store.client_by_ref(client_ref, settings.default_region)
    conversation = store.conversation_for_client(client.id) or store.start_conversation(staff, client.id)
    if template_name:
        message = expand(store.template(template_name).body, store.merge_values_for(staff, conversation.id))
    if message is None:
        raise ValueError("run_send needs a message or a template")
    check_body(message)
    send_at = parse_when(when, store.clock(), zone) if when else None
    quiet = settings.quiet_hours
    if send_at is None and quiet is not None and quiet.contains(store.clock(), zone) and not anyway:
        end = quiet.end_after(store.clock(), zone)
        if not sys.stdin.isatty():
            echo(
                f"msgterm: not sent: it is within the quiet hours ({quiet}). Add --at "
                f"'{to_local(end, zone):%Y-%m-%d %H:%M}' to send it when they end, or --anyway to send now.",
                err=True,
            )
            return 1
        import click

        choice = click.prompt(
            f"It is within the quiet hours ({quiet}). Send at {to_local(end, zone):%H:%M} (s), now (n) or not at all (c)?",
            type=click.Choice(["s", "n", "c"]),
            default="s",
        )
        if choice == "c":
            echo("not sent")
            return 1
        send_at = end if choice == "s" else None
    pipeline = SendPipeline(store, make_provider(obj), settings.default_region)
    name = clean_line(client.name)
    if send_at is not None:
        scheduled = pipeline.schedule(staff, conversation.id, message, send_at)
        echo(f"scheduled #{scheduled.id} to {name} for {to_local(send_at, zone):%a %d %b %H:%M} (msgterm scheduled lists it)")
        return 0
    result = pipeline.send(staff, conversation.id, message)
    if not result.ok:
        echo(f"msgterm: not sent to {name}: {result.reason}", err=True)
        return 1
    echo(f"sent to {name} ({result.message.to_number}): {result.message.sid} {result.message.status}")
    return 0


def fetch_media(obj: Context, sid: str, directory: str | None) -> int:
    """``msgterm media fetch``: every file of one message, from Twilio (through the cache),
    each path printed; what the download found noted on the stored message. Returns the exit code."""
    import re
    import shutil
    from pathlib import Path

    from msgterm.cli import echo, fail
    from msgterm.sync.attachments import MediaCache, download
    from msgterm.sync.provider import ProviderError

    if not re.fullmatch(r"(MM|SM)[0-9a-fA-F]{32}", sid):
        fail(f"{sid!r} is not a message SID: they start MM (or SM) and have 32 hexadecimal digits after that", code=2)
    provider, store = make_provider(obj), obj.store
    try:
        files = provider.list_media(sid)
    except ProviderError as error:
        fail(f"cannot list the attachments of {sid}: {error}")
    stored = store.message_id_for_sid(sid)
    if stored is not None:
        store.record_media(stored, [(file, None, None) for file in files])
    if not files:
        echo(f"{sid} has no attachments (a text-only message, or its files were deleted at Twilio)", err=True)
        return 1
    target = Path(directory) if directory else None
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
    failed = 0
    for file in files:
        try:
            path = download(provider, store, file, MediaCache())
        except ProviderError as error:
            echo(f"msgterm: {file.sid} ({file.content_type}): {error}", err=True)
            failed += 1
            continue
        if target is not None:
            path = Path(shutil.copyfile(path, target / path.name))
        echo(str(path))
    return 1 if failed else 0
