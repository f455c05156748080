"""Errors of the store (no heavy import: the user commands and the web layer catch them); plain
words in the catalogue ``store_errors.toml`` beside this module, words computed from the values
here.

:data:`STORE_ERRORS` (an :class:`~gridmap.errors.ErrorTexts`) words, in English and Chinese,
the store's refusals an office meets through ``gridmap plan …`` and ``gridmap import``: a
community or plan that is not stored, two plans of one community published together, plans of
different communities compared, no published plan to repair, grid codes not of the community,
unusable building edits; import options that do not fit together, values too long for the
store, records naming a community the import left out, persons whose households are not
stored; and what stops an import while it writes (:class:`~gridmap.errors.ImportAborted`: ids
already stored, references to records neither imported nor stored, required values missing, a
database refusal, records both deleted and in the file, communities still in use).
``store_error(code, **values)`` makes the error (``str(err)`` English, ``err.message("zh")``
Chinese); each names the record and how to fix it. :func:`says_nothing_written` tells by an
error's kind and code whether its words say that nothing was written.

Examples
--------
>>> err = store_error("no_plan", plan_id=9999)
>>> str(err)
'Plan 9999 not found; list the plans with `gridmap plan list` (or list_plans()).'
>>> err.message("zh")
'找不到方案 9999；可用 gridmap plan list 列出已有的方案。'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gridmap.errors import (
    ErrorTexts,
    GridmapError,
    ImportAborted,
    Words,
    quoted,
)
from gridmap.io.notes import entity_word
from gridmap.io.readerrors import column_word

__all__ = ["NotFoundError", "STORE_ERRORS", "store_error", "says_nothing_written"]


class NotFoundError(GridmapError, LookupError):
    """A record asked for (community, plan, grid, user, order …) is not in the store."""


STORE_ERRORS = ErrorTexts.catalogue("service.storage", "store_errors.toml", kinds=(NotFoundError,))
"""The store's refusals in English and Chinese (:class:`~gridmap.errors.ErrorTexts`)."""


_SHOWN = 10
"""Ids named in a message at most."""


def _en(items: Iterable[object]) -> str:
    return ", ".join(map(str, items))


def _zh(items: Iterable[object]) -> str:
    return "、".join(map(str, items))


# --- gridmap import: options and records the store cannot take ----------------------------------


def _entities_zh(entities: Iterable[str]) -> str:
    return "、".join(entity_word(e, "zh") for e in entities)


@STORE_ERRORS.prepared("import_unknown_entities", "replace_unknown")
def _entity_choice(
    known: Sequence[str], **named: Sequence[str]
) -> tuple[dict[str, object], dict[str, str]]:
    """Entities given that are none of ``known`` (one value: ``unknown`` or ``entities``), and
    the choices, in Chinese with their names (楼栋 …)."""
    [(name, given)] = named.items()
    return ({name: list(given), "known": list(known)},
            {name: quoted(given), "known": f"{_zh(known)}（{_entities_zh(known)}）"})  # fmt: skip


@STORE_ERRORS.worded("replace_without_file")
def _replace_without_file(entities: Sequence[str]) -> Words:
    return (f"--replace {_en(entities)}: give that layer's file too; it replaces the stored "
            "layer whole.",
            f"--replace {_zh(entities)}：请同时给出该类数据（{_entities_zh(entities)}）的文件，"
            "它将整层替换数据库中的记录。")  # fmt: skip


