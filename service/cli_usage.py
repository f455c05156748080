"""The command line's own refusals and notices in the language of the command line.

Typer (and the click it carries) refuses a missing option, an unknown option or command, a
value it cannot convert, with its own English words. :class:`LanguageGroup`, the group class of
``gridmap``, says them in Chinese when the command line is in Chinese (``--lang zh``, the
default): the fixed phrases are translated, the option names, values and commands kept, and a
hint to ``--help`` follows::

    错误：缺少选项 '--communities'。
    可用 gridmap partition --help 查看用法。

With ``--lang en`` Typer's own output is unchanged. The language is read from the
arguments (the last ``--lang``), since a usage error may come before the command's options are
parsed. The same language chooses the words of the log lines a person sees on the console:
a record carrying Chinese words (``log.warning(en, *args, extra={"zh": zh})``) is printed in
Chinese (:class:`LogLanguage`).

Only Typer is imported here: ``gridmap --help`` stays fast.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, NoReturn, cast

import typer
from typer._click import exceptions as errors  # the click Typer runs on (vendored)
from typer.core import TyperGroup

__all__ = ["LanguageGroup", "LogLanguage", "lang_of", "usage_error_zh"]

_META = "gridmap.lang"


def lang_of(args: Sequence[str]) -> str:
    """The language the arguments ask for: the last ``--lang X`` (or ``--lang=X``), else zh."""
    lang = "zh"
    words = list(args)
    for i, word in enumerate(words):
        if word == "--":
            break
        if word == "--lang" and i + 1 < len(words):
            lang = words[i + 1]
        elif word.startswith("--lang="):
            lang = word.partition("=")[2]
    return lang


_KIND_ZH = {"option": "选项", "argument": "参数", "parameter": "参数"}
_PATH_ZH = {"file": "文件", "dir": "目录", "path": "路径"}
_PATH_PROBLEM_ZH = {"does not exist": "不存在", "is a file": "是文件，应为目录",
                    "is a directory": "是目录，应为文件", "is not readable": "无法读取",
                    "is not writable": "无法写入"}  # fmt: skip
_BOUNDS = {"greater_than": ("gt", "大于"), "greater_than_equal": ("ge", "不小于"),
           "less_than": ("lt", "小于"), "less_than_equal": ("le", "不大于")}  # fmt: skip


def _pydantic_zh(error: dict[str, Any]) -> str | None:
    """A value Typer's coercion (pydantic) refused, in Chinese, from the error's type."""
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    value = error.get("input")
    said = "" if value is None else f"{value!r} "
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{said}不是整数"
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return f"{said}不是数字"
    if kind in ("bool_parsing", "bool_type"):
        return f"{said}不是布尔值（true 或 false）"
    if kind in _BOUNDS and _BOUNDS[kind][0] in ctx:
        key, word = _BOUNDS[kind]
        return f"{said}须{word} {ctx[key]}"
    if kind in ("enum", "literal_error") and "expected" in ctx:
        return f"{said}不是可选值（{ctx['expected']}）之一"
    return None


_VALUE_PATTERNS: list[tuple[str, Any]] = [
    ("(?i)" r"(?P<kind>file|dir|path) (?P<name>.+) (?P<problem>does not exist|is a file|"
                r"is a directory|is not readable|is not writable)\.",
     lambda m: f"{_PATH_ZH[m['kind'].lower()]} {m['name']} {_PATH_PROBLEM_ZH[m['problem']]}"),
    (r"Value (?P<value>.+) is not a valid (?P<kind>\w+)\.",
     lambda m: f"{m['value']} 不是有效的 {m['kind']}"),
    (r"(?P<value>.+) is not one of (?P<choices>.+)\.",
     lambda m: f"{m['value']} 不是可选值（{m['choices']}）之一"),
]  # fmt: skip
"""Typer's words for a value its types refuse."""
_USAGE_PATTERNS: list[tuple[str, Any]] = [
    (r"Got unexpected extra arguments?(?:\(s\))? \((?P<args>.*)\)",
     lambda m: f"多余的参数：{m['args']}"),
    (r"Missing command\.", lambda _: "缺少子命令"),
    (r"No such command (?P<name>'[^']*')\.(?: Did you mean (?P<maybe>.+)\?)?",
     lambda m: f"没有命令 {m['name']}" + (f"；您要的是不是 {m['maybe']}？" if m["maybe"] else "")),
    (r"Option (?P<name>'[^']*') requires an argument\.",
     lambda m: f"选项 {m['name']} 需要一个值"),
    (r"Option (?P<name>'[^']*') requires (?P<n>\d+) arguments\.",
     lambda m: f"选项 {m['name']} 需要 {m['n']} 个值"),
    (r"Option (?P<name>'[^']*') does not take a value\.",
     lambda m: f"选项 {m['name']} 不带值"),
    (r"Argument (?P<name>'[^']*') takes (?P<n>\d+) values\.",
     lambda m: f"参数 {m['name']} 需要 {m['n']} 个值"),
]  # fmt: skip
"""Typer's other usage errors (``ctx.fail`` and the parser's)."""


