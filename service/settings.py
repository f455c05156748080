"""Service settings, read from ``GRIDMAP_*`` environment variables (and an optional ``.env``).

Library modules never build :class:`Settings` at import time; call :func:`get_settings`.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "normalise_database_url", "DEFAULT_DATABASE_URL"]

DEFAULT_DATABASE_URL = "sqlite:///./var/gridmap.sqlite"
"""The embedded default: a SpatiaLite file, no server needed."""


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the driver gridmap uses: psycopg 3 for PostgreSQL.

    ``postgres://`` and ``postgresql://`` (and ``+psycopg2``) become ``postgresql+psycopg://``;
    ``sqlite://`` URLs are returned unchanged.
    """
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """Settings of the gridmap service (env prefix ``GRIDMAP_``)."""

    model_config = SettingsConfigDict(env_prefix="GRIDMAP_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL: ``sqlite:///path.sqlite`` (SpatiaLite) or ``postgresql://…`` (PostGIS)."""

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_driver(cls, value: str) -> str:
        return normalise_database_url(value)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; clear with ``get_settings.cache_clear()``)."""
    return Settings()
