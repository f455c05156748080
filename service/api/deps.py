"""FastAPI dependencies: settings, database session, output format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.settings import Settings

__all__ = ["get_settings", "get_session", "SessionDep", "SettingsDep", "wants_html"]


def get_settings(request: Request) -> Settings:
    """The settings the app was created with (``create_app(settings)``)."""
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield a session on the app's engine, closed after the request.

    An ``async`` dependency on purpose: its clean-up runs on the event loop. A sync one waits for
    a free worker thread to give its connection back, and under load every worker thread can be
    waiting for a connection from the pool: nothing is returned and requests stall for
    ``pool_timeout``. The session itself is used from the routes' worker threads as usual.
    """
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def wants_html(request: Request, f: str | None) -> bool:
    """Whether to answer HTML: ``?f=html``, or a browser's Accept without JSON (and no ``f``)."""
    if f is not None:
        return f.lower() == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept
