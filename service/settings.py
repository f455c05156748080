"""Service settings, read from ``GRIDMAP_*`` environment variables (and an optional ``.env``).

Settings are passed down, never read from a global: ``create_app(settings)`` hands its own to
the routes (``app.state.settings``) and to its engine (the data key, ``make_engine(url,
settings=…)``); a command builds them once from the environment. :func:`get_settings` is the
default of ``create_app()`` alone.
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

    data_key: str | None = None
    """Master key (base64, 32 bytes) for ID numbers and phones at rest, search hashes and tokens.
    Generate one with ``gridmap user genkey``; losing it makes the stored values unreadable."""

    data_key_file: str = "./var/data.key"
    """Where the key is read from (and created, mode 0600) when ``data_key`` is not set."""

    token_minutes: int = 60
    """Lifetime of the access tokens issued by ``/auth/token``."""

    signin_window_minutes: int = 15
    """Window over which failed sign-ins are counted (audit log, action ``signin_failed``)."""

    signin_failures_per_user: int = 5
    """Failed sign-ins as one user name within the window before ``/auth/token`` answers 429."""

    signin_failures_per_client: int = 20
    """Failed sign-ins from one client address within the window before 429 (any user name)."""

    header_timeout_seconds: float = 10.0
    """``gridmap serve``: a client must send its request line and headers within this time."""

    max_body_bytes: int = 10 * 1024 * 1024
    """Largest request body accepted (uploads); bigger requests get 413."""

    response_cache_mb: int = 256
    """Per worker process: megabytes of rendered public layers kept (``service.api.cache``)."""

    tianditu_key: str | None = None
    """Key of the Tianditu basemap (天地图); without one the Tianditu basemap is not offered."""

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_driver(cls, value: str) -> str:
        return normalise_database_url(value)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; clear with ``get_settings.cache_clear()``)."""
    return Settings()
