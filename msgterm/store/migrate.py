"""Schema migrations (Alembic) run by msgterm itself when it opens a store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from msgterm.domain.errors import MsgtermError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: The newest revision; a store already there opens without loading Alembic at all.
HEAD = "0013"
#: Search objects that migration 0003 makes by hand (FTS5 tables, expression indexes).
SEARCH_OBJECTS = (
    "client_fts",
    "message_fts",
    "ix_client_search_trgm",
    "ix_message_body_tsv",
    "body_tsv",
    "ix_conversation_phone_trgm",
)


class StoreUnusable(MsgtermError):
    """A store this msgterm cannot open safely; the words say what to do."""


def include_object(_object, name, _type, _reflected, _compare_to) -> bool:
    """For comparing the models with a store: leave out what the models cannot describe."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def _config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def is_current(engine: Engine) -> bool:
    """Whether the store is at HEAD already (one cheap query, no Alembic import).

    Raises StoreUnusable for a store this msgterm must not touch: made by a newer msgterm,
    or holding tables without a revision (not made by msgterm's migrations)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as connection:
            revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError:
        tables = set(inspect(engine).get_table_names())
        if tables:
            raise StoreUnusable(
                f"the database at {engine.url.render_as_string(hide_password=True)} holds tables "
                f"({', '.join(sorted(tables)[:4])}{', …' if len(tables) > 4 else ''}) but no msgterm revision "
                "(no alembic_version table), so msgterm will not change it. Point --db at a msgterm store, "
                "or at a new file or empty database to start one."
            ) from None
        return False
    if revision is not None and revision > HEAD:
        raise StoreUnusable(
            f"the store was made by a newer msgterm (revision {revision}; this msgterm knows up to {HEAD}): "
            "upgrade msgterm to open it. Nothing was changed."
        )
    return revision == HEAD


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store at ``engine`` up to ``revision``, keeping every row."""
    from alembic import command

    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step, revision: str) -> None:
    """Run an Alembic command in one write transaction.

    SQLite changes a column by copying its table, dropping the old and renaming the copy,
    which foreign keys would refuse (rows of other tables refer to the old one); they are
    off meanwhile (SQLite ignores the switch inside a transaction), and checked whole before
    the commit."""
    from msgterm.store.engine import writer

    with writer(engine).connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        assert raw is not None, "a connection just opened has its driver connection"
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                step(_config(connection), revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise StoreUnusable("the migration would leave rows pointing at missing ones; nothing was changed")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "the migrations directory has no head revision"
    return head
