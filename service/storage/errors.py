"""Errors of the store (no heavy import: the user commands and the web layer catch them)."""

from __future__ import annotations

from gridmap.errors import GridmapError

__all__ = ["NotFoundError"]


class NotFoundError(GridmapError, LookupError):
    """A record asked for (community, plan, grid, user, order …) is not in the store."""
