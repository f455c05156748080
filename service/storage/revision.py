"""The store's public-data revision: one token that changes with every commit of public data.

Every :class:`~sqlalchemy.orm.Session` that commits a change to a table whose rows appear in a
public output (:data:`PUBLIC_TABLES`: communities, compounds, streets, buildings, plans, grids,
the building → grid assignment, staff names and roles) writes a new random token and the time to
``store_meta`` (row ``public_revision``) in the same transaction: a publish, an import, an
update, an analyst's building edits. Readers (the web service's response cache,
:mod:`service.api.cache`) read it with :func:`read_revision` *before* they read the data, so
whatever they render under a token is at least as new as that token; a process that renders a
layer once per token serves no stale layer once a commit is visible, whichever process made it.

Changes are noticed from the session: objects flushed by the unit of work and ``INSERT`` /
``UPDATE`` / ``DELETE`` statements run with ``session.execute`` (all of
:mod:`service.storage` writes that way). Writes made on a bare connection (a benchmark's bulk
load) are not: such a store keeps its last token until the next session commit.

A store that was never written through a session since this existed has no row:
:func:`read_revision` answers :data:`INITIAL` (token ``"0"``, no time).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

__all__ = ["PUBLIC_TABLES", "Revision", "INITIAL", "read_revision", "bump_revision"]

PUBLIC_TABLES = frozenset({"community", "compound", "street", "building", "plan", "grid",
                           "grid_building", "staff", "staff_grid"})  # fmt: skip
"""Tables whose rows (or counts) appear in public outputs: a change to any of them is a new
revision. Households and persons only appear as counts stored with buildings and grids."""

_NAME = "public_revision"
_CHANGED = "gridmap_public_changed"  # key in Session.info
_READ = text("SELECT value FROM store_meta WHERE name = :n")
_UPSERT = text(
    "INSERT INTO store_meta (name, value) VALUES (:n, :v) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


@dataclass(frozen=True)
class Revision:
    """A public-data revision: a random ``token`` and the time of its commit (UTC)."""

    token: str
    changed_at: dt.datetime | None


INITIAL = Revision("0", None)
"""The revision of a store in which no public change was committed through a session."""


def read_revision(session: Session) -> Revision:
    """The store's current public-data revision (one primary-key read)."""
    value = session.execute(_READ, {"n": _NAME}).scalar()
    if not value:
        return INITIAL
    token, _, stamp = value.partition(" ")
    return Revision(token, dt.datetime.fromisoformat(stamp) if stamp else None)


def bump_revision(session: Session) -> Revision:
    """Write a new revision in the session's transaction and return it."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    revision = Revision(secrets.token_hex(8), now)
    session.execute(_UPSERT, {"n": _NAME, "v": f"{revision.token} {now.isoformat()}"})
    return revision


def _mark(session: Session, tables: Any) -> None:
    if not session.info.get(_CHANGED) and any(t in PUBLIC_TABLES for t in tables):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    objects = [*session.new, *session.dirty, *session.deleted]
    _mark(session, (getattr(o, "__tablename__", None) for o in objects))


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _mark(state.session, [table.name] if isinstance(table, Table) else [])


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    session.flush()  # flushes pending objects now, so after_flush can mark them
    if session.info.pop(_CHANGED, False):
        bump_revision(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
