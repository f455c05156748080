"""The exception → HTTP status table: clients see 4xx for their mistakes, 503 for overload."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from gridmap.errors import CRSError, GridmapError, InvalidGeometryError
from service.api.errors import status_for
from service.storage.auth import PermissionDenied
from service.storage.errors import NotFoundError


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (NotFoundError("Community '1' not found"), 404),
        (PermissionDenied("not your grid"), 403),
        (InvalidGeometryError("bow-tie"), 422),
        (CRSError("no CRS"), 422),
        (GridmapError("bug"), 500),
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), 503),
        (PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached"), 503),
        (RuntimeError("anything else"), 500),
    ],
)
def test_status_for(exc, status):
    assert status_for(exc) == status
