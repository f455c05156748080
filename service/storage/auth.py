"""Users, roles, scope and audit: who may see which residents, and the record of full views.

A :class:`Principal` is the signed-in user as the storage layer sees it. Resident queries take
one and filter by :func:`scope_clause` *in SQL*, so no route can forget the scope. Passwords are
hashed with Argon2 (``pwdlib``); no function returns or logs a hash or a personal value.

Passwords must be hard to guess (:func:`password_problems`: at least
:data:`MIN_PASSWORD_LENGTH` characters, no control characters, not the user name, and a
`zxcvbn <https://github.com/dwolfhub/zxcvbn-python>`_ score of at least
:data:`MIN_PASSWORD_SCORE`, which rejects common passwords, keyboard runs and repeats). Failed
sign-ins are audit records (action ``signin_failed``), counted by :func:`failed_signins` to
throttle guessing.
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
from sqlalchemy import ColumnElement, Select, column, false, func, select, table, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridmap.errors import DuplicateIdError, GridmapError, InputError
from service.storage.auth_models import ROLES, AuditRecord, User, UserGrid, new_token_version
from service.storage.direct import UserInfo
from service.storage.errors import NotFoundError

__all__ = [
    "ROLES",
    "Principal",
    "ANONYMOUS",
    "PermissionDenied",
    "UserInfo",
    "hash_password",
    "verify_password",
    "create_user",
    "set_password",
    "password_problems",
    "record_failed_signin",
    "failed_signins",
    "list_users",
    "remove_user",
    "authenticate",
    "principal_for",
    "scope_clause",
    "write_audit",
    "list_audit",
    "audit_rows",
]

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3
"""Lowest zxcvbn score (0-4) accepted: 3 is "safely unguessable" (about 10^8 guesses or more)."""
MAX_PASSWORD_LENGTH = 256
SIGNIN_FAILED = "signin_failed"
"""Audit action of a failed sign-in (``record_type`` ``client``, ``record_id`` its address)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_GRID_CODE = re.compile(r"^\d{15}$")
_COMMUNITY_CODE = re.compile(r"^\d{12}$")
_DISTRICT_CODE = re.compile(r"^\d{6}$")
_GRID_ROLES = ("grid_worker", "party_member")  # serve the grids in app_user_grid
# The codes given to a user are checked against these columns of the spatial tables, named as
# plain table clauses: managing users loads no spatial model (GeoAlchemy2, shapely).
_GRID = table("grid", column("code"))
_COMMUNITY = table("community", column("code"))


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
    token_version: str = field(default="", compare=False, repr=False)

    @property
    def is_staff(self) -> bool:
        """Whether the principal may see residents at all (any role but ``public``)."""
        return self.role != "public"


ANONYMOUS = Principal(username="anonymous")
"""The principal of a request without a token: public aggregates only."""


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()  # Argon2id


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    return bool(_hasher().verify(password, password_hash))


def password_problems(password: str, username: str) -> list[str]:
    """What makes ``password`` unfit for ``username`` (empty when it is fine)."""
    from zxcvbn import zxcvbn  # a maintained port of Dropbox's strength estimator

    if _CONTROL.search(password):
        return ["the password must not contain control characters (NUL, tab, newline …)"]
    if not password.strip():
        return ["the password must not be only spaces"]
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"the password must have at least {MIN_PASSWORD_LENGTH} characters"]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"the password must have at most {MAX_PASSWORD_LENGTH} characters"]
    if username and username.lower() in password.lower():
        return ["the password must not contain the user name"]
    result = zxcvbn(password[:100], user_inputs=[username, "gridmap", "password"])
    if result["score"] < MIN_PASSWORD_SCORE:
        hint = result["feedback"]["warning"] or "add words or characters nobody would guess"
        return [f"the password is too easy to guess ({hint.rstrip('.')}); use a longer, "
                "uncommon one, e.g. four random words"]  # fmt: skip
    return []


def _check_user(username: str, password: str, role: str, grid_codes: tuple[str, ...],
                community_code: str | None, district_code: str | None) -> None:  # fmt: skip
    problems = []
    if not _USERNAME.match(username):
        problems.append("the name must be 2-64 letters, digits or _ . @ -")
    problems += password_problems(password, username)
    if role not in ROLES:
        problems.append(f"role {role!r} is not one of {', '.join(ROLES)}")
    bad = [c for c in grid_codes if not _GRID_CODE.match(c)]
    if bad:
        problems.append(f"grid code(s) {', '.join(bad)} are not 15 digits")
    if role in _GRID_ROLES and not grid_codes:
        problems.append(f"a {role} needs at least one grid code (--grid)")
    if role not in _GRID_ROLES and grid_codes:
        problems.append(
            f"only a grid_worker serves grids (--grid; a party_member too), not a {role}"
        )
    if role != "community_admin" and community_code:
        problems.append(f"only a community_admin has a community (--community), not a {role}")
    if role != "district_admin" and district_code:
        problems.append(f"only a district_admin has a district (--district), not a {role}")
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
    _check_codes_exist(session, username, codes, community_code)
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


