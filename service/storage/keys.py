"""The data key itself: made, parsed, read from its file and stretched (no database import).

:mod:`service.storage.crypto` builds on these (encryption, search hashes, the store's key check);
they live apart so that a command can check a store's key fingerprint, or print a new key,
without importing SQLAlchemy (:mod:`service.storage.direct`, ``gridmap user genkey``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gridmap.errors import GridmapError

__all__ = [
    "DataKeyError",
    "DataKeys",
    "KeySettings",
    "generate_key",
    "parse_key",
    "derive_keys",
    "load_master_key",
    "announce_new_key",
    "new_key_unannounced",
]

log = logging.getLogger(__name__)

_ANNOUNCE_NEW_KEY: ContextVar[bool] = ContextVar("gridmap_announce_new_key", default=True)
"""Whether a key file made now is said at once (not within :func:`new_key_unannounced`)."""


@contextmanager
def new_key_unannounced() -> Iterator[None]:
    """Within: a key file made is not said; the caller says it (:func:`announce_new_key`) once
    data is stored with it, so a refused import neither says a key was made nor that it went."""
    token = _ANNOUNCE_NEW_KEY.set(False)
    try:
        yield
    finally:
        _ANNOUNCE_NEW_KEY.reset(token)


def announce_new_key(path: Path) -> None:
    """Say (on the console, in the command line's language) that the key file ``path`` was
    made and must be backed up."""
    # said on the console in the command line's language (service.cli_usage.LogLanguage)
    zh = "已新建数据密钥 %s：请备份，没有它数据将无法读取"
    log.warning("Created a new data key in %s: back it up, the data cannot be read without it",
                path, extra={"zh": zh})  # fmt: skip


_KEY_BYTES = 32


class KeySettings(Protocol):
    """Where the key comes from (:class:`~service.settings.Settings` has these fields)."""

    @property
    def data_key(self) -> str | None: ...

    @property
    def data_key_file(self) -> str: ...


class DataKeyError(GridmapError):
    """The data key is missing, malformed, or does not decrypt the stored values."""


@dataclass(frozen=True)
class DataKeys:
    """The keys derived from the master key, and its fingerprint (16 hex digits)."""

    encryption: bytes
    search: bytes
    tokens: bytes
    fingerprint: str = ""


def generate_key() -> str:
    """A new random master key, base64 text (put it in ``GRIDMAP_DATA_KEY``)."""
    return base64.b64encode(os.urandom(_KEY_BYTES)).decode("ascii")


def parse_key(text: str) -> bytes:
    """Decode a base64 (standard or URL-safe) master key of 32 bytes."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _KEY_BYTES:
        raise DataKeyError(
            "GRIDMAP_DATA_KEY must be 32 random bytes in base64 (44 characters); "
            "generate one with `gridmap user genkey`."
        )
    return raw


def _hkdf(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(master)


def derive_keys(master: bytes) -> DataKeys:
    """Derive the encryption, search-hash and token keys from ``master`` (HKDF-SHA256)."""
    return DataKeys(
        encryption=_hkdf(master, b"gridmap/field-encryption/v1"),
        search=_hkdf(master, b"gridmap/search-hash/v1"),
        tokens=_hkdf(master, b"gridmap/access-tokens/v1"),
        fingerprint=_hkdf(master, b"gridmap/key-fingerprint/v1").hex()[:16],
    )


def load_master_key(settings: KeySettings, *, create: bool = False) -> bytes:
    """The master key of ``settings``: ``data_key``, else ``data_key_file``.

    Raises
    ------
    DataKeyError
        No key is set and the key file does not exist (it is created only with ``create``).
    """
    if settings.data_key:
        return parse_key(settings.data_key)
    path = Path(settings.data_key_file).expanduser()
    if not path.exists() and not create:
        raise DataKeyError(
            f"No data key: GRIDMAP_DATA_KEY is not set and the key file {path} does not exist. "
            "Check GRIDMAP_DATA_KEY_FILE (a new key is only made for a store without data)."
        )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(generate_key() + "\n")
        if _ANNOUNCE_NEW_KEY.get():
            announce_new_key(path)
    return parse_key(path.read_text())
