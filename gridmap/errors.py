"""Exceptions raised by gridmap.

Every message says what failed, which records, and how to fix it.

Messages are English (``str(err)``) and, where written, Chinese too: ``err.message("zh")``
gives the Chinese (the English when none was written), ``err.message("en")`` the English, so a
command prints the language its ``--lang`` asks for. An area's errors are written in one place,
as :class:`ErrorTexts`: a code per error, and its :data:`Words` (English, Chinese): two
``str.format`` templates of the error's values, or a function of them where the words need more
(:func:`listed` words a list of ids); ``texts.error(code, **values)`` makes the error, which keeps
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

from collections.abc import Callable, Iterable, Mapping, Sequence
from string import Formatter
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
    "listed",
    "quoted",
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


def quoted(items: Iterable[object]) -> str:
    """``“a”、“b”``: a list in Chinese text."""
    return "、".join(f"“{i}”" for i in items)


def listed(en: str, zh: str, key: str = "ids", most: int = 10) -> ErrorWords:
    """Words naming the first ``most`` of the value ``key``: templates ``en`` and ``zh``, where
    ``{key}`` stands for those items as a list (English) and quoted (Chinese).

    >>> listed("Building(s) {ids} lack a roof.", "楼栋 {ids} 没有屋顶。")(ids=("B1", "B2"))
    ("Building(s) ['B1', 'B2'] lack a roof.", '楼栋 “B1”、“B2” 没有屋顶。')
    """

    def words(**values: Any) -> Words:
        shown = list(values[key])[:most]
        return en.format(**{**values, key: shown}), zh.format(**{**values, key: quoted(shown)})

    return words


def _fields(template: str) -> set[str]:
    """The values a ``str.format`` template names (``{a}``, ``{a!r}``, ``{a[0]:.0f}`` → a)."""
    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in Formatter().parse(template)
        if name is not None
    }


def _templates(en: str, zh: str) -> ErrorWords:
    """The words of two ``str.format`` templates; values they do not name are refused, as a
    function's unexpected arguments are."""
    names = _fields(en) | _fields(zh)

    def words(**values: Any) -> Words:
        if set(values) != names:
            raise TypeError(f"the values are {sorted(names)}, not {sorted(values)}")
        return en.format(**values), zh.format(**values)

    return words


class ErrorTexts:
    """The errors of one area, each by code: its class and its words in both languages.

    Parameters
    ----------
    texts : mapping
        Code → (error class, words): the words two ``str.format`` templates of the values
        (English, Chinese), or a function of the values returning (English, Chinese).

    Examples
    --------
    >>> texts = ErrorTexts({"no_file": (InputError, (
    ...     "File not found: {path}", "找不到文件：{path}"))})
    >>> err = texts.error("no_file", path="b.csv")
    >>> (str(err), err.message("zh"), err.code, dict(err.values))
    ('File not found: b.csv', '找不到文件：b.csv', 'no_file', {'path': 'b.csv'})
    """

    def __init__(self, texts: Mapping[str, tuple[type[GridmapError], ErrorWords | Words]]) -> None:
        self._texts: dict[str, tuple[type[GridmapError], ErrorWords]] = {
            code: (kind, _templates(*words) if isinstance(words, tuple) else words)
            for code, (kind, words) in texts.items()
        }

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
