"""Users, roles, scope and audit: who may see which residents, and the record of full views.

A :class:`Principal` is the signed-in user as the storage layer sees it. Resident queries take
one and filter by :func:`scope_clause` *in SQL*, so no route can forget the scope. Passwords are
hashed with Argon2 (``pwdlib``); no function returns or logs a hash or a personal value.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridmap.errors import DuplicateIdError, GridmapError, InputError
from service.storage.auth_models import ROLES, AuditRecord, User, UserGrid
from service.storage.repository import NotFoundError

__all__ = [
    "ROLES",
    "Principal",
    "ANONYMOUS",
    "PermissionDenied",
    "UserInfo",
    "hash_password",
    "verify_password",
    "create_user",
    "list_users",
    "remove_user",
    "authenticate",
    "principal_for",
    "scope_clause",
    "write_audit",
    "list_audit",
]

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_GRID_CODE = re.compile(r"^\d{15}$")
_COMMUNITY_CODE = re.compile(r"^\d{12}$")
_DISTRICT_CODE = re.compile(r"^\d{6}$")


class PermissionDenied(GridmapError, PermissionError):
    """The principal may not see this record or use this permission."""


@dataclass(frozen=True)
class Principal:
    """A signed-in user: role, scope (grids / community / district) and permissions."""

    username: str
    role: str = "public"
    grid_codes: tuple[str, ...] = ()
    community_code: str | None = None
    district_code: str | None = None
    can_reveal: bool = False

    @property
    def is_staff(self) -> bool:
        """Whether the principal may see residents at all (any role but ``public``)."""
        return self.role != "public"


ANONYMOUS = Principal(username="anonymous")
"""The principal of a request without a token: public aggregates only."""


@dataclass(frozen=True)
class UserInfo:
    """A user as listed by :func:`list_users` (no password hash)."""

    username: str
    role: str
    grid_codes: tuple[str, ...] = ()
    community_code: str | None = None
    district_code: str | None = None
    can_reveal: bool = False
    created_at: dt.datetime | None = field(default=None, compare=False)


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()  # Argon2id


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    return bool(_hasher().verify(password, password_hash))


def _check_user(username: str, password: str, role: str, grid_codes: tuple[str, ...],
                community_code: str | None, district_code: str | None) -> None:  # fmt: skip
    problems = []
    if not _USERNAME.match(username):
        problems.append("the name must be 2-64 letters, digits or _ . @ -")
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role not in ROLES:
        problems.append(f"role {role!r} is not one of {', '.join(ROLES)}")
    bad = [c for c in grid_codes if not _GRID_CODE.match(c)]
    if bad:
        problems.append(f"grid code(s) {', '.join(bad)} are not 15 digits")
    if role == "grid_worker" and not grid_codes:
        problems.append("a grid_worker needs at least one grid code (--grid)")
    if role == "community_admin" and not _COMMUNITY_CODE.match(community_code or ""):
        problems.append("a community_admin needs a 12-digit community code (--community)")
    if role == "district_admin" and district_code and not _DISTRICT_CODE.match(district_code):
        problems.append("the district code must be 6 digits (--district)")
    if problems:
        raise InputError(f"User {username!r} not created: " + "; ".join(problems) + ".")


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: str,
    grid_codes: Iterable[str] = (),
    community_code: str | None = None,
    district_code: str | None = None,
    can_reveal: bool = False,
) -> UserInfo:
    """Create a user (flushed, the caller commits).

    A ``grid_worker`` needs grid codes, a ``community_admin`` a community code; a
    ``district_admin`` without a district code sees every community.

    Raises
    ------
    InputError
        Bad name, short password, unknown role or a scope that does not fit the role.
    DuplicateIdError
        The user name is taken.
    """
    codes = tuple(sorted({c.strip() for c in grid_codes if c.strip()}))
    _check_user(username, password, role, codes, community_code, district_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DuplicateIdError(f"User {username!r} already exists; remove it first or pick "
                               "another name.")  # fmt: skip
    user = User(username=username, password_hash=hash_password(password), role=role,
                community_code=community_code if role == "community_admin" else None,
                district_code=district_code if role == "district_admin" else None,
                can_reveal=can_reveal, grids=[UserGrid(grid_code=c) for c in codes])  # fmt: skip
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateIdError(f"User {username!r} already exists.") from None
    log.info("Created user %s (%s)", username, role)
    return _info(user)


def _info(user: User) -> UserInfo:
    return UserInfo(username=user.username, role=user.role,
                    grid_codes=tuple(g.grid_code for g in user.grids),
                    community_code=user.community_code, district_code=user.district_code,
                    can_reveal=bool(user.can_reveal), created_at=user.created_at)  # fmt: skip


def list_users(*, session: Session) -> list[UserInfo]:
    """All users by name (no password hashes)."""
    return [_info(u) for u in session.scalars(select(User).order_by(User.username))]


def remove_user(*, session: Session, username: str) -> None:
    """Delete a user and their grid scope (their audit records stay)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"User {username!r} not found; list users with `gridmap user list`.")
    session.delete(user)
    session.flush()
    log.info("Removed user %s", username)


