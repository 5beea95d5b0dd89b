"""The ``msgterm`` command line (PRODUCT.md §5).

Imports are deferred into the commands so that ``msgterm --version`` and the app's
first paint do not pay for what they do not use.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import click

from msgterm.domain.errors import MsgtermError
from msgterm.domain.sanitize import clean_line, clean_output


@dataclass
class Context:
    """What every command shares: the options, then settings and store built on demand."""

    config_path: str | None
    database: str | None
    staff_name: str | None
    _settings: object = None
    _store: object = None
    closers: list = field(default_factory=list)

    @property
    def settings(self):
        if self._settings is None:
            from msgterm.settings import load_settings

            self._settings = load_settings(config_path=self.config_path, database=self.database, staff=self.staff_name)
        return self._settings

    def use_settings(self, settings) -> None:
        self._settings = settings
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from msgterm.store import open_store

            settings = self.settings
            self._store = open_store(settings.database_url, business_number=business_number(settings))
        return self._store

    def staff(self):
        """The staff member at this terminal; a store with no staff makes them its first Manager."""
        store = self.store
        store.ensure_first_manager(self.settings.staff)
        return store.staff_member(self.settings.staff)


def business_number(settings) -> str:
    return settings.twilio.number or settings.twilio.messaging_service_sid or ""


def echo(text: str, *, err: bool = False) -> None:
    """Every line the command line prints: names, numbers and errors from outside reach the
    terminal as text, never as escape sequences (a window title, a clipboard write, a link)."""
    click.echo(clean_output(text), err=err)


def fail(message: str, code: int = 1):
    echo(f"msgterm: {message}", err=True)
    sys.exit(code)


#: Options of every command, accepted before or after the command's name.
SHARED_OPTIONS = ("--db", "--config", "--as")


class Group(click.Group):
    """Turns MsgtermError (and database trouble) into one clear line on stderr, and takes
    ``--db``, ``--config`` and ``--as`` after the command's name too (``msgterm send --db X``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        shared: list[str] = []
        rest: list[str] = []
        index = 0
        while index < len(args):
            arg = args[index]
            if arg == "--":
                rest += args[index:]
                break
            name = arg.split("=", 1)[0]
            if name in SHARED_OPTIONS and rest:  # after the command's name: move it before
                taken = 1 if "=" in arg else 2
                shared += args[index : index + taken]
                index += taken
                continue
            rest.append(arg)
            index += 1
        return super().parse_args(ctx, shared + rest)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MsgtermError as error:
            fail(str(error))
        except Exception as error:  # noqa: BLE001 - database errors have many classes
            from msgterm.store.errors import describe_database_error

            described = describe_database_error(error)
            if described is None:
                raise
            fail(described)


pass_context = click.make_pass_decorator(Context)


@click.group(cls=Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "database", metavar="URL_OR_PATH", help="The store: a SQLite path or a database URL.")
@click.option("--config", "config_path", metavar="PATH", help="The TOML configuration file.")
@click.option("--as", "staff_name", metavar="STAFF", help="The staff member at this terminal.")
@click.version_option(None, "--version", package_name="msgterm", prog_name="msgterm")  # read when asked
@click.pass_context
def main(ctx: click.Context, database, config_path, staff_name) -> None:
    """msgterm: a keyboard-driven terminal Message Center for two-way SMS with clients."""
    ctx.obj = Context(config_path=config_path, database=database, staff_name=staff_name)
    if ctx.invoked_subcommand is None:
        from msgterm.run import run_app

        run_app(ctx.obj, demo=False)


@main.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the demo data generator.")
@click.option("--fresh", is_flag=True, help="Start the demo store over.")
@click.option("--summary", is_flag=True, help="Build the demo store and print what it holds, without opening the app.")
@pass_context
def demo(obj: Context, seed: int, fresh: bool, summary: bool) -> None:
    """The app on a separate demo store with a simulated provider."""
    from msgterm.run import prepare_demo, run_app

    result = prepare_demo(obj, seed=seed, fresh=fresh)
    if summary:
        folders = ", ".join(f"{name} {count}" for name, count in result.folders.items())
        echo(
            f"demo store {obj.settings.database_url}: {result.clients} clients, "
            f"{result.conversations} conversations ({folders}), {result.messages} messages"
        )
        return
    run_app(obj, demo=True)


@main.group()
def clients() -> None:
    """The client directory."""