@STORE_ERRORS.worded("too_long_for_store")
def _too_long_for_store(items: Sequence[tuple[str, str, str, str]], n: int) -> Words:
    """``items``: (entity, record, column, limit) with limit ``"N"`` characters or ``"lo..hi"``."""

    def limit(text: str, lang: str) -> str:
        if ".." in text:
            return f"the range {text}" if lang == "en" else f"范围 {text}"
        return f"{text} characters" if lang == "en" else f"{text} 个字符"

    shown = list(items)[:_SHOWN]
    more = " …" if n > len(shown) else ""
    en = "; ".join(f"{e} {i}: {c} ({limit(x, 'en')})" for e, i, c, x in shown)
    zh = "；".join(f"{entity_word(e, 'zh')} {i}：{column_word(c, 'zh')}（{limit(x, 'zh')}）"
                  for e, i, c, x in shown)  # fmt: skip
    return (f"{n} id(s), reference(s) or required value(s) too long for the store: {en}{more}. "
            "Shorten them.",
            f"有 {n} 个编号、关联编号或必填值超出数据库能存的长度：{zh}{more}。"
            "请改短。")  # fmt: skip


@STORE_ERRORS.worded("communities_left_out")
def _communities_left_out(left_out: Sequence[tuple[str, Words, str, Sequence[str], int]]) -> Words:
    """``left_out``: (community code, why it was left out in English and Chinese, the entity of
    the records naming it, their labels, how many), a line each."""
    en, zh = [], []
    for code, (why_en, why_zh), entity, labels, n in left_out:
        shown = [str(i) for i in list(labels)[:_SHOWN]]
        more_en, more_zh = (f" … ({n} in all)", f" 等 {n} 条") if n > len(shown) else ("", "")
        en.append(f"community {code} was left out ({why_en}); {n} {entity_word(entity, 'en')} "
                  f"name it: {_en(shown)}{more_en}.")  # fmt: skip
        zh.append(f"社区 {code} 未导入（{why_zh}）；有 {n} 条{entity_word(entity, 'zh')}记录属于"
                  f"该社区：{_zh(shown)}{more_zh}。")  # fmt: skip
    return "\n".join(en) + " Nothing was written.", "\n".join(zh) + "未写入任何内容。"


# --- gridmap import: what the store refuses while writing (ImportAborted: nothing written) -------


def _listing(items: Sequence[object], n: int | None = None) -> tuple[str, str]:
    """The first :data:`_SHOWN` of ``items`` (``n`` in all) in English and in Chinese."""
    shown = [str(i) for i in list(items)[:_SHOWN]]
    more = " …" if (len(items) if n is None else n) > len(shown) else ""
    return _en(shown) + more, _zh(shown) + more


_TABLE_ZH = {"plan": "方案", "staff_grid": "人员分管网格"}


def _table_zh(table: str) -> str:
    """A store table (an entity's, or a plan's …) in Chinese."""
    return _TABLE_ZH.get(table) or entity_word(table, "zh")


def _ids_zh(table: str) -> str:
    """What the ids of a store table are called in Chinese: 社区代码, 楼栋编号 …"""
    return "社区代码" if table == "community" else f"{_table_zh(table)}编号"


