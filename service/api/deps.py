"""FastAPI dependencies: settings, database session, output format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.settings import Settings

__all__ = ["get_settings", "get_session", "SessionDep", "SettingsDep", "wants_html"]


def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``create_app(settings)``)."""
    return request.app.state.settings  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session on the app's engine, closed after the request (read-only use)."""
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def wants_html(request: Request, f: str | None) -> bool:
    """Whether to answer HTML: ``?f=html``, or a browser's Accept without JSON (and no ``f``)."""
    if f is not None:
        return f.lower() == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept
