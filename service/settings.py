"""Service settings, read from ``GRIDMAP_*`` environment variables (and an optional ``.env``).

Settings are passed down, never read from a global: ``create_app(settings)`` hands its own to
the routes (``app.state.settings``) and to its engine (the data key, ``make_engine(url,
settings=…)``); a command builds them once from the environment. :func:`get_settings` is the
default of ``create_app()`` alone.

Importing this module costs pydantic and pydantic-settings (about 0.3 s of CPU): a command that
must start quickly reads the few settings it needs with :mod:`service.environment` (same
variables, same ``.env``) and builds :class:`Settings` only when it takes its full path.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.environment import (
    DEFAULT_DATA_KEY_FILE,
    DEFAULT_DATABASE_URL,
    ENV_FILE,
    ENV_PREFIX,
    normalise_database_url,
)

if TYPE_CHECKING:
    from gridmap.orders import TimeLimits

__all__ = [
    "Settings",
    "get_settings",
    "normalise_database_url",
    "load_order_limits",
    "DEFAULT_DATABASE_URL",
]


class Settings(BaseSettings):
    """Settings of the gridmap service (env prefix ``GRIDMAP_``)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=ENV_FILE, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL: ``sqlite:///path.sqlite`` (SpatiaLite) or ``postgresql://…`` (PostGIS)."""

    data_key: str | None = None
    """Master key (base64, 32 bytes) for ID numbers and phones at rest, search hashes and tokens.
    Generate one with ``gridmap user genkey``; losing it makes the stored values unreadable."""

    data_key_file: str = DEFAULT_DATA_KEY_FILE
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

    order_categories_file: str | None = None
    """JSON list of work-order categories (``code``, ``zh``, ``en``, ``claim_hours``,
    ``close_hours``) replacing the default ones (维修, 环境, 纠纷, 养老, 安全, 议事, 其他)."""

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("order_categories_file")
    @classmethod
    def _categories_readable(cls, value: str | None) -> str | None:
        if value:
            load_order_limits(value)  # a bad file stops the service at start, not a request
        return value


def load_order_limits(path: str | None) -> TimeLimits:
    """The work-order categories and time limits of the JSON file ``path`` (defaults if None).

    Raises
    ------
    ValueError
        The file cannot be read or is not a list of categories.
    """
    from gridmap.orders import TimeLimits  # pandas: not for every import of the settings

    if not path:
        return TimeLimits()
    try:
        records = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"Cannot read the order categories file {path}: {exc}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError(f"The order categories file {path} must hold a JSON list of objects.")
    return TimeLimits.from_records(records)


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; clear with ``get_settings.cache_clear()``)."""
    return Settings()
