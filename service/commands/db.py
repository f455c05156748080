"""``gridmap db status|upgrade|backup``: the store around an upgrade of gridmap.

Every other command migrates the store it opens to this gridmap's schema without a word; these
let an administrator see first and act on purpose. ``status`` reads (it never migrates: an old
store shows as old): where the store is, its schema revision against this gridmap's newest,
whether the data key in use is the store's, and its records by kind
(:func:`service.storage.inspection.inspect_store`). ``upgrade`` migrates and says from which
revision to which; a store written by a newer gridmap is refused. ``backup`` copies a SpatiaLite
file with SQLite's online backup API (consistent while the service writes); a PostGIS store is
refused with the ``pg_dump`` command to run instead. Output in ``--lang`` (Chinese by default);
unusable input exits with status 2 and one line. The store is imported when a command runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gridmap.errors import ErrorTexts
from service.commands.options import DB, LANG, unreachable_reason, without_password

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from service.storage.inspection import Place, StoreFacts

__all__ = ["db_app", "DB_ERRORS"]

db_app = typer.Typer(
    help="The store around an upgrade: status (read only), upgrade, backup.",
    no_args_is_help=True,
)

DB_ERRORS = ErrorTexts.catalogue("service.commands", "db_errors.toml")
"""The refusals of ``gridmap db`` in English and Chinese (catalogue ``db_errors.toml``)."""


# --------------------------------------------------------------------------- helpers
@contextmanager
def _errors(lang: str) -> Iterator[None]:
    """``--lang`` checked first; a GridmapError inside prints one line in it and exits 2."""
    from service.commands.planfiles import check_lang, exit_on_error

    check_lang(lang)
    with exit_on_error():
        yield


@contextmanager
def _engine(db: str | None, *, spatial: bool) -> Iterator[Engine]:
    """An engine on the store at ``db``, not migrated; a SQLite file must exist (none is made),
    a server must answer."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from service.settings import Settings, normalise_database_url
    from service.storage.session import make_engine

    try:
        settings = Settings()
        url = normalise_database_url(db or settings.database_url)
        database = make_url(url).database
    except Exception as exc:  # a bad URL or setting: one line, no traceback
        shown = without_password(db) if db else "(default)"
        raise DB_ERRORS.error("cannot_open", db=shown, reason=without_password(str(exc))) from None
    if url.startswith("sqlite") and database not in (None, "", ":memory:"):
        path = Path(str(database)).expanduser()
        if not path.is_file():
            raise DB_ERRORS.error("no_store_file", path=path)
    engine = make_engine(url, settings=settings, spatial=spatial)
    try:
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as exc:  # unreachable server, not a database file …
            where = engine.url.render_as_string(hide_password=True)
            raise DB_ERRORS.error("cannot_open", db=where, reason=unreachable_reason(exc)) from None
        yield engine
    finally:
        engine.dispose()


def _say(line: str) -> None:
    from service.commands.plans import stdout_console

    stdout_console().print(line, highlight=False, markup=False, soft_wrap=True)


