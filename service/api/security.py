"""Sign-in: OAuth2 password flow (``POST /auth/token``) issuing signed bearer tokens (JWT).

Tokens are HS256-signed with a key derived from ``GRIDMAP_DATA_KEY`` and carry only the user
name and expiry; the role and scope are re-read from the store on every request, so removing a
user or changing their grids takes effect at once. A request without a token is
:data:`~service.storage.auth.ANONYMOUS` (public role).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

from service.api.deps import SessionDep, SettingsDep
from service.storage.auth import ANONYMOUS, Principal, authenticate, principal_for
from service.storage.crypto import current_keys

__all__ = ["router", "Token", "issue_token", "get_principal", "PrincipalDep", "StaffDep"]

router = APIRouter(prefix="/auth", tags=["Auth"])
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
_ALGORITHM = "HS256"
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
_NOT_SIGNED_IN = {"description": "Not signed in"}


class Token(BaseModel):
    """An access token (OAuth2 bearer)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    """The signed-in user's role and scope."""

    username: str
    role: str
    grid_codes: list[str]
    community_code: str | None
    district_code: str | None
    can_reveal: bool


def issue_token(username: str, minutes: int) -> Token:
    """A signed token for ``username``, valid for ``minutes``."""
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": username, "iat": now, "exp": now + dt.timedelta(minutes=minutes)}
    token = jwt.encode(claims, current_keys().tokens, algorithm=_ALGORITHM)
    return Token(access_token=token, expires_in=minutes * 60)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers=_UNAUTHORIZED)


def get_principal(session: SessionDep, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    """The principal of the request's bearer token, or the anonymous public principal."""
    if not token:
        return ANONYMOUS
    try:
        claims = jwt.decode(token, current_keys().tokens, algorithms=[_ALGORITHM],
                            options={"require": ["sub", "exp"]})  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The token has expired; sign in again at /auth/token.") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("The token is not valid; sign in at /auth/token.") from None
    principal = principal_for(session=session, username=str(claims["sub"]))
    if principal is None:
        raise _unauthorized("The token's user no longer exists or is disabled.")
    return principal


def require_staff(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """The principal, who must be signed in (401 otherwise)."""
    if principal is ANONYMOUS:
        raise _unauthorized("Sign in first: POST /auth/token with a user name and password.")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
StaffDep = Annotated[Principal, Depends(require_staff)]


@router.post(
    "/token",
    response_model=Token,
    summary="Sign in (OAuth2 password flow)",
    responses={401: {"description": "Wrong user name or password"}},
)
def token(
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange a user name and password for a bearer token."""
    principal = authenticate(session=session, username=form.username, password=form.password)
    if principal is None:
        raise _unauthorized("Wrong user name or password.")
    return issue_token(principal.username, settings.token_minutes)


@router.get(
    "/me", response_model=Me, summary="Who am I", responses={401: {"description": "Not signed in"}}
)
def me(principal: StaffDep) -> Me:
    """The signed-in user's role, scope and permissions."""
    return Me(username=principal.username, role=principal.role,
              grid_codes=list(principal.grid_codes), community_code=principal.community_code,
              district_code=principal.district_code, can_reveal=principal.can_reveal)  # fmt: skip
