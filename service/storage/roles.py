"""Service roles (no database import here: the help of ``gridmap user add`` lists them)."""

from __future__ import annotations

__all__ = ["ROLES"]

ROLES = ("public", "grid_worker", "community_admin", "district_admin")
"""Service roles, from least to most access."""
