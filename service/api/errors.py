"""Exception → HTTP status table and handlers: ``{"detail": message}`` bodies, 5xx logged."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from gridmap.errors import GridmapError, InputError
from service.storage.auth import PermissionDenied
from service.storage.errors import NotFoundError

__all__ = ["STATUS_BY_EXCEPTION", "status_for", "add_exception_handlers"]

logger = logging.getLogger(__name__)

# Most specific first: the first matching class wins.
STATUS_BY_EXCEPTION: list[tuple[type[Exception], int]] = [
    (NotFoundError, 404),
    (PermissionDenied, 403),
    (InputError, 422),  # includes InvalidGeometryError, CRSError, DuplicateIdError
    (GridmapError, 500),
    (OperationalError, 503),  # database unreachable or connection lost
    (PoolTimeoutError, 503),  # every pooled connection busy for pool_timeout: overloaded
]
_DB_UNAVAILABLE = "The database is unavailable; try again shortly."


def status_for(exc: BaseException) -> int:
    """Return the HTTP status for ``exc`` (500 if it is not in the table)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return 503
    return next((s for cls, s in STATUS_BY_EXCEPTION if isinstance(exc, cls)), 500)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    status = status_for(exc)
    if status == 503:
        detail = _DB_UNAVAILABLE
        logger.error("Database error on %s: %s", request.url.path, type(exc).__name__)
    elif status >= 500:
        detail = str(exc) if isinstance(exc, GridmapError) else "Internal server error."
        logger.exception("Error on %s", request.url.path, exc_info=exc)
    else:
        detail = str(exc)
    return JSONResponse({"detail": detail}, status_code=status)


def add_exception_handlers(app: FastAPI) -> None:
    """Register the handlers of :data:`STATUS_BY_EXCEPTION` (and DB errors) on ``app``."""
    for cls, _status in STATUS_BY_EXCEPTION:
        app.add_exception_handler(cls, _handle)
    app.add_exception_handler(DBAPIError, _handle)
