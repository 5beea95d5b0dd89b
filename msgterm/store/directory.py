"""Clients, client types, groups, locations, staff and roles."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from msgterm.domain.clients import ClientInput
from msgterm.domain.errors import NotFound, ValidationError
from msgterm.domain.permissions import BUILT_IN_ROLES, PERMISSION_DESCRIPTIONS, StaffMember
from msgterm.domain.phones import digits, parse_number
from msgterm.store import schema
from msgterm.store.base import StoreBase, containing, inserted_id, scalar_int
from msgterm.store.records import ClientRecord, FilterValues, field_names

#: Longest write of one import transaction, and (SQLite) the gap left between two for
#: other writers: SQLite's busy handler sleeps up to 100 ms between tries for the lock.
IMPORT_TURN = 0.4
IMPORT_PAUSE = 0.12

client_t = schema.client
type_t = schema.client_type
group_t = schema.client_group
member_t = schema.client_group_member
location_t = schema.location
number_t = schema.client_number
staff_t = schema.staff
role_t = schema.role
role_perm_t = schema.role_permission
perm_t = schema.permission

CLIENT_COLUMNS = (
    client_t.c.id,
    client_t.c.client_id,
    client_t.c.uid,
    client_t.c.first_name,
    client_t.c.last_name,
    client_t.c.mobile_phone,
    client_t.c.email,
    type_t.c.name.label("client_type"),
    location_t.c.name.label("home_location"),
    client_t.c.opted_out,
)
CLIENT_RECORD_FIELDS = tuple(name for name in field_names(ClientRecord) if name != "groups")
CLIENT_FROM = client_t.outerjoin(type_t, type_t.c.id == client_t.c.client_type_id).outerjoin(
    location_t, location_t.c.id == client_t.c.home_location_id
)


def client_search_text(values: dict) -> str:
    """What search matches a client on (kept equal to the SQL of migration 0003)."""
    parts = (
        values.get("first_name") or "",
        values.get("last_name") or "",
        values.get("email") or "",
        values.get("uid") or "",
        values.get("client_id") or "",
        (values.get("mobile_phone") or "").replace("+", ""),
    )
    return " ".join(parts).lower()


class DirectoryStore(StoreBase):
    """The client directory and the staff list."""

    # ---- roles and staff -------------------------------------------------------------

    def ensure_roles(self) -> None:
        """Create the built-in permissions and roles where they are missing.

        Looked at first without the write lock: every start opens the store, and a start
        must not wait for another program's long write when nothing is missing."""
        with self.read() as conn:
            permissions = set(conn.scalars(select(perm_t.c.name)))
            roles = set(conn.scalars(select(role_t.c.name)))
        if {p.value for p in PERMISSION_DESCRIPTIONS} <= permissions and set(BUILT_IN_ROLES) <= roles:
            return
        with self.write() as conn:
            for name, description in PERMISSION_DESCRIPTIONS.items():
                if conn.scalar(select(perm_t.c.name).where(perm_t.c.name == name.value)) is None:
                    conn.execute(insert(perm_t).values(name=name.value, description=description))
            for role, perms in BUILT_IN_ROLES.items():
                role_id = conn.scalar(select(role_t.c.id).where(role_t.c.name == role))
                if role_id is None:
                    role_id = inserted_id(conn.execute(insert(role_t).values(name=role)))
                    for perm in perms:
                        conn.execute(insert(role_perm_t).values(role_id=role_id, permission=perm.value))

    def roles(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each role with the descriptions of the permissions it grants."""
        with self.read() as conn:
            rows = conn.execute(
                select(role_t.c.name, perm_t.c.description)
                .select_from(role_t.outerjoin(role_perm_t).outerjoin(perm_t))
                .order_by(role_t.c.id)
            ).all()
        result: dict[str, list[str]] = {}
        for role, description in rows:
            result.setdefault(role, [])
            if description:
                result[role].append(description)
        return [(role, tuple(perms)) for role, perms in result.items()]

    def _staff_query(self):
        return select(staff_t.c.id, staff_t.c.username, staff_t.c.full_name, role_t.c.name.label("role")).join(
            role_t, role_t.c.id == staff_t.c.role_id
        )

    def _staff_member(self, conn: Connection, row) -> StaffMember:
        perms = conn.scalars(select(role_perm_t.c.permission).join(role_t).where(role_t.c.name == row.role)).all()
        return StaffMember(row.id, row.username, row.full_name, row.role, frozenset(perms))

    def add_staff(self, username: str, full_name: str, role: str) -> tuple[StaffMember, bool]:
        """Add a staff member, or update the name and role of one who exists. Returns (staff, created)."""
        username = username.strip()
        if not username:
            raise ValidationError("a staff username cannot be empty")
        with self.write() as conn:
            role_id = conn.scalar(select(role_t.c.id).where(func.lower(role_t.c.name) == role.strip().lower()))
            if role_id is None:
                known = ", ".join(conn.scalars(select(role_t.c.name).order_by(role_t.c.id)))
                raise ValidationError(f'there is no role "{role}"; the roles are: {known}')
            existing = conn.scalar(select(staff_t.c.id).where(staff_t.c.username == username))
            if existing is None:
                conn.execute(insert(staff_t).values(username=username, full_name=full_name or username, role_id=role_id))
            else:
                values = {"role_id": role_id}
                if full_name:
                    values["full_name"] = full_name
                conn.execute(update(staff_t).where(staff_t.c.id == existing).values(**values))
            row = conn.execute(self._staff_query().where(staff_t.c.username == username)).one()
            return self._staff_member(conn, row), existing is None

    def list_staff(self) -> list[StaffMember]:
        with self.read() as conn:
            rows = conn.execute(self._staff_query().order_by(staff_t.c.username)).all()
            return [self._staff_member(conn, row) for row in rows]

    def staff_member(self, username: str) -> StaffMember:
        with self.read() as conn:
            row = conn.execute(self._staff_query().where(staff_t.c.username == username)).first()
            if row is None:
                raise NotFound(
                    f'there is no staff member "{username}" in this store. Add one with '
                    f'\'msgterm staff add {username} --name "Full Name" --role "Front Desk"\', '
                    "or choose another with --as."
                )
            return self._staff_member(conn, row)

    def ensure_first_manager(self, username: str) -> bool:
        """When the store has no staff yet, make ``username`` its first Manager."""
        with self.read() as conn:
            if conn.scalar(select(func.count()).select_from(staff_t)):
                return False
        self.add_staff(username, username, "Manager")
        return True

    # ---- clients --------------------------------------------------------------------

    def _named_id(self, conn: Connection, table, name: str | None) -> int | None:
        name = (name or "").strip()
        if not name:
            return None
        found = conn.scalar(select(table.c.id).where(table.c.name == name))
        if found is None:
            found = inserted_id(conn.execute(insert(table).values(name=name)))
        return found

    def upsert_clients(
        self, clients: list[tuple[int, ClientInput]], *, on_progress: Callable[[int, int], None] | None = None
    ) -> tuple[int, int, list[tuple[int, str]]]:
        """Insert or update clients matched on client_id, in short transactions.

        Takes (line, client) pairs; returns (created, updated, [(line, why)]) where a row
        whose UID already belongs to another client is refused and the rest are kept.

        Each transaction writes for at most IMPORT_TURN seconds and, on SQLite, lets go of
        the write lock for IMPORT_PAUSE before the next: a send, an archive or a sync cycle
        in another terminal waits a moment, not the whole import. An import stopped midway
        keeps what it wrote; importing the file again finishes it (rows are matched on
        client_id). ``on_progress(done, total)`` follows each transaction.
        """
        counts = {"created": 0, "updated": 0}
        refused: list[tuple[int, str]] = []
        named: dict[tuple[str, str], int | None] = {}  # types, locations and groups seen so far (never deleted)
        done = 0
        while done < len(clients):
            with self.write() as conn:
                turn_ends = time.monotonic() + IMPORT_TURN
                while done < len(clients) and time.monotonic() < turn_ends:
                    line, item = clients[done]
                    done += 1
                    outcome = self._upsert_client(conn, item, named)
                    if outcome in counts:
                        counts[outcome] += 1
                    else:
                        refused.append((line, outcome))
            if on_progress is not None:
                on_progress(done, len(clients))
            if done < len(clients) and self.dialect == "sqlite":
                time.sleep(IMPORT_PAUSE)  # PostgreSQL queues waiting writers; SQLite's poll for the lock
        return counts["created"], counts["updated"], refused

    def _upsert_client(self, conn: Connection, item: ClientInput, named: dict[tuple[str, str], int | None]) -> str:
        """ "created", "updated", or why the row was refused."""

        def named_id(table, name: str | None) -> int | None:
            key = (table.name, (name or "").strip())
            if key not in named:
                named[key] = self._named_id(conn, table, name)
            return named[key]

        if item.uid:
            owner = conn.scalar(select(client_t.c.client_id).where(client_t.c.uid == item.uid))
            if owner is not None and owner != item.client_id:
                return f'uid "{item.uid}" already belongs to client {owner}'
        values = {
            "client_id": item.client_id,
            "uid": item.uid or None,
            "first_name": item.first_name,
            "last_name": item.last_name,
            "mobile_phone": item.mobile_phone or None,
            "email": item.email or None,
            "client_type_id": named_id(type_t, item.client_type),
            "home_location_id": named_id(location_t, item.home_location),
        }
        values["search_text"] = client_search_text(values)
        existing = conn.scalar(select(client_t.c.id).where(client_t.c.client_id == item.client_id))
        if existing is None:
            pk = inserted_id(conn.execute(insert(client_t).values(opted_out=False, **values)))
            outcome = "created"
        else:
            conn.execute(update(client_t).where(client_t.c.id == existing).values(**values))
            conn.execute(delete(member_t).where(member_t.c.client_id == existing))
            pk = existing
            outcome = "updated"
        for group in dict.fromkeys(g.strip() for g in item.groups if g.strip()):
            conn.execute(insert(member_t).values(client_id=pk, group_id=named_id(group_t, group)))
        if outcome == "updated" and conn.scalar(select(number_t.c.phone).where(number_t.c.client_id == pk).limit(1)):
            self._refresh_search_text(conn, pk)  # a re-import keeps the linked numbers findable
        self._link_conversations(conn, pk, item.mobile_phone or None)
        return outcome

    def _link_conversations(self, conn: Connection, client_pk: int, phone: str | None) -> None:
        """Hook for the conversation store: give an unknown sender's thread to its client."""

    def _client_records(self, conn: Connection, rows) -> list[ClientRecord]:
        ids = [row.id for row in rows]
        groups: dict[int, list[str]] = {}
        if ids:
            for client_pk, name in conn.execute(
                select(member_t.c.client_id, group_t.c.name)
                .join(group_t, group_t.c.id == member_t.c.group_id)
                .where(member_t.c.client_id.in_(ids))
                .order_by(group_t.c.name)
            ):
                groups.setdefault(client_pk, []).append(name)
        return [
            ClientRecord(**{name: row._mapping[name] for name in CLIENT_RECORD_FIELDS}, groups=tuple(groups.get(row.id, ())))
            for row in rows
        ]

    def client(self, client_pk: int) -> ClientRecord:
        with self.read() as conn:
            rows = conn.execute(select(*CLIENT_COLUMNS).select_from(CLIENT_FROM).where(client_t.c.id == client_pk)).all()
            if not rows:
                raise NotFound(f"client #{client_pk} does not exist")
            return self._client_records(conn, rows)[0]

    def client_by_ref(self, ref: str, region: str = "US") -> ClientRecord:
        """A client by client ID, UID or mobile number (PRODUCT.md §5, ``msgterm send``)."""
        ref = ref.strip()
        conditions = [client_t.c.client_id == ref, client_t.c.uid == ref]
        try:
            conditions.append(client_t.c.mobile_phone == parse_number(ref, region))
        except ValidationError:
            pass
        with self.read() as conn:
            rows = conn.execute(select(*CLIENT_COLUMNS).select_from(CLIENT_FROM).where(or_(*conditions)).limit(2)).all()
            if not rows:
                raise NotFound(f'no client has the client ID, UID or mobile number "{ref}"')
            if len(rows) > 1:
                raise ValidationError(f'"{ref}" matches more than one client; use the client ID')
            return self._client_records(conn, rows)[0]

    def client_by_phone(self, conn: Connection, phone: str) -> int | None:
        """The client whose directory number, or a number linked to them, this is."""
        found = conn.scalar(select(client_t.c.id).where(client_t.c.mobile_phone == phone).order_by(client_t.c.id).limit(1))
        return found if found is not None else conn.scalar(select(number_t.c.client_id).where(number_t.c.phone == phone))

    def client_numbers(self, client_pk: int) -> tuple[str, ...]:
        """Every number of a client: the directory's first, then those linked to them."""
        with self.read() as conn:
            mobile = conn.scalar(select(client_t.c.mobile_phone).where(client_t.c.id == client_pk))
            linked = conn.scalars(select(number_t.c.phone).where(number_t.c.client_id == client_pk).order_by(number_t.c.phone))
            return tuple(([mobile] if mobile else []) + list(linked))

    def _refresh_search_text(self, conn: Connection, client_pk: int) -> None:
        """Search finds a client by the numbers linked to them too."""
        row = conn.execute(select(client_t).where(client_t.c.id == client_pk)).one()
        linked = conn.scalars(select(number_t.c.phone).where(number_t.c.client_id == client_pk)).all()
        text = " ".join([client_search_text(dict(row._mapping)), *(p.replace("+", "") for p in linked)])
        conn.execute(update(client_t).where(client_t.c.id == client_pk).values(search_text=text))

    def find_clients(self, text: str, limit: int = 10) -> list[ClientRecord]:
        """Clients whose name, number, email, UID or client ID match what was typed so far."""
        text = text.strip()
        if not text:
            return []
        like = containing(text.lower())
        conditions = [
            func.lower(client_t.c.first_name + " " + client_t.c.last_name).like(like, escape="\\"),
            func.lower(client_t.c.last_name).like(like, escape="\\"),
            func.lower(client_t.c.email).like(like, escape="\\"),
            func.lower(client_t.c.uid).like(like, escape="\\"),
            func.lower(client_t.c.client_id).like(like, escape="\\"),
        ]
        number = digits(text)
        if len(number) >= 3 and len(number) >= len(
            text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace("+", "")
        ):
            conditions.append(client_t.c.mobile_phone.like(f"%{number}%"))
        # Exact identifiers first, then names, so that typing an ID picks one client.
        exact = or_(client_t.c.client_id == text, client_t.c.uid == text, func.lower(client_t.c.email) == text.lower())
        query = (
            select(*CLIENT_COLUMNS)
            .select_from(CLIENT_FROM)
            .where(or_(*conditions))
            .order_by(exact.desc(), client_t.c.last_name, client_t.c.first_name, client_t.c.id)
            .limit(limit)
        )
        with self.read() as conn:
            return self._client_records(conn, conn.execute(query).all())

    def filter_values(self) -> FilterValues:
        with self.read() as conn:
            return FilterValues(
                client_types=tuple(conn.scalars(select(type_t.c.name).order_by(type_t.c.name))),
                groups=tuple(conn.scalars(select(group_t.c.name).order_by(group_t.c.name))),
                locations=tuple(conn.scalars(select(location_t.c.name).order_by(location_t.c.name))),
            )

    def set_opted_out(self, conn: Connection, client_pk: int, opted_out: bool) -> None:
        conn.execute(update(client_t).where(client_t.c.id == client_pk).values(opted_out=opted_out))

    def textable_numbers(self, limit: int = 500) -> list[str]:
        """Mobile numbers of clients who have not opted out (the demo's texting clients)."""
        with self.read() as conn:
            return list(
                conn.scalars(
                    select(client_t.c.mobile_phone)
                    .where(client_t.c.mobile_phone.is_not(None), client_t.c.opted_out.is_(False))
                    .order_by(client_t.c.id)
                    .limit(limit)
                )
            )

    def client_count(self) -> int:
        with self.read() as conn:
            return scalar_int(conn, select(func.count()).select_from(client_t))
