"""Exceptions raised by gridmap.

Every message says what failed, which records, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "GridmapError",
    "InputError",
    "InvalidGeometryError",
    "CRSError",
    "DuplicateIdError",
    "ImportAborted",
]


class GridmapError(Exception):
    """Base class of all gridmap errors."""


class InputError(GridmapError, ValueError):
    """Input data is unusable as given (missing column, wrong type, bad value)."""


class InvalidGeometryError(InputError):
    """A geometry is empty, missing or cannot be repaired without changing it materially."""


class CRSError(InputError):
    """A layer has no CRS, or CRSs that must match do not."""


class DuplicateIdError(InputError):
    """Two or more records share an id that must be unique."""


class ImportAborted(GridmapError):
    """An import was stopped and rolled back; nothing was written."""
