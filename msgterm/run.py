"""What the commands that run for a while do: the app, the demo, the poller, a send."""

from __future__ import annotations

from dataclasses import replace

import click

from msgterm.cli import Context


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
        build_demo(store, seed=seed)
    if store.ensure_first_manager(settings.staff) is False:
        try:
            store.staff_member(settings.staff)
        except Exception:  # noqa: BLE001 - the demo lets whoever runs it in, as a Manager
            store.add_staff(settings.staff, settings.staff, "Manager")
    return demo_summary(store)


def run_app(obj: Context, *, demo: bool) -> None:
    """Start the Textual app (the screens arrive with the app issue; until then, a summary)."""
    store = obj.store
    staff = obj.staff()
    counts = store.folder_counts()
    click.echo(f"msgterm on {obj.settings.database_url} as {staff.username} ({staff.role})")
    click.echo("  " + ", ".join(f"{view.title}: {n}" for view, n in counts.items()))
