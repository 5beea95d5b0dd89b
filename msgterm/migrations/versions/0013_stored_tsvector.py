"""PostgreSQL: message bodies' search words as a stored column, indexed; and a trigram
index of conversations' numbers, for unknown senders found by a fragment ("0142").

The expression index of 0003 has no statistics of its own words, and for a prefix query
("aquafit:*") the planner guesses thousands of hits whatever the word: at a million
messages it then walks the table newest first, computing every body's words (seconds for a
rare word). A stored ``tsvector`` costs that computation once, at insert, so a walk reads
words already made; the search (store/search.py) also bounds that walk and reads older hits
from this index. Adding the column rewrites the table once (about 20 s a million messages).
SQLite is unchanged (FTS5).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    "ALTER TABLE message ADD COLUMN body_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', msgterm_unaccent(body))) STORED",
    "DROP INDEX ix_message_body_tsv",
    "CREATE INDEX ix_message_body_tsv ON message USING gin (body_tsv)",
    "CREATE INDEX ix_conversation_phone_trgm ON conversation USING gin (phone gin_trgm_ops)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX ix_conversation_phone_trgm",
    "DROP INDEX ix_message_body_tsv",
    "ALTER TABLE message DROP COLUMN body_tsv",
    "CREATE INDEX ix_message_body_tsv ON message USING gin (to_tsvector('simple', msgterm_unaccent(body)))",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