def _zh(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _place(place: Place, lang: str) -> str:
    if place.backend == "spatialite":
        return _zh(lang, f"SpatiaLite file {place.path}", f"SpatiaLite 文件 {place.path}")
    server = place.host + (f":{place.port}" if place.port else "")
    return _zh(lang, f"PostGIS {server}, database {place.database}, schema {place.schema}",
               f"PostGIS {server}，数据库 {place.database}，模式 {place.schema}")  # fmt: skip


def _revision(facts: StoreFacts, lang: str) -> str:
    rev, head = facts.revision or _zh(lang, "none (empty store)", "无（空数据库）"), facts.head
    if facts.state == "current":
        return _zh(lang, f"{rev}: up to date", f"{rev}：已是最新")
    if facts.state == "behind":
        return _zh(lang, f"{rev}, this gridmap's is {head}: needs upgrade (gridmap db upgrade)",
                   f"{rev}，本 gridmap 为 {head}：需要升级（gridmap db upgrade）")  # fmt: skip
    return _zh(lang, f"{rev}, this gridmap's newest is {head}: newer than this gridmap",
               f"{rev}，本 gridmap 最新为 {head}：比本 gridmap 新")  # fmt: skip


def _key(facts: StoreFacts, lang: str) -> str:
    mine, stored = facts.key_fingerprint, facts.store_fingerprint
    if facts.key == "matches":
        return _zh(lang, f"matches the store (fingerprint {mine})", f"与数据库一致（指纹 {mine}）")
    if facts.key == "wrong" and stored:
        return _zh(lang, f"does not match: the key in use is {mine}, the store's is {stored}",
                   f"不一致：当前密钥指纹为 {mine}，数据库的为 {stored}")  # fmt: skip
    if facts.key == "wrong":
        return _zh(lang, f"does not match: the key in use ({mine}) does not decrypt the stored "
                   "values", f"不一致：当前密钥（{mine}）无法解密已存的数据")  # fmt: skip
    if facts.key == "missing":
        written = stored or _zh(lang, "(not recorded)", "（未记录）")
        return _zh(lang, f"no key set (GRIDMAP_DATA_KEY or GRIDMAP_DATA_KEY_FILE), but the store "
                   f"holds data written with key {written}",
                   f"未设置密钥（GRIDMAP_DATA_KEY 或 GRIDMAP_DATA_KEY_FILE），但数据库中有用密钥 "
                   f"{written} 写入的数据")  # fmt: skip
    if mine:
        return _zh(lang, f"none recorded yet (no personal data): the key in use ({mine}) is "
                   "recorded on first use",
                   f"尚未记录（无个人数据）：首次使用时记录当前密钥（{mine}）")  # fmt: skip
    return _zh(lang, "none recorded yet (no personal data), no key set: one is made on first use",
               "尚未记录（无个人数据），也未设置密钥：首次使用时生成")  # fmt: skip


_KINDS = {"community": ("communities", "社区"), "building": ("buildings", "楼栋"),
          "household": ("households", "住户"), "person": ("persons", "人员"),
          "staff": ("staff", "工作人员"), "grid": ("grids", "网格"),
          "plan:published": ("plans, published", "方案（已发布）"),
          "plan:draft": ("plans, draft", "方案（草稿）"),
          "plan:superseded": ("plans, superseded", "方案（已被替代）")}  # fmt: skip
"""The words of the counted records (:func:`inspect_store`'s keys)."""


def _print_status(facts: StoreFacts, lang: str) -> None:
    from rich.table import Table

    from service.commands.plans import stdout_console

    store = Table(title=_zh(lang, "Store", "数据库"), title_justify="left", show_header=False)
    store.add_column()
    store.add_column()
    store.add_row(_zh(lang, "backend", "后端"), _place(facts.place, lang))
    store.add_row(_zh(lang, "schema revision", "结构版本"), _revision(facts, lang))
    store.add_row(_zh(lang, "data key", "数据密钥"), _key(facts, lang))
    records = Table(title=_zh(lang, "Records", "记录"), title_justify="left")
    records.add_column(_zh(lang, "kind", "类别"))
    records.add_column(_zh(lang, "count", "数量"), justify="right")
    for kind, (en, zh) in _KINDS.items():
        count = facts.counts.get(kind)
        records.add_row(_zh(lang, en, zh), "—" if count is None else str(count))
    out = stdout_console()
    out.print(store)
    out.print(records)


# --------------------------------------------------------------------------- commands
@db_app.command("status")
def status(db: str | None = DB, lang: str = LANG) -> None:
    """Show the store: where, schema revision, data key, records (reads only).

    Where the store is, its schema revision against this gridmap's newest, whether the data key
    in use is the store's, and its records by kind. It never migrates: an old store shows old.
    """
    from service.storage.inspection import inspect_store

    with _errors(lang), _engine(db, spatial=False) as engine:
        facts = inspect_store(engine)
    _print_status(facts, lang)


@db_app.command("upgrade")
def upgrade(db: str | None = DB, lang: str = LANG) -> None:
    """Migrate the store to this gridmap's schema, saying from which revision to which.

    One transaction; a store already up to date is left alone, one written by a newer gridmap
    is refused.
    """
    from service.storage.migrate import current_revision, refuse_newer, upgrade_database

    with _errors(lang), _engine(db, spatial=True) as engine:
        before = current_revision(engine)
        state, head = refuse_newer(before)  # a store written by a newer gridmap: store_newer
        if state == "current":
            _say(_zh(lang, f"The store is at revision {head}, this gridmap's newest: nothing "
                     "to do.", f"数据库已是最新的结构版本 {head}，无需升级。"))  # fmt: skip
            return
        after = upgrade_database(engine)
    start = before or _zh(lang, "none (empty store)", "无（空数据库）")
    _say(_zh(lang, f"Upgraded the store from revision {start} to {after}.",
             f"已将数据库的结构版本从 {start} 升级到 {after}。"))  # fmt: skip


@db_app.command("backup")
def backup(
    file: Path = typer.Argument(..., help="The copy to write (a new file).", dir_okay=False),
    db: str | None = DB,
    lang: str = LANG,
) -> None:
    """Copy a SpatiaLite store to FILE (PostGIS: use pg_dump).

    SQLite's online backup API makes one consistent copy while the service may be using the
    store. A PostGIS store is refused with the pg_dump command to run instead.
    """
    import sqlean

    from service.storage.inspection import backup_spatialite, pg_dump_command, store_place

    file = file.expanduser()
    with _errors(lang), _engine(db, spatial=False) as engine:
        place = store_place(engine)
        if place.backend == "postgis":
            raise DB_ERRORS.error("backup_postgis", schema=place.schema, database=place.database,
                                  command=pg_dump_command(place, str(file)))  # fmt: skip
        try:
            size = backup_spatialite(Path(place.path), file)
        except FileExistsError:
            raise DB_ERRORS.error("backup_exists", path=file) from None
        except (sqlean.Error, OSError) as exc:
            raise DB_ERRORS.error("backup_failed", path=file, reason=exc) from None
    _say(_zh(lang, f"Backed up {place.path} to {file} ({size:,} bytes).",
             f"已将 {place.path} 备份到 {file}（{size:,} 字节）。"))  # fmt: skip
