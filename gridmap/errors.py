"""Exceptions raised by gridmap.

Every message says what failed, which records, and how to fix it.

Messages are English (``str(err)``) and, where written, Chinese too: ``err.message("zh")``
gives the Chinese (the English when none was written), ``err.message("en")`` the English, so a
command prints the language its ``--lang`` asks for. An area's errors are one
:class:`ErrorTexts`: a code per error, and its :data:`Words` (English, Chinese): two
``str.format`` templates of the error's values, written in the area's TOML catalogue
(:mod:`gridmap.messages`; :func:`listed` words show lists of ids), or a function of the values
where the words need more (:meth:`ErrorTexts.worded`); ``texts.error(code, **values)`` makes
the error, which keeps ``code`` and ``values``. :meth:`InputError.gather` makes one error of
several (one line each, in both languages).

Examples
--------
>>> err = InputError("b.csv: no households column", zh="b.csv：缺少“户数”列")
>>> str(err), err.message("zh"), err.message("en")
('b.csv: no households column', 'b.csv：缺少“户数”列', 'b.csv: no households column')
>>> InputError("only English").message("zh")
'only English'
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from string import Formatter
from types import MappingProxyType
from typing import Any

from gridmap.messages import glossary

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
PrepareValues = Callable[..., tuple[Mapping[str, Any], Mapping[str, Any]]]
"""A function of an error's values returning what its templates show (English, Chinese)."""


def quoted(items: Iterable[object]) -> str:
    """``“a”、“b”``: a list in Chinese text."""
    return "、".join(f"“{i}”" for i in items)


def listed(
    en: str,
    zh: str,
    key: str | Sequence[str] = "ids",
    most: int | None = 10,
    *,
    joined: Sequence[str] = (),
    chinese: Mapping[str, str] | None = None,
) -> ErrorWords:
    """Words naming the first ``most`` items (all when None) of the values ``key`` and
    ``joined``: templates ``en`` and ``zh``, where ``{key}`` stands for its items as a list
    (English) and quoted (Chinese), and a ``joined`` value for its items joined by commas.
    ``chinese`` maps a value to a section of the glossary (:func:`gridmap.messages.glossary`:
    ``columns``, ``entities``) that gives the Chinese of its items (or of the value itself).
    Values the templates do not name are refused, as a function's unexpected arguments are.

    >>> listed("Building(s) {ids} lack a roof.", "楼栋 {ids} 没有屋顶。")(ids=("B1", "B2"))
    ("Building(s) ['B1', 'B2'] lack a roof.", '楼栋 “B1”、“B2” 没有屋顶。')
    >>> listed("Plans {ids} are one.", "方案 {ids} 相同。", (), joined=["ids"])(ids=[3, 4])
    ('Plans 3, 4 are one.', '方案 3、4 相同。')
    >>> listed("Lacks {cols}.", "缺少{cols}。", "cols", chinese={"cols": "columns"})(
    ...     cols=["households"])
    ("Lacks ['households'].", '缺少“户数”。')
    """
    keys = (key,) if isinstance(key, str) else tuple(key)
    names = _fields(en) | _fields(zh)

    def words(**values: Any) -> Words:
        if set(values) != names:
            raise TypeError(f"the values are {sorted(names)}, not {sorted(values)}")
        en_values, zh_values = dict(values), dict(values)
        for k, section in (chinese or {}).items():
            zh_values[k] = _in_chinese(section, values[k])
        for k in keys:
            shown = list(values[k])[:most]
            en_values[k], zh_values[k] = shown, quoted(list(zh_values[k])[:most])
        for k in joined:
            en_values[k] = ", ".join(str(i) for i in list(values[k])[:most])
            zh_values[k] = "、".join(str(i) for i in list(zh_values[k])[:most])
        return en.format(**en_values), zh.format(**zh_values)

    return words


def _in_chinese(section: str, value: Any) -> Any:
    """``value`` (or each of its items) in Chinese by the glossary's ``section``."""
    words = glossary(section)

    def one(item: Any) -> Any:
        word = words.get(item, item)
        return word[1] if isinstance(word, tuple) else word

    return one(value) if isinstance(value, str) else [one(i) for i in value]


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


def _strings(items: object) -> bool:
    return isinstance(items, list | tuple) and all(isinstance(i, str) for i in items)


_KINDS: tuple[type[GridmapError], ...] = (
    InputError,
    InvalidGeometryError,
    CRSError,
    DuplicateIdError,
    ImportAborted,
)
"""The error classes a catalogue may name."""
_CATALOGUE_KEYS = frozenset({"error", "en", "zh", "listed", "joined", "most", "chinese"})


