"""The catalogues of gridmap's messages: a TOML file per area, each error's words by code in
English (``en``) and Chinese (``zh``), read by :meth:`gridmap.errors.ErrorTexts.catalogue`.

Wording is corrected here, in one file per area, without touching the code; words computed from
the values (lists of rows, counts that change the sentence) are functions beside the code that
raises them, registered with :meth:`~gridmap.errors.ErrorTexts.worded`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["glossary"]


@cache
def _words() -> dict[str, Any]:
    """``words.toml``, read once."""
    return tomllib.loads((resources.files(__name__) / "words.toml").read_text(encoding="utf-8"))


@cache
def glossary(section: str) -> dict[str, Any]:
    """One section of ``words.toml``, the names of things in messages: ``entities`` (name →
    [English plural, Chinese]), ``columns`` (canonical column → Chinese name) or ``contents``
    (what a file named as a workbook holds → [English, Chinese]).

    >>> glossary("entities")["building"]
    ('buildings', '楼栋')
    """
    return {k: tuple(v) if isinstance(v, list) else v for k, v in _words()[section].items()}