@STORE_ERRORS.prepared("already_stored", "repeated_in_file", "deleted_and_in_file")
def _table_ids(table: str, ids: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Ids of a store table refused: the first :data:`_SHOWN`, the table named in Chinese and
    what its ids are called (``id_name``: 楼栋编号 …)."""
    en, zh = _listing(ids)
    return ({"table": table, "ids": en},
            {"table": _table_zh(table), "id_name": _ids_zh(table), "ids": zh})  # fmt: skip


@STORE_ERRORS.worded("unknown_references", ImportAborted)
def _unknown_references(table: str, column: str, target: str, records: Sequence[str], n: int,
                        missing: Sequence[str]) -> Words:  # fmt: skip
    en, zh = _listing(records, n)
    gone_en, gone_zh = _listing(sorted(missing))
    word = column_word(column, "zh")
    return (f"{n} {table} record(s) ({en}) name a {column} that is neither in this import nor "
            f"in the store ({gone_en}); nothing was written. Import the {target} records first "
            f"or fix the {column} values.",
            f"{n} 条{entity_word(table, 'zh')}记录（{zh}）的{word}（{gone_zh}）既不在本次导入中，"
            f"也不在数据库中；未写入任何内容。请先导入{entity_word(target, 'zh')}，或改正"
            f"{word}。")  # fmt: skip


@STORE_ERRORS.worded("required_missing", ImportAborted)
def _required_missing(table: str, column: str, records: Sequence[str], n: int) -> Words:
    en, zh = _listing(records, n)
    word = column_word(column, "zh")
    return (f"Import rolled back, nothing was written: {n} {table} record(s) ({en}) have no "
            f"{column}, which the store requires. Fill it in.",
            f"导入已回滚，未写入任何内容：{n} 条{entity_word(table, 'zh')}记录（{zh}）没有"
            f"{word}，这是必填项。请补上。")  # fmt: skip


_DB_KIND_ZH = {"IntegrityError": "违反数据库约束", "DataError": "数据值不合数据库要求",
               "OperationalError": "数据库操作失败", "UniqueViolation": "编号重复",
               "NotNullViolation": "缺少必填值", "ForeignKeyViolation": "关联的记录不存在",
               "CheckViolation": "违反检查约束", "StringDataRightTruncation": "文字过长",
               "NumericValueOutOfRange": "数值超出范围"}  # fmt: skip
"""The database errors' classes (SQLAlchemy's, psycopg's) in Chinese."""
_CONSTRAINT_ZH = {"UNIQUE": "唯一约束", "FOREIGN KEY": "外键约束", "NOT NULL": "非空约束",
                  "CHECK": "检查约束"}  # fmt: skip


@STORE_ERRORS.worded("rolled_back", ImportAborted)
def _rolled_back(kind: str, table: str = "", constraint: str = "", failed: str = "") -> Words:
    """``kind``: the database error's class; ``failed``: SQLite's ``UNIQUE constraint failed``
    and the like (the database's messages may quote rows: only these are kept)."""
    en = [kind] + [f"{w} {v}" for w, v in (("table", table), ("constraint", constraint)) if v]
    zh = [_DB_KIND_ZH.get(kind, "数据库错误")]
    zh += [f"{w}{v}" for w, v in (("数据表 ", table), ("约束 ", constraint)) if v]
    if failed:
        en.append(failed)
        which = failed.removesuffix(" constraint failed")
        if which in _CONSTRAINT_ZH:  # else a message of SQLite's without Chinese: not repeated
            zh.append(f"{_CONSTRAINT_ZH[which]}不满足")
    return (f"Import rolled back, nothing was written: {'; '.join(en)}. Check the import report "
            "and the ids it names.",
            f"导入已回滚，未写入任何内容：数据库拒绝了写入（{'；'.join(zh)}）。请查看导入报告及其"
            "列出的编号。")  # fmt: skip


@STORE_ERRORS.worded("communities_in_use", ImportAborted)
def _communities_in_use(users: Sequence[tuple[str, int, str]]) -> Words:
    """``users``: (community code, how many, table referring to it)."""
    shown = list(users)[:_SHOWN]
    en = ", ".join(f"{code} ({n} {table})" for code, n, table in shown)
    zh = "、".join(f"{code}（{n} 个{_table_zh(table)}）" for code, n, table in shown)
    return (f"Communities still in use cannot be removed: {en}; nothing was written. Remove or "
            "move what refers to them first.",
            f"社区仍在使用，不能删除：{zh}；未写入任何内容。请先删除或移走引用这些社区的"
            "记录。")  # fmt: skip


store_error = STORE_ERRORS.error
"""``store_error(code, **values)``: the error ``code`` of :data:`STORE_ERRORS` worded with
``values``."""

_SAY_NOTHING_WRITTEN = frozenset(
    {"communities_left_out", "dry_run_needs_migration", "persons_without_households"}
)
"""The refusals before writing (InputError) whose words say that nothing was written."""


def says_nothing_written(err: GridmapError) -> bool:
    """Whether the words of ``err`` say already that nothing was written (a command's heading
    need not): every :class:`~gridmap.errors.ImportAborted` (the store rolled the import back)
    and the refusals of :data:`_SAY_NOTHING_WRITTEN`, by their code."""
    return isinstance(err, ImportAborted) or err.code in _SAY_NOTHING_WRITTEN
