"""Exceptions raised by gridmap.

Every message says what failed, which records, and how to fix it.

Messages are English (``str(err)``) and, where written, Chinese too: ``err.message("zh")``
gives the Chinese (the English when none was written), ``err.message("en")`` the English, so a
command prints the language its ``--lang`` asks for. An area's errors are written in one place,
as :class:`ErrorTexts`: a code per error, and a function of the error's values returning its
:data:`Words` (English, Chinese); ``texts.error(code, **values)`` makes the error, which keeps
``code`` and ``values``. :meth:`InputError.gather` makes one error of several (one line each, in
both languages).

Examples
--------
>>> err = InputError("b.csv: no households column", zh="b.csv：缺少“户数”列")
>>> str(err), err.message("zh"), err.message("en")
('b.csv: no households column', 'b.csv：缺少“户数”列', 'b.csv: no households column')
>>> InputError("only English").message("zh")
'only English'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

__all__ = [
    "GridmapError",
    "InputError",
    "InvalidGeometryError",
    "CRSError",
    "DuplicateIdError",
    "ImportAborted",
    "ErrorTexts",
    "Words",
]

Words = tuple[str, str]
"""A text in English and in Chinese."""


class GridmapError(Exception):
    """Base class of all gridmap errors.

    Attributes
    ----------
    message_zh : str
        The message in Chinese ("" when none was written: :meth:`message` gives the English).
    code : str
        The error's code in its :class:`ErrorTexts` ("" for an error written at its raise site).
    values : mapping
        What the message says (file, rows, ids …), for the code.
    """

    message_zh: str = ""
    code: str = ""
    values: Mapping[str, Any] = MappingProxyType({})

    def __init__(
        self, *args: object, zh: str = "", code: str = "", values: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(*args)
        if zh:
            self.message_zh = zh
        if code:
            self.code = code
        if values:
            self.values = dict(values)

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang``: ``"zh"`` (Chinese, English if none) or ``"en"``."""
        return self.message_zh if lang == "zh" and self.message_zh else str(self)

    @property
    def message_en(self) -> str:
        """The message in English (``str(err)``)."""
        return str(self)


class InputError(GridmapError, ValueError):
    """Input data is unusable as given (missing column, wrong type, bad value)."""

    @classmethod
    def gather(cls, errors: Sequence[GridmapError]) -> InputError:
        """One error saying each of ``errors`` (several files' problems), a line each, in
        English and in Chinese (an error without Chinese is said in English there too)."""
        en = "\n".join(str(e) for e in errors)
        zh = "\n".join(e.message("zh") for e in errors)
        return cls(en, zh=zh if zh != en else "")


class InvalidGeometryError(InputError):
    """A geometry is empty, missing or cannot be repaired without changing it materially."""


class CRSError(InputError):
    """A layer has no CRS, or CRSs that must match do not."""


class DuplicateIdError(InputError):
    """Two or more records share an id that must be unique."""


class ImportAborted(GridmapError):
    """An import was stopped and rolled back; nothing was written."""


ErrorWords = Callable[..., Words]
"""A function of an error's values returning its message (English, Chinese)."""


class ErrorTexts:
    """The errors of one area, each by code: its class and its words in both languages.

    Parameters
    ----------
    texts : mapping
        Code → (error class, function of the values returning (English, Chinese)).

    Examples
    --------
    >>> texts = ErrorTexts({"no_file": (InputError, lambda path: (
    ...     f"File not found: {path}", f"找不到文件：{path}"))})
    >>> err = texts.error("no_file", path="b.csv")
    >>> (str(err), err.message("zh"), err.code, dict(err.values))
    ('File not found: b.csv', '找不到文件：b.csv', 'no_file', {'path': 'b.csv'})
    """

    def __init__(self, texts: Mapping[str, tuple[type[GridmapError], ErrorWords]]) -> None:
        self._texts = dict(texts)

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code of the area."""
        return tuple(self._texts)

    def words(self, code: str, **values: Any) -> Words:
        """The message of ``code`` with ``values``, in English and in Chinese."""
        return self._texts[code][1](**values)

    def error(self, code: str, **values: Any) -> GridmapError:
        """The error ``code`` (of its class), worded with ``values``."""
        kind, words = self._texts[code]
        en, zh = words(**values)
        return kind(en, zh=zh, code=code, values=values)
