"""Service roles (no database import here: the help of ``gridmap user add`` lists them)."""

from __future__ import annotations

__all__ = ["ROLES"]

ROLES = ("public", "party_member", "grid_worker", "community_admin", "district_admin")
"""Service roles, from least to most access. A ``party_member`` (党员) serves grids like a grid
worker but only for work orders (takes and finishes them): residents stay out of reach."""