class ErrorTexts:
    """The errors of one area, each by code: its class and its words in both languages.

    The plain words of an area live in its catalogue, a TOML file (a table per code: ``en`` and
    ``zh`` templates, ``error`` the class when not InputError; ``listed``, ``joined``, ``most``
    and ``chinese`` for :func:`listed` words), so that wording is read and corrected in one
    file; words computed from the values are functions registered with :meth:`worded`, or,
    where only the values need work (a list shortened, a name put in Chinese), with
    :meth:`prepared`.

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
    >>> @texts.worded("no_files")
    ... def _no_files(paths: list[str]) -> Words:
    ...     return f"None of {len(paths)} files found", f"{len(paths)} 个文件都找不到"
    >>> texts.words("no_files", paths=["a.csv", "b.csv"])
    ('None of 2 files found', '2 个文件都找不到')
    """

    def __init__(
        self, texts: Mapping[str, tuple[type[GridmapError], ErrorWords | Words]] | None = None
    ) -> None:
        self._texts: dict[str, tuple[type[GridmapError], ErrorWords]] = {
            code: (kind, _templates(*words) if isinstance(words, tuple) else words)
            for code, (kind, words) in (texts or {}).items()
        }
        self._plain: dict[str, Words] = {}  # the catalogue's templates, for prepared()

    @classmethod
    def catalogue(
        cls, package: str, name: str, kinds: Iterable[type[GridmapError]] = ()
    ) -> ErrorTexts:
        """The errors written in the TOML catalogue ``name`` of ``package``; ``kinds`` the
        error classes besides this module's that its ``error`` keys name.

        Raises
        ------
        ValueError
            An entry has an unknown key or class, or lacks one of its two texts.
        """
        known = {k.__name__: k for k in (*_KINDS, *kinds)}
        source = resources.files(package) / name
        texts = cls()
        for code, entry in tomllib.loads(source.read_text(encoding="utf-8")).items():
            problem = _entry_problem(entry, known)
            if problem:
                raise ValueError(f"{package}/{name} [{code}]: {problem}")
            en, zh = entry["en"], entry["zh"]
            if {"listed", "joined", "chinese"} & set(entry):
                words = listed(en, zh, entry.get("listed", ()), entry.get("most"),
                               joined=entry.get("joined", ()),
                               chinese=entry.get("chinese"))  # fmt: skip
            else:
                words = _templates(en, zh)
                texts._plain[code] = (en, zh)
            texts._texts[code] = (known[entry.get("error", "InputError")], words)
        return texts

    def worded(
        self, code: str, kind: type[GridmapError] | None = None
    ) -> Callable[[ErrorWords], ErrorWords]:
        """Decorator: the function is the words of the error ``code`` (of class ``kind``,
        InputError by default)."""

        def register(words: ErrorWords) -> ErrorWords:
            if code in self._texts:
                raise ValueError(f"error {code!r} is worded twice")
            self._texts[code] = (kind or InputError, words)
            return words

        return register

    def prepared(self, *codes: str) -> Callable[[PrepareValues], PrepareValues]:
        """Decorator: the function turns the values of the catalogue's errors ``codes`` into
        those their two templates show: it returns (English values, Chinese values).

        Raises
        ------
        KeyError
            A code is not a plain template of the catalogue (or is prepared already).
        """

        def register(prepare: PrepareValues) -> PrepareValues:
            for code in codes:
                en, zh = self._plain.pop(code)
                self._texts[code] = (self._texts[code][0], _prepared(en, zh, prepare))
            return prepare

        return register

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


def _prepared(en: str, zh: str, prepare: PrepareValues) -> ErrorWords:
    def words(**values: Any) -> Words:
        en_values, zh_values = prepare(**values)
        return en.format(**en_values), zh.format(**zh_values)

    return words


def _entry_problem(entry: Any, known: Mapping[str, type[GridmapError]]) -> str | None:
    """What is wrong with one catalogue entry, or None."""
    if not isinstance(entry, dict):
        return "not a table of en, zh (and error, listed, most)"
    if unknown := set(entry) - _CATALOGUE_KEYS:
        return f"unknown key(s) {sorted(unknown)}"
    if not all(isinstance(entry.get(lang), str) for lang in ("en", "zh")):
        return "needs both texts, en and zh"
    names = [entry.get("listed", ()), entry.get("joined", ())]
    if not all(isinstance(n, str) or _strings(n) for n in names):
        return "listed and joined name values: a name or a list of names"
    chinese = entry.get("chinese", {})
    if not isinstance(chinese, dict) or not set(chinese.values()) <= {"columns", "entities"}:
        return "chinese maps values to a glossary section: columns or entities"
    if not isinstance(entry.get("most", 0), int):
        return "most is a whole number"
    if entry.get("error", "InputError") not in known:
        return f"unknown error class {entry['error']!r}; known: {sorted(known)}"
    return None
