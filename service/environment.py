"""The ``GRIDMAP_*`` environment read without pydantic: for the command line's quick paths.

:class:`service.settings.Settings` (pydantic-settings) reads and validates every setting; that
costs about 0.3 s of CPU at start-up, more than a command such as ``gridmap user list`` needs in
all. :func:`read_environment` reads just the named settings the way ``Settings()`` does: the
process environment (names case-insensitive) over the ``.env`` file of the working directory,
``GRIDMAP_`` prefix. It answers ``None`` for a value ``Settings()`` would refuse or read
differently (a ``.env`` entry without ``=``, a ``.env`` that is a pipe); the caller
then takes the full path, which reports the problem as before. Nothing here is validated: a
quick path uses a value only where it can check it, and falls back otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_DATA_KEY_FILE",
    "ENV_FILE",
    "ENV_PREFIX",
    "QuickSettings",
    "normalise_database_url",
    "read_environment",
    "quick_settings",
]

ENV_PREFIX = "GRIDMAP_"
ENV_FILE = ".env"
DEFAULT_DATABASE_URL = "sqlite:///./var/gridmap.sqlite"
"""The embedded default: a SpatiaLite file, no server needed."""
DEFAULT_DATA_KEY_FILE = "./var/data.key"


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the driver gridmap uses: psycopg 3 for PostgreSQL.

    ``postgres://`` and ``postgresql://`` (and ``+psycopg2``) become ``postgresql+psycopg://``;
    ``sqlite://`` URLs are returned unchanged.
    """
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class _Unreadable(Exception):
    """A setting that ``Settings()`` would refuse or read otherwise than this module."""


def read_environment(*names: str) -> dict[str, str] | None:
    """The settings ``names`` (field names, e.g. ``database_url``) that are set, as text.

    A setting set in neither the environment nor ``.env`` is left out (its default applies).
    ``None`` when one of them cannot be read here as ``Settings()`` would (see the module).
    """
    keys = {name: (ENV_PREFIX + name).lower() for name in names}
    # Like pydantic-settings: lower-cased names, the last of two spellings wins.
    environ = {key.lower(): value for key, value in os.environ.items()}
    found: dict[str, str] = {}
    missing = []
    for name, key in keys.items():
        if key in environ:
            found[name] = environ[key]
        else:
            missing.append(name)
    if not missing:
        return found
    try:
        dotenv = _read_env_file()
    except _Unreadable:
        return None
    for name in missing:
        if keys[name] in dotenv:
            value = dotenv[keys[name]]
            if value is None:
                return None
            found[name] = value
    return found


def _read_env_file() -> dict[str, str | None]:
    path = Path(ENV_FILE)
    if path.is_fifo():  # Settings() reads it once: leave it to the full path
        raise _Unreadable(ENV_FILE)
    if not path.is_file():
        return {}
    from dotenv import dotenv_values  # what pydantic-settings reads .env with

    return {key.lower(): value for key, value in dotenv_values(path, encoding="utf-8").items()}


@dataclass(frozen=True)
class QuickSettings:
    """The settings a quick path needs: the store and its data key (as in ``Settings``)."""

    database_url: str = DEFAULT_DATABASE_URL
    data_key: str | None = None
    data_key_file: str = DEFAULT_DATA_KEY_FILE


def quick_settings() -> QuickSettings | None:
    """:class:`QuickSettings` from the environment, or ``None`` (see :func:`read_environment`)."""
    found = read_environment("database_url", "data_key", "data_key_file")
    if found is None:
        return None
    if "database_url" in found:
        found["database_url"] = normalise_database_url(found["database_url"])
    return QuickSettings(**found)