def _translated(text: str, patterns: list[tuple[str, Any]]) -> str | None:
    for pattern, words in patterns:  # compiled on first use (re's cache): not at start-up
        match = re.fullmatch(pattern, text.strip())
        if match:
            return str(words(match))
    return None


def _hint(err: Any) -> str:
    """The option or argument the error is about, as click names it (``'--min-households'``)."""
    hint: Any = err.param_hint
    if hint is None and err.param is not None:
        hint = err.param.get_error_hint()
    if isinstance(hint, str) or hint is None:
        return hint or ""
    return " / ".join(repr(h) for h in hint)


def usage_error_zh(err: Exception) -> str:
    """The message of a usage error (Typer's click) in Chinese, without ``错误：``: the fixed
    phrases translated, option names, values and commands kept; a text Typer did not write (a
    command's own ``BadParameter``) is kept as it is."""
    if isinstance(err, errors.MissingParameter):
        kind = err.param_type or (err.param.param_type_name if err.param else "parameter")
        hint = _hint(err)
        return f"缺少{_KIND_ZH.get(kind, '参数')}" + (f" {hint}" if hint else "") + "。"
    if isinstance(err, errors.BadParameter):
        cause: Any = err.__cause__  # pydantic's ValidationError, where Typer coerced the value
        found = cause.errors() if hasattr(cause, "errors") else []
        said = (_pydantic_zh(found[0]) if found else None) or _translated(
            err.message, _VALUE_PATTERNS
        )
        message = said or err.message
        hint = _hint(err)
        return (f"{hint} 的值无效：" if hint else "值无效：") + message.rstrip("。.") + "。"
    if isinstance(err, errors.NoSuchOption):
        maybe = "、".join(sorted(err.possibilities or ()))
        return f"没有选项 {err.option_name}" + (f"（可用的有 {maybe}）" if maybe else "") + "。"
    said = _translated(getattr(err, "message", str(err)), _USAGE_PATTERNS)
    if said is None:
        return str(getattr(err, "message", err))
    return said if said.endswith("？") else f"{said}。"


def show_usage_error(err: Any, command: str = "gridmap") -> None:
    """Print ``错误：…`` and the hint to ``--help`` (of the error's command, else ``command``)
    on stderr."""
    command = err.ctx.command_path if err.ctx is not None else command
    typer.echo(f"错误：{usage_error_zh(err)}\n可用 {command} --help 查看用法。", err=True)


class LanguageGroup(TyperGroup):
    """``gridmap``'s group: click's usage errors in Chinese under ``--lang zh`` (the default);
    under ``--lang en`` as Typer says them."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: Any = None, **extra: Any) -> Any:  # fmt: skip
        lang = lang_of(args)
        LogLanguage.lang = lang
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except errors.UsageError as err:
            _refuse(err, lang)
        ctx.meta[_META] = lang
        return ctx

    def invoke(self, ctx: Any) -> Any:
        words = [*ctx._protected_args, *ctx.args]  # click's invoke takes them off ctx
        try:
            return super().invoke(ctx)
        except errors.UsageError as err:
            _refuse(err, ctx.meta.get(_META, "zh"), self._command_path(ctx, words))

    def _command_path(self, ctx: Any, words: list[str]) -> str:
        """The command ``words`` name below ``ctx`` (``gridmap plan partition``): the parser's
        errors (an option without its value) carry no context of their own."""
        path, command = [ctx.command_path], cast(Any, self)
        for word in words:
            found = command.get_command(ctx, word) if hasattr(command, "get_command") else None
            if word.startswith("-") or found is None:
                break
            path.append(word)
            command = found
        return " ".join(path)


def _refuse(err: Any, lang: str, command: str = "gridmap") -> NoReturn:
    """Say a usage error in Chinese and exit (2), or let Typer say it (English, or help)."""
    if lang != "zh" or isinstance(err, errors.NoArgsIsHelpError):
        raise err
    show_usage_error(err, command)
    raise typer.Exit(err.exit_code)


class LogLanguage(logging.Formatter):
    """On a console handler: a log record carrying Chinese words (``extra={"zh": …}``, with the
    same ``%`` placeholders as its English) is printed in Chinese when the command line is.

    It formats a copy of the record through the handler's own formatter: the record itself, which
    every other handler (a log file, pytest's capture) gets too, keeps its English.
    """

    lang = "zh"
    """The language of the command line being run (set by :class:`LanguageGroup`)."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        zh = getattr(record, "zh", None)
        if zh and self.lang == "zh":
            record = logging.makeLogRecord({**record.__dict__, "msg": zh})
        return self.inner.format(record)

    @classmethod
    def install(cls, handlers: Sequence[logging.Handler]) -> None:
        """Let each of ``handlers`` format through a LogLanguage around its formatter (once)."""
        for handler in handlers:
            if not isinstance(handler.formatter, cls):
                handler.setFormatter(cls(handler.formatter))
