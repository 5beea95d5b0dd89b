"""Search (PRODUCT.md §4): message bodies by full-text index, clients by any fragment.

A search gives hits: conversations whose client (name, number, email, UID, client ID)
or unknown sender's number contains every word, then messages whose body holds every
word, newest first. Both are narrowed by the current folder and filters and by the
filters typed in the query. Message hits are ordered by row id, which follows time
(the poller stores the log oldest first), so the newest hits come straight off the
index without sorting every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import ColumnElement, FromClause, TextClause, and_, column, func, literal_column, or_, select, table, text, union

from msgterm.domain.folders import FolderView
from msgterm.domain.search_query import SearchQuery
from msgterm.store.base import containing
from msgterm.store.conversations import (
    CONVERSATION_COLUMNS,
    ConversationStore,
    conv_t,
    conversation_record,
    msg_t,
    preview_of,
    with_people,
)
from msgterm.store.directory import client_t
from msgterm.store.records import ConversationRecord, Filters

#: At most this many client matches head the results; a longer list asks for more letters.
PARTY_LIMIT = 100
#: Trigram indexes cannot look for fewer characters than this.
MIN_FRAGMENT = 3
#: Up to this many conversations matching a fragment, PostgreSQL reads them by id (_few_parties).
PARTY_CANDIDATES = 2_000

message_fts = table("message_fts", column("rowid"))
client_fts = table("client_fts", column("rowid"))


def query_filters(query: SearchQuery) -> Filters:
    return Filters(
        since=query.since,
        until=query.until,
        client_types=query.client_types,
        groups=query.groups,
        locations=query.locations,
        muted_only=query.muted_only,
        assignees=query.assignees,
        unassigned=query.unassigned,
        outbox=query.outbox,
    )


#: How many of the newest messages a PostgreSQL search walks before it reads the index.
RECENT_WALK = 5_000


class SearchStore(ConversationStore):
    """Full-text search over the store, a page at a time."""

    def _narrowed(self, statement, query: SearchQuery, view: FolderView, filters: Filters, time_column=None):
        view = query.view or view
        statement = self._filtered(statement, view, filters, time_column=time_column)
        return self._filtered(statement, FolderView.ALL, query_filters(query), time_column=time_column)

    def search_parties(
        self, query: SearchQuery, view: FolderView = FolderView.ALL, filters: Filters = Filters(), *, limit: int = PARTY_LIMIT
    ) -> list[ConversationRecord]:
        """Conversations whose client or number contains every word, newest activity first."""
        fragments = [f for f in query.fragments if len(f) >= MIN_FRAGMENT]
        if not fragments or len(fragments) < len(query.fragments):
            return []
        people = with_people(conv_t)
        if self.dialect == "sqlite":
            match = " ".join('"' + f.replace('"', '""') + '"' for f in fragments)
            client_ids = select(client_fts.c.rowid).where(text("client_fts MATCH :party").bindparams(party=match))
        else:
            client_ids = select(client_t.c.id).where(
                *[client_t.c.search_text.like(containing(f), escape="\\") for f in fragments]
            )
        matches: list[ColumnElement[bool]] = [conv_t.c.client_id.in_(client_ids)]
        if all(f.isdigit() for f in fragments):
            matches.append(and_(conv_t.c.client_id.is_(None), *[conv_t.c.phone.like(f"%{f}%") for f in fragments]))
        if self.dialect == "postgresql":
            matches = self._few_parties(matches)
        statement = select(*CONVERSATION_COLUMNS).select_from(people).where(or_(*matches))
        return self._newest_first(self._narrowed(statement, query, view, filters), limit=limit)

    def _few_parties(self, matches: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
        """On PostgreSQL, the matching conversations' ids when they are few, read from the
        trigram indexes: asked as conditions, PostgreSQL walks every conversation newest
        first testing each (28 ms at 100,000 for a fragment that 132 clients hold). A
        fragment that many hold keeps the walk, which finds them at once."""
        with self.read() as conn:
            ids = list(conn.scalars(union(*(select(conv_t.c.id).where(m) for m in matches)).limit(PARTY_CANDIDATES + 1)))
        return matches if len(ids) > PARTY_CANDIDATES else [self.among(conv_t.c.id, ids)]

    def search_conversations(
        self,
        query: SearchQuery,
        view: FolderView = FolderView.ALL,
        filters: Filters = Filters(),
        *,
        after: tuple | None = None,
        limit: int = 50,
    ) -> list[ConversationRecord]:
        """Conversations narrowed by the query's filters alone (a query without words)."""
        return self._newest_first(self._narrowed(self._conversation_query(), query, view, filters), after=after, limit=limit)

    def search_messages(
        self,
        query: SearchQuery,
        view: FolderView = FolderView.ALL,
        filters: Filters = Filters(),
        *,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[ConversationRecord]:
        """Messages whose body holds every word (the last as a prefix), newest first.

        Each hit is its conversation with the message as preview and ``hit_message_id`` set.
        """
        tokens = query.tokens
        if not tokens:
            return []
        if self.dialect == "sqlite":
            terms = ['"' + t + '"' for t in tokens]
            if len(tokens[-1]) >= 2:
                terms[-1] += "*"
            source: FromClause = message_fts.join(msg_t, msg_t.c.id == message_fts.c.rowid)
            condition: ColumnElement[bool] | TextClause = text("message_fts MATCH :words").bindparams(words=" ".join(terms))
            id_column = message_fts.c.rowid
        else:
            terms = [t for t in tokens]
            if len(tokens[-1]) >= 2:
                terms[-1] += ":*"
            source = msg_t
            # The stored words of migration 0013, which its GIN index holds.
            condition = literal_column("message.body_tsv").op("@@")(
                func.to_tsquery(literal_column("'simple'"), func.msgterm_unaccent(" & ".join(terms)))
            )
            id_column = msg_t.c.id
        people = with_people(source.join(conv_t, conv_t.c.id == msg_t.c.conversation_id))
        statement = (
            select(
                *CONVERSATION_COLUMNS,
                msg_t.c.id.label("hit_id"),
                msg_t.c.body.label("hit_body"),
                msg_t.c.created_at.label("hit_at"),
                msg_t.c.direction.label("hit_direction"),
            )
            .select_from(people)
            .where(condition)
        )
        statement = self._narrowed(statement, query, view, filters, time_column=msg_t.c.created_at)
        if self.dialect == "postgresql":
            rows = self._postgres_hits(statement, condition, before_id, limit)
        else:
            if before_id is not None:
                statement = statement.where(id_column < before_id)
            with self.read() as conn:
                rows = list(conn.execute(statement.order_by(id_column.desc()).limit(limit)))
        return [
            replace(
                conversation_record(row),
                last_preview=preview_of(row.hit_body),
                last_activity_at=row.hit_at,
                last_direction=row.hit_direction,
                hit_message_id=row.hit_id,
            )
            for row in rows
        ]

    def _postgres_hits(self, statement, condition, before_id: int | None, limit: int) -> list:
        """The newest ``limit`` hits below ``before_id``, in two steps whose costs do not
        depend on how common the words are.

        PostgreSQL cannot tell a rare prefix ("aquafit:*") from a common one: it guesses
        thousands of hits for either, and so walks the messages newest first, which for a
        rare word means all of them. Here the walk covers the newest ``RECENT_WALK``
        messages only, where a common word has its hits; what it leaves short is read
        from the GIN index (a CTE PostgreSQL must compute first: the few ids of a rare
        word) and then ordered. docs/performance.md has the plans and times."""
        with self.read() as conn:
            top = before_id if before_id is not None else (conn.execute(select(func.max(msg_t.c.id))).scalar() or 0) + 1
            floor = top - RECENT_WALK
            newest = statement.where(msg_t.c.id < top, msg_t.c.id >= floor).order_by(msg_t.c.id.desc()).limit(limit)
            rows = list(conn.execute(newest))
            if len(rows) < limit and floor > 0:
                hits = select(msg_t.c.id).where(condition, msg_t.c.id < floor).cte("hits").prefix_with("MATERIALIZED")
                older = statement.where(msg_t.c.id.in_(select(hits.c.id))).order_by(msg_t.c.id.desc())
                rows += conn.execute(older.limit(limit - len(rows))).all()
        return rows


@dataclass
class SearchResults:
    """One search's hits as a list read a page at a time (client matches, then messages).

    ``rows(offset, limit)`` serves the conversation list; message pages continue from the
    last hit's id (keyset), so paging never re-reads what came before. A query of filters
    only (``is:unread group:vip``) lists the conversations they leave.
    """

    store: SearchStore
    query: SearchQuery
    view: FolderView = FolderView.ALL
    filters: Filters = Filters()
    page_size: int = 50
    _hits: list[ConversationRecord] = field(default_factory=list)
    _exhausted: bool = False

    def __post_init__(self) -> None:
        if self.query.has_text:
            self._hits = self.store.search_parties(self.query, self.view, self.filters)
        self._more()

    def _more(self) -> None:
        if self.query.has_text:
            last_id = next((hit.hit_message_id for hit in reversed(self._hits) if hit.hit_message_id), None)
            page = self.store.search_messages(self.query, self.view, self.filters, before_id=last_id, limit=self.page_size)
        else:
            after = self._hits[-1].sort_key if self._hits else None
            page = self.store.search_conversations(self.query, self.view, self.filters, after=after, limit=self.page_size)
        self._hits.extend(page)
        self._exhausted = len(page) < self.page_size

    @property
    def known(self) -> int:
        """How many hits are loaded so far."""
        return len(self._hits)

    @property
    def complete(self) -> bool:
        return self._exhausted

    def conversation_ids(self) -> list[int]:
        """Every conversation with a hit, in the order shown ("select all" in a search)."""
        while not self._exhausted:
            self._more()
        return list(dict.fromkeys(hit.id for hit in self._hits))

    def rows(self, offset: int, limit: int) -> list[ConversationRecord]:
        while not self._exhausted and offset + limit > len(self._hits):
            self._more()
        return self._hits[offset : offset + limit]
