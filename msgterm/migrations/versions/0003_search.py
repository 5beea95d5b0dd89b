"""Search: a search text per client, and full-text indexes over clients and message bodies.

SQLite: FTS5 tables kept in step with ``client`` and ``message`` by triggers (a trigram
index for clients, so that any fragment of a name, number or ID is found; a word index
for message bodies). New messages are indexed by the store right after it inserts a
batch (``Store.index_messages``), in one statement: a per-row trigger made ingest three
times slower. PostgreSQL: a trigram GIN index on the client search text and a
``tsvector`` GIN index on message bodies.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The same text as msgterm.store.directory.client_search_text, written in SQL for the backfill.
SEARCH_TEXT_SQL = (
    "lower(first_name || ' ' || last_name || ' ' || coalesce(email, '') || ' ' || coalesce(uid, '') || ' '"
    " || client_id || ' ' || replace(coalesce(mobile_phone, ''), '+', ''))"
)

SQLITE_UP = [
    "CREATE VIRTUAL TABLE client_fts USING fts5(search_text, content='client', content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER client_fts_insert AFTER INSERT ON client BEGIN
         INSERT INTO client_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    """CREATE TRIGGER client_fts_delete AFTER DELETE ON client BEGIN
         INSERT INTO client_fts(client_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
       END""",
    """CREATE TRIGGER client_fts_update AFTER UPDATE OF search_text ON client BEGIN
         INSERT INTO client_fts(client_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
         INSERT INTO client_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    "CREATE VIRTUAL TABLE message_fts USING fts5(body, content='message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
         INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);
       END""",
    """CREATE TRIGGER message_fts_update AFTER UPDATE OF body ON message BEGIN
         INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);
         INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body);
       END""",
    "INSERT INTO client_fts(client_fts) VALUES ('rebuild')",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER client_fts_insert",
    "DROP TRIGGER client_fts_delete",
    "DROP TRIGGER client_fts_update",
    "DROP TRIGGER message_fts_delete",
    "DROP TRIGGER message_fts_update",
    "DROP TABLE client_fts",
    "DROP TABLE message_fts",
]
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # unaccent() is only STABLE (its dictionary could change); an index needs IMMUTABLE.
    """CREATE FUNCTION msgterm_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
       AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$""",
    "CREATE INDEX ix_client_search_trgm ON client USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX ix_message_body_tsv ON message USING gin (to_tsvector('simple', msgterm_unaccent(body)))",
]
POSTGRESQL_DOWN = ["DROP INDEX ix_message_body_tsv", "DROP INDEX ix_client_search_trgm", "DROP FUNCTION msgterm_unaccent(text)"]


def upgrade() -> None:
    op.add_column("client", sa.Column("search_text", sa.Text, nullable=False, server_default=""))
    op.execute(f"UPDATE client SET search_text = {SEARCH_TEXT_SQL}")
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_DOWN:
        op.execute(statement)
    with op.batch_alter_table("client") as batch:
        batch.drop_column("search_text")