@clients.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=str))
@pass_context
def clients_import(obj: Context, csv_file: str) -> None:
    """Import or update clients from a CSV file (columns in the README)."""
    from msgterm.domain.client_csv import RowError, read_clients

    try:
        with open(csv_file, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except FileNotFoundError:
        fail(f"{csv_file}: no such file")
    except UnicodeDecodeError:
        fail(f"{csv_file}: the file is not UTF-8; save it as UTF-8 CSV and import again")
    except OSError as error:
        fail(f"{csv_file}: {error.strerror}")
    try:
        good, errors = read_clients(text, obj.settings.default_region)
    except MsgtermError as error:
        fail(f"{csv_file}: {error}")
    created, updated, refused = _import_with_progress(obj.store, good)
    errors = sorted([*errors, *(RowError(line, why) for line, why in refused)], key=lambda e: e.line)
    for problem in errors:
        echo(f"{csv_file}: {problem}", err=True)
    echo(f"imported {created} new and updated {updated} clients; {len(errors)} rows skipped")
    if errors:
        sys.exit(1)


def _import_with_progress(store, good):
    """``upsert_clients``, with a progress bar on a terminal (an import of 100,000 clients
    takes minutes)."""
    if not sys.stderr.isatty() or len(good) < 1000:
        return store.upsert_clients(good)
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("importing clients", total=len(good))
        return store.upsert_clients(good, on_progress=lambda done, _total: progress.update(task, completed=done))


@main.group()
def staff() -> None:
    """Staff members and their roles."""


@staff.command("add")
@click.argument("username")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--role", default="Front Desk", show_default=True, help="Manager, Front Desk or Viewer.")
@pass_context
def staff_add(obj: Context, username: str, full_name: str, role: str) -> None:
    """Add a staff member, or change one's name and role."""
    member, created = obj.store.add_staff(username, full_name, role)
    echo(f"{'added' if created else 'updated'} {clean_line(member.username)} ({clean_line(member.full_name)}) as {member.role}")


@staff.command("list")
@pass_context
def staff_list(obj: Context) -> None:
    """List staff members."""
    members = obj.store.list_staff()
    if not members:
        echo("no staff members yet; add one with: msgterm staff add USERNAME --name NAME --role ROLE")
    for member in members:
        echo("\t".join(clean_line(field) for field in (member.username, member.full_name, member.role)))


@main.command()
@pass_context
def roles(obj: Context) -> None:
    """List roles and their permissions."""
    for name, permissions in obj.store.roles():
        echo(f"{name}: {', '.join(permissions) or 'read only (no permissions)'}")


@main.command()
@click.option("--client", "client_ref", metavar="ID", help="Only this client (client ID, UID or number).")
@click.option("--json", "as_json", is_flag=True, help="JSON lines (the only format so far).")
@pass_context
def export(obj: Context, client_ref: str | None, as_json: bool) -> None:
    """Contact history as JSON lines, oldest first."""
    from msgterm.export import export_lines

    if not as_json:
        fail("say --json: JSON lines is the export format", code=2)
    client_pk = obj.store.client_by_ref(client_ref, obj.settings.default_region).id if client_ref else None
    for line in export_lines(obj.store, client_pk):
        sys.stdout.write(line + "\n")


@main.command()
@click.option("--once", is_flag=True, help="Run one full cycle and exit (0 on success).")
@pass_context
def sync(obj: Context, once: bool) -> None:
    """Keep the store in step with the provider's message log (headless poller)."""
    from msgterm.run import run_sync

    sys.exit(run_sync(obj, once=once))


@main.command()
@click.argument("client_ref", metavar="CLIENT")
@click.argument("message", required=False)
@click.option("--template", "template_name", metavar="NAME", help="Send this template, filled in for CLIENT.")
@click.option("--at", "when", metavar="WHEN", help="Send later: 'tomorrow 9am', 'mon 17:30', 'in 2h' or ISO 8601.")
@click.option("--anyway", is_flag=True, help="Send now even inside the quiet hours.")
@pass_context
def send(obj: Context, client_ref: str, message: str | None, template_name: str | None, when: str | None, anyway: bool) -> None:
    """Send MESSAGE (or --template NAME) to CLIENT (a client ID, UID or number), now or --at
    WHEN, with every check the composer makes."""
    from msgterm.run import run_send

    if bool(message) == bool(template_name):
        fail("say what to send: a MESSAGE, or --template NAME", code=2)
    sys.exit(run_send(obj, client_ref, message, template_name=template_name, when=when, anyway=anyway))


@main.command()
@click.option("--cancel", "cancel_id", type=int, metavar="ID", help="Cancel the scheduled message ID.")
@pass_context
def scheduled(obj: Context, cancel_id: int | None) -> None:
    """List the messages waiting for their time (soonest first), or --cancel ID one of them."""
    from msgterm.domain.when import local_zone, to_local

    store = obj.store
    if cancel_id is not None:
        message = store.cancel_scheduled(obj.staff(), cancel_id)
        echo(f"canceled scheduled message #{message.id}: it will not be sent")
        return
    waiting = store.scheduled_sends()
    if not waiting:
        echo("nothing scheduled")
        return
    zone = local_zone()
    for item in waiting:
        at = to_local(item.send_at, zone)
        echo(
            f"#{item.message_id}  {at:%a %d %b %H:%M}  {clean_line(item.title)}  by {item.staff_username or '?'}: {clean_line(item.body)[:60]}"
        )


@main.command()
@click.option("--month", metavar="YYYY-MM", help="The month (local time); this month when left out.")
@pass_context
def usage(obj: Context, month: str | None) -> None:
    """Segments and media sent and received in a month, for the SMS credit bill."""
    from datetime import datetime

    from msgterm.domain.when import local_zone, to_utc

    zone = local_zone()
    if month:
        try:
            first = datetime.strptime(month.strip(), "%Y-%m")
        except ValueError:
            fail(f"--month {month!r} is not a month; write it as YYYY-MM, e.g. 2026-11", code=2)
    else:
        first = datetime.now(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    after = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    totals = obj.store.usage(to_utc(first.replace(tzinfo=zone)), to_utc(after.replace(tzinfo=zone)))
    echo(f"usage {first:%Y-%m} (local time)")
    echo(f"  sent:     {totals.sent_messages:>9,} messages {totals.sent_segments:>9,} segments {totals.sent_media:>7,} media")
    echo(
        f"  received: {totals.received_messages:>9,} messages {totals.received_segments:>9,} segments "
        f"{totals.received_media:>7,} media"
    )


@main.group()
def media() -> None:
    """The files of MMS messages."""


@media.command("fetch")
@click.argument("sid")
@click.option(
    "--to", "directory", type=click.Path(file_okay=False, path_type=str), help="Write the files here (else: the cache)."
)
@pass_context
def media_fetch(obj: Context, sid: str, directory: str | None) -> None:
    """Download the attachments of message SID and print their paths."""
    from msgterm.run import fetch_media

    sys.exit(fetch_media(obj, sid.strip(), directory))


@main.group()
def templates() -> None:
    """Saved replies with merge fields, shared by every terminal."""


@templates.command("add")
@click.argument("name")
@click.argument("text")
@pass_context
def templates_add(obj: Context, name: str, text: str) -> None:
    """Save TEXT as template NAME (replacing one of that name). Fields: {first_name},
    {last_name}, {full_name}, {home_location}, {staff_first_name}."""
    template = obj.store.save_template(obj.staff(), name, text)
    echo(f"template {clean_line(template.name)} saved")


@templates.command("list")
@pass_context
def templates_list(obj: Context) -> None:
    """Every template, by name."""
    saved = obj.store.templates()
    if not saved:
        echo("no templates yet: add one with 'msgterm templates add NAME TEXT'")
    for template in saved:
        echo(f"{clean_line(template.name)}: {clean_line(template.body)}")


@templates.command("remove")
@click.argument("name")
@pass_context
def templates_remove(obj: Context, name: str) -> None:
    """Remove template NAME."""
    obj.store.remove_template(obj.staff(), name)
    echo(f"template {clean_line(name)} removed")


def _conversation_of(obj: Context, client_ref: str):
    """The client's conversation, started when there is none yet (as the app's ``n`` does)."""
    client = obj.store.client_by_ref(client_ref, obj.settings.default_region)
    return client, obj.store.conversation_for_client(client.id) or obj.store.start_conversation(obj.staff(), client.id)


@main.command()
@click.argument("client_ref", metavar="CLIENT")
@click.argument("username", required=False)
@click.option("--nobody", is_flag=True, help="Unassign: the conversation is everyone's.")
@pass_context
def assign(obj: Context, client_ref: str, username: str | None, nobody: bool) -> None:
    """Assign CLIENT's conversation to the staff member USERNAME (or --nobody)."""
    if bool(username) == nobody:
        fail("say who: a USERNAME, or --nobody to unassign", code=2)
    staff = obj.staff()
    assignee = obj.store.staff_member(username) if username else None
    client, conversation = _conversation_of(obj, client_ref)
    changed = obj.store.assign(staff, [conversation.id], assignee)
    whom = clean_line(client.name)
    done = f"assigned {whom} to {clean_line(assignee.full_name or assignee.username)}" if assignee else f"unassigned {whom}"
    echo(done if changed else f"{done} already; nothing changed")


@main.command()
@click.argument("number")
@click.argument("client_ref", metavar="CLIENT")
@pass_context
def link(obj: Context, number: str, client_ref: str) -> None:
    """Link an unknown sender's NUMBER to CLIENT: the conversation and its history become
    theirs, and the number one of theirs."""
    from msgterm.domain.phones import format_number, parse_number

    store, region = obj.store, obj.settings.default_region
    phone = parse_number(number, region)
    conversation = store.conversation_for_phone(phone)
    if conversation is None:
        fail(f"no conversation with {format_number(phone)}: only a number that has texted in can be linked")
    client = store.client_by_ref(client_ref, region)
    store.link_client(obj.staff(), conversation.id, client.id)
    echo(f"linked {format_number(phone)} to {clean_line(client.name)}")


@main.command()
@click.argument("client_ref", metavar="CLIENT")
@click.argument("text")
@pass_context
def note(obj: Context, client_ref: str, text: str) -> None:
    """Write an internal note on CLIENT's conversation: the team sees it, the client never does."""
    client, conversation = _conversation_of(obj, client_ref)
    obj.store.add_note(obj.staff(), conversation.id, text)
    echo(f"note added to {clean_line(client.name)}")