def _check_codes_exist(session: Session, username: str, grid_codes: tuple[str, ...],
                       community_code: str | None) -> None:  # fmt: skip
    """Refuse grid and community codes the store does not know (a district may be empty)."""
    problems = []
    if grid_codes:
        known = set(session.scalars(select(_GRID.c.code).where(_GRID.c.code.in_(grid_codes))))
        unknown = [c for c in grid_codes if c not in known]
        if unknown:
            problems.append(f"no plan has grid(s) {', '.join(unknown)}")
    community = select(_COMMUNITY.c.code).where(_COMMUNITY.c.code == community_code)
    if community_code and session.scalar(community) is None:
        problems.append(f"community {community_code} is not in the store")
    if problems:
        raise InputError(f"User {username!r} not created: " + "; ".join(problems) + ". "
                         "Import the communities and plans first (gridmap import).")  # fmt: skip


def set_password(*, session: Session, username: str, password: str) -> None:
    """Give ``username`` a new password; their older tokens stop working (flushed).

    Raises
    ------
    InputError
        The password is too weak (:func:`password_problems`).
    NotFoundError
        No such user.
    """
    user = session.scalar(select(User).where(User.username == username, User.active == true()))
    if user is None:
        raise NotFoundError(f"User {username!r} not found; list users with `gridmap user list`.")
    problems = password_problems(password, username)
    if problems:
        raise InputError(f"Password of {username!r} not changed: " + "; ".join(problems) + ".")
    user.password_hash = hash_password(password)
    user.token_version = new_token_version()
    session.flush()
    log.info("Changed the password of user %s", username)


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
    plausible = _USERNAME.match(username) and len(password) <= MAX_PASSWORD_LENGTH
    query = select(User).where(User.username == username, User.active == true())
    user = session.scalar(query) if plausible else None
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
                     can_reveal=bool(user.can_reveal),
                     token_version=user.token_version)  # fmt: skip


def principal_for(
    *, session: Session, username: str, token_version: str | None = None
) -> Principal | None:
    """The current principal of an active user (scope re-read on every request), or None.

    With ``token_version``, also None when the user's tokens were revoked since (a password or
    role change, or the user was removed and added again).
    """
    if not _USERNAME.match(username):
        return None
    user = session.scalar(select(User).where(User.username == username, User.active == true()))
    if user is None or (token_version is not None and token_version != user.token_version):
        return None
    return _principal(user)


def record_failed_signin(*, session: Session, username: str, client: str) -> None:
    """Audit a failed sign-in as ``username`` from ``client`` (an address); flushed.

    A name that is not a valid user name (too long, control characters) is recorded as
    ``(invalid)``; the password never is.
    """
    name = username if _USERNAME.match(username) else "(invalid)"
    session.add(AuditRecord(at=dt.datetime.now(dt.UTC), username=name, action=SIGNIN_FAILED,
                            record_type="client", record_id=_clean(client)[:64],
                            reason="wrong user name or password"))  # fmt: skip
    session.flush()


def _clean(text: str) -> str:
    return _CONTROL.sub("?", text) or "unknown"


def failed_signins(
    *, session: Session, since: dt.datetime, username: str | None = None, client: str | None = None
) -> tuple[int, dt.datetime | None]:
    """Failed sign-ins since ``since`` as ``username`` or from ``client``: count and oldest."""
    query = select(func.count(), func.min(AuditRecord.at)).where(
        AuditRecord.action == SIGNIN_FAILED, AuditRecord.at >= since
    )
    if username is not None:
        query = query.where(AuditRecord.username == (username if _USERNAME.match(username)
                                                     else "(invalid)"))  # fmt: skip
    if client is not None:
        query = query.where(AuditRecord.record_type == "client",
                            AuditRecord.record_id == _clean(client)[:64])  # fmt: skip
    count, oldest = session.execute(query).one()
    if isinstance(oldest, str):  # SQLite without type info on an aggregate
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return int(count), oldest


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
    """Newest audit records first (optionally of one record), unscoped."""
    return audit_rows(session, select(AuditRecord), record_id=record_id, limit=limit)


def audit_rows(
    session: Session, query: Select[Any], *, record_id: str | None, limit: int
) -> list[dict]:
    """The audit records ``query`` selects, newest first (optionally of one record), as dicts."""
    query = query.order_by(AuditRecord.id.desc()).limit(max(1, min(int(limit), 1000)))
    if record_id is not None:
        query = query.where(AuditRecord.record_id == record_id)
    return [
        {"at": r.at, "username": r.username, "action": r.action, "record_type": r.record_type,
         "record_id": r.record_id, "fields": r.fields, "reason": r.reason}
        for r in session.scalars(query)
    ]  # fmt: skip
