"""Sign-in: OAuth2 password flow (``POST /auth/token``) issuing signed bearer tokens (JWT).

Tokens are HS256-signed with a key derived from the app's data key (``create_app(settings)``: an
app with another key cannot verify them) and carry the user name, the user's token version, issuer
and audience, and expiry; the role and scope are re-read from the store on every request, so
removing a user or changing their grids takes effect at once, and a password or role change (or
removing the user and adding one with the same name) revokes every older token. A request
without a token is :data:`~service.storage.auth.ANONYMOUS` (public role).

Guessing is throttled: every failed sign-in is an audit record, and once a user name or a client
address has too many within ``signin_window_minutes`` (``signin_failures_per_user``,
``signin_failures_per_client``), ``/auth/token`` answers 429 with ``Retry-After`` without checking
the password. Behind a reverse proxy run uvicorn with ``--proxy-headers`` (and
``--forwarded-allow-ips``) so the client address is the real one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

from service.api.deps import SessionDep, SettingsDep
from service.settings import Settings
from service.storage.auth import (
    ANONYMOUS,
    Principal,
    authenticate,
    failed_signins,
    principal_for,
    record_failed_signin,
)
from service.storage.crypto import keys_for

__all__ = ["router", "Token", "issue_token", "get_principal", "PrincipalDep", "StaffDep"]

router = APIRouter(prefix="/auth", tags=["Auth"])
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
_ALGORITHM = "HS256"
ISSUER = "gridmap"
AUDIENCE = "gridmap-api"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
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


def issue_token(settings: Settings, username: str, minutes: int, *, version: str = "") -> Token:
    """A token for ``username`` (token ``version``) signed with the key of ``settings``."""
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": username, "ver": version, "iss": ISSUER, "aud": AUDIENCE, "iat": now,
              "exp": now + dt.timedelta(minutes=minutes)}  # fmt: skip
    token = jwt.encode(claims, keys_for(settings).tokens, algorithm=_ALGORITHM)
    return Token(access_token=token, expires_in=minutes * 60)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=message, headers=_UNAUTHORIZED)


def get_principal(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    """The principal of the request's bearer token, or the anonymous public principal."""
    if not token:
        return ANONYMOUS
    try:
        claims = jwt.decode(token, keys_for(settings).tokens, algorithms=[_ALGORITHM],
                            audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["sub", "exp", "ver", "iss", "aud"]})  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The token has expired; sign in again at /auth/token.") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("The token is not valid; sign in at /auth/token.") from None
    principal = principal_for(session=session, username=str(claims["sub"]),
                              token_version=str(claims["ver"]))  # fmt: skip
    if principal is None:
        raise _unauthorized("The token was revoked (its user was removed, disabled or changed "
                            "password or role); sign in again at /auth/token.")  # fmt: skip
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
    responses={
        401: {"description": "Wrong user name or password"},
        429: {
            "description": "Too many failed sign-ins; retry after Retry-After seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    },
)
def token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange a user name and password for a bearer token."""
    client = request.client.host if request.client else "unknown"
    _throttle(session, settings, form.username, client)
    principal = authenticate(session=session, username=form.username, password=form.password)
    if principal is None:
        record_failed_signin(session=session, username=form.username, client=client)
        session.commit()
        raise _unauthorized("Wrong user name or password.")
    response.headers.update(_NO_STORE)
    return issue_token(settings, principal.username, settings.token_minutes,
                       version=principal.token_version)  # fmt: skip


def _throttle(session: SessionDep, settings: Settings, username: str, client: str) -> None:
    """429 with Retry-After when the user name or the client has too many recent failures."""
    window = dt.timedelta(minutes=settings.signin_window_minutes)
    now = dt.datetime.now(dt.UTC)
    checks = (({"username": username}, settings.signin_failures_per_user, "this user name"),
              ({"client": client}, settings.signin_failures_per_client, "this client"))  # fmt: skip
    for who, limit, label in checks:
        count, oldest = failed_signins(session=session, since=now - window, **who)
        if count >= limit and oldest is not None:
            wait = max(1, int((oldest + window - now).total_seconds()) + 1)
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)},
                detail=f"Too many failed sign-ins for {label}; retry in {wait} s.",
            )  # fmt: skip


@router.get(
    "/me", response_model=Me, summary="Who am I", responses={401: {"description": "Not signed in"}}
)
def me(principal: StaffDep, response: Response) -> Me:
    """The signed-in user's role, scope and permissions."""
    response.headers.update(_NO_STORE)
    return Me(username=principal.username, role=principal.role,
              grid_codes=list(principal.grid_codes), community_code=principal.community_code,
              district_code=principal.district_code, can_reveal=principal.can_reveal)  # fmt: skip
