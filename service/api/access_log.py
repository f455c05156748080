"""Keep personal values out of uvicorn's access log (second line of defence).

Personal values travel in request bodies, never in URLs (``POST …/residents/search``), but a
client may still put them in a query string. :class:`MaskPersonalQuery` rewrites the request
line of every ``uvicorn.access`` record before it is formatted: the values of personal query
parameters become ``***``, and any digit run shaped like an ID number or a mobile phone number
anywhere in the path or query is masked too. :func:`install_access_log_filter` (on the logger)
is called by :func:`service.api.main.create_app`; ``gridmap serve`` also puts the filter on the
access handler (:func:`uvicorn_log_config`), so records reaching it from anywhere are masked.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

__all__ = [
    "PERSONAL_QUERY_KEYS",
    "MaskPersonalQuery",
    "mask_url",
    "install_access_log_filter",
    "uvicorn_log_config",
]

PERSONAL_QUERY_KEYS = frozenset(
    {"name", "id_number", "phone", "reason", "password", "username", "birth_date", "q"}
)
"""Query parameters whose values are never logged."""

MASK = "***"
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_ACCESS_LOGGER = "uvicorn.access"


def _mask_shapes(text: str) -> str:
    return _MOBILE.sub(MASK, _ID_NUMBER.sub(MASK, text))


def mask_url(path_with_query: str) -> str:
    """``path_with_query`` with personal query values and ID/phone-shaped digits masked."""
    path, sep, query = path_with_query.partition("?")
    path = quote(_mask_shapes(unquote(path)), safe="/:@!$&'()*+,;=-._~%")
    if not sep:
        return path
    pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    masked = [
        f"{quote(k, safe='')}="
        + (MASK if k.lower() in PERSONAL_QUERY_KEYS else quote(_mask_shapes(v), safe=",:*"))
        for k, v in pairs
    ]
    return f"{path}?{'&'.join(masked)}"


class MaskPersonalQuery(logging.Filter):
    """Mask the request line (third argument) of uvicorn access records; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask_url(args[2]), *args[3:])
        return True


def install_access_log_filter() -> None:
    """Add :class:`MaskPersonalQuery` to the ``uvicorn.access`` logger (once)."""
    logger = logging.getLogger(_ACCESS_LOGGER)
    if not any(isinstance(f, MaskPersonalQuery) for f in logger.filters):
        logger.addFilter(MaskPersonalQuery())


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with :class:`MaskPersonalQuery` on the access
    handler (pass as ``uvicorn.run(..., log_config=...)``)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_personal"] = {"()": f"{__name__}.MaskPersonalQuery"}
    config["handlers"]["access"].setdefault("filters", []).append("mask_personal")
    return config