_DUMMY_HASH: list[str] = []


def authenticate(*, session: Session, username: str, password: str) -> Principal | None:
    """The principal of ``username`` if ``password`` is right and the user is active, else None."""
    user = session.scalar(select(User).where(User.username == username, User.active == true()))
    if user is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password("not a password"))
        verify_password(password, _DUMMY_HASH[0])  # same work whether the user exists or not
        return None
    if not verify_password(password, user.password_hash):
        return None
    return _principal(user)


def _principal(user: User) -> Principal:
    return Principal(username=user.username, role=user.role,
                     grid_codes=tuple(g.grid_code for g in user.grids),
                     community_code=user.community_code, district_code=user.district_code,
                     can_reveal=bool(user.can_reveal))  # fmt: skip


def principal_for(*, session: Session, username: str) -> Principal | None:
    """The current principal of an active user (scope re-read on every request), or None."""
    user = session.scalar(select(User).where(User.username == username, User.active == true()))
    return None if user is None else _principal(user)


def scope_clause(
    principal: Principal, *, community_code: Any, grid_code: Any
) -> ColumnElement[bool]:
    """SQL condition: the row of ``community_code`` / ``grid_code`` columns is in scope."""
    if principal.role == "district_admin":
        if principal.district_code:
            return community_code.startswith(principal.district_code, autoescape=True)
        return true()
    if principal.role == "community_admin" and principal.community_code:
        return community_code == principal.community_code
    if principal.role == "grid_worker" and principal.grid_codes:
        return grid_code.in_(principal.grid_codes)
    return false()


def write_audit(
    *,
    session: Session,
    principal: Principal,
    action: str,
    record_type: str,
    record_id: str,
    reason: str,
    fields: Iterable[str] = (),
) -> AuditRecord:
    """Append an audit record (who, when, which record, which fields, why); flushed."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise InputError(f"A reason of at least 4 characters is required to {action} "
                         f"{record_type} {record_id}.")  # fmt: skip
    record = AuditRecord(at=dt.datetime.now(dt.UTC), username=principal.username, action=action,
                         record_type=record_type, record_id=str(record_id),
                         fields=",".join(fields) or None, reason=reason[:2000])  # fmt: skip
    session.add(record)
    session.flush()
    return record


def list_audit(*, session: Session, record_id: str | None = None, limit: int = 100) -> list[dict]:
    """Newest audit records first (optionally of one record)."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if record_id is not None:
        query = query.where(AuditRecord.record_id == record_id)
    return [
        {"at": r.at, "username": r.username, "action": r.action, "record_type": r.record_type,
         "record_id": r.record_id, "fields": r.fields, "reason": r.reason}
        for r in session.scalars(query)
    ]  # fmt: skip
