"""Alembic environment: runs on the connection that msgterm hands it."""

from alembic import context
from sqlmodel import SQLModel

from msgterm.store import models  # noqa: F401  (registers the tables on the metadata)
from msgterm.store.migrate import include_object

target_metadata = SQLModel.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
