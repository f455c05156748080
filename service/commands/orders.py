"""``gridmap orders``: list, show and move work orders (事项); overdue orders and statistics.

What an office scripts: ``gridmap orders overdue --escalate`` every hour, ``gridmap orders stats
--level community --csv 月报.csv`` every month. Every command takes ``--db URL`` (default
``GRIDMAP_DATABASE_URL``) and ``--lang zh|en`` (Chinese by default). Commands read with the
scope of ``--as USER`` (a service user); without it, with the whole store's (the office holds
the database). Moving an order needs ``--as``: the move is recorded under that user and checked
against their role. Reporter names and phones are never printed (only masked). Unusable input
exits with status 2 and one line; a move the flow refuses (illegal, or not for this role)
exits 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from service.commands.options import GROUP, option, option_groups, without_password

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.storage.auth import Principal
    from service.storage.orders import OrderPage

__all__ = ["orders_app"]

orders_app = typer.Typer(
    help="Work orders (事项): list, show, transition, overdue (escalate), stats.",
    no_args_is_help=True,
)
DB = typer.Option(None, "--db", help="Database URL (default: GRIDMAP_DATABASE_URL).")
LANG = typer.Option("zh", "--lang", help="Language of the output: zh (中文) or en.")
AS = typer.Option(None, "--as", help="Act and read as this service user (their role and scope).")
_HEAD = {
    "id": ("编号", "id"), "state": ("状态", "state"), "category": ("类别", "category"),
    "urgency": ("紧急程度", "urgency"), "community": ("社区", "community"),
    "grid": ("网格", "grid"), "submitted": ("提交时间", "submitted"),
    "due": ("办结期限", "due"), "overdue": ("超时", "overdue"),
    "claimed_by": ("接单人", "claimed by"), "when": ("时间", "when"), "who": ("办理人", "who"),
    "move": ("操作", "move"), "note": ("备注", "note"),
}  # fmt: skip
_OVERDUE = {"claim": ("未按时接单", "not claimed in time"),
            "close": ("未按时办结", "not closed in time")}  # fmt: skip


def _say(message: str) -> None:
    """A line for the person on standard error (tables go to standard output)."""
    typer.echo(message, err=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    _say(f"error: {message}")
    return typer.Exit(code=code)


def check_lang(lang: str) -> None:
    """Exit with status 2 unless ``lang`` is zh or en."""
    if lang not in ("zh", "en"):
        raise _fail(f"--lang must be zh or en, not {lang!r}.")


@contextmanager
def _session(db: str | None, as_user: str | None) -> Iterator[tuple[Session, Principal]]:
    """A transaction on the migrated store and the principal to act as; errors exit 2/3."""
    from gridmap.errors import GridmapError
    from gridmap.orders import TransitionError
    from service.storage.auth import Principal, principal_for
    from service.storage.migrate import upgrade_database
    from service.storage.session import make_engine, session_scope

    try:
        engine = make_engine(db)
        upgrade_database(engine)
    except Exception as exc:  # bad URL, unreachable server: one line, no traceback
        shown = without_password(db) if db else "(default)"
        raise _fail(f"cannot open the store {shown}: {without_password(str(exc))}") from None
    try:
        with session_scope(engine) as session:
            principal = Principal("office", "district_admin")
            if as_user:
                found = principal_for(session=session, username=as_user)
                if found is None:
                    raise _fail(f"no active user {as_user!r} (gridmap user list)")
                principal = found
            yield session, principal
    except TransitionError as exc:  # illegal, or not for this role or person
        raise _fail(str(exc), code=3) from None
    except GridmapError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()


@dataclass(frozen=True)
class _Reader:
    """Whom a command reads as (``--as``), in which store, in which language; ``--lang`` is
    checked first, before any other input."""

    as_user: str | None = option(AS)
    db: str | None = option(DB)
    lang: str = option(LANG)

    def __post_init__(self) -> None:
        check_lang(self.lang)

    def session(self) -> AbstractContextManager[tuple[Session, Principal]]:
        """:func:`_session` as this user, in this store."""
        return _session(self.db, self.as_user)


def _word(key: str, lang: str) -> str:
    zh, en = _HEAD.get(key, (key, key))
    return zh if lang == "zh" else en


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def _print_table(title: str, columns: list[str], rows: list[list[Any]], lang: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(_word(column, lang), justify="right" if column == "id" else "left")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    out = Console()
    (out if out.is_terminal else Console(width=200)).print(table)


def _category(code: str, lang: str) -> str:
    from gridmap.orders import DEFAULT_CATEGORIES

    for cat in DEFAULT_CATEGORIES:
        if cat.code == code:
            return cat.zh if lang == "zh" else cat.en
    return code


def _order_rows(views: list[Any], lang: str) -> list[list[Any]]:
    from gridmap.orders import label

    return [[v.id, label(v.state, lang), _category(v.category, lang), v.grid_code or "",
             _when(v.submitted_at), _when(v.close_due_at),
             _OVERDUE[v.overdue][lang != "zh"] if v.overdue else ""] for v in views]  # fmt: skip


_LIST_COLUMNS = ["id", "state", "category", "grid", "submitted", "due", "overdue"]


@orders_app.command("list")
@option_groups
def list_(
    state: list[str] = typer.Option([], "--state", help="Only this state (repeat)."),
    community: str | None = typer.Option(None, "--community", help="Only this community."),
    grid: str | None = typer.Option(None, "--grid", help="Only this grid."),
    overdue: bool = typer.Option(False, "--overdue", help="Only overdue orders."),
    limit: int = typer.Option(100, "--limit", min=1, max=500),
    reader: _Reader = GROUP,
) -> None:
    """Orders, newest first: state, category, grid, dates, overdue."""
    from service.storage import orders as store

    with reader.session() as (session, principal):
        page = store.list_orders(session, principal, states=state, community_code=community,
                                 grid_code=grid, overdue=True if overdue else None,
                                 limit=limit)  # fmt: skip
    _print_orders(page, "事项", "work orders", reader.lang)


def _print_orders(page: OrderPage, zh: str, en: str, lang: str) -> None:
    """A page of orders as a table titled ``zh`` or ``en`` with the number matched."""
    n = page.number_matched
    title = f"{zh}（共{n}件）" if lang == "zh" else f"{en} ({n})"
    _print_table(title, _LIST_COLUMNS, _order_rows(page.orders, lang), lang)


@orders_app.command("show")
@option_groups
def show(order_id: int = typer.Argument(..., help="Order id."), reader: _Reader = GROUP) -> None:
    """One order (reporter masked) and its history."""
    from gridmap.orders import label
    from service.storage import orders as store

    lang = reader.lang
    with reader.session() as (session, principal):
        view = store.get_order(session, principal, order_id=order_id)
        history = store.order_history(session, principal, order_id=order_id)
    zh = lang == "zh"
    place = f"{view.community_code} / {view.grid_code or '-'} ({view.lon:.6f}, {view.lat:.6f})"
    reporter = f"{view.reporter_name or '-'} {view.reporter_phone or ''}".strip()
    what = f"{view.id} · {label(view.state, lang)} · {_category(view.category, lang)}"
    deadlines = f"{_when(view.claim_due_at)} / {_when(view.close_due_at)}"
    lines = [(("事项", "order"), what), (("位置", "place"), place),
             (("反映人", "reporter"), reporter), (("内容", "description"), view.description),
             (("期限", "deadlines"), deadlines)]  # fmt: skip
    for (k_zh, k_en), value in lines:
        typer.echo(f"{k_zh if zh else k_en}: {value}")
    rows = [[_when(h.at), f"{label(h.from_state, lang) if h.from_state else ''} → "
             f"{label(h.to_state, lang)}" if h.kind == "transition" else h.kind,
             h.actor, h.note or ""] for h in history]  # fmt: skip
    _print_table("办理记录" if zh else "history", ["when", "move", "who", "note"], rows, lang)


@orders_app.command("transition")
def transition(
    order_id: int = typer.Argument(..., help="Order id."),
    to: str = typer.Argument(..., help="New state (accepted, dispatched, claimed, done …)."),
    as_user: str = typer.Option(..., "--as", help="The service user making the move."),
    note: str | None = typer.Option(None, "--note", help="Note (needed for done, declined …)."),
    assignee: str | None = typer.Option(None, "--assignee", help="Dispatch to this user/unit."),
    merged_into: int | None = typer.Option(None, "--merged-into", help="The duplicate's id."),
    db: str | None = DB,
    lang: str = LANG,
) -> None:
    """Move an order to its next state as a service user."""
    from gridmap.orders import label
    from service.storage import orders as store

    check_lang(lang)
    with _session(db, as_user) as (session, principal):
        view = store.transition_order(session, principal, order_id=order_id, to=to, note=note,
                                      assignee=assignee, merged_into=merged_into)  # fmt: skip
    text = (
        f"事项{view.id}：{label(view.state)}" if lang == "zh" else f"order {view.id}: {view.state}"
    )
    typer.echo(text)


@orders_app.command("overdue")
@option_groups
def overdue(
    escalate: bool = typer.Option(False, "--escalate", help="Escalate them to the community."),
    at: str | None = typer.Option(None, "--at", help="Clock (ISO 8601, default: now)."),
    reader: _Reader = GROUP,
) -> None:
    """Orders past their deadline; with --escalate, flag the new ones for the community admin."""
    from service.storage import orders as store

    lang, now = reader.lang, _parse_at(at)
    with reader.session() as (session, principal):
        escalated = store.escalate_overdue(session, principal, now=now) if escalate else []
        page = store.list_orders(session, principal, overdue=True, now=now, limit=500)
    _print_orders(page, "超时事项", "overdue orders", lang)
    if escalate:
        n = len(escalated)
        zh = lang == "zh"
        _say(f"本次上报社区{n}件" if zh else f"{n} order(s) escalated to the community admin now")


def _parse_at(at: str | None) -> dt.datetime | None:
    if at is None:
        return None
    try:
        value = dt.datetime.fromisoformat(at)
    except ValueError:
        raise _fail(f"--at {at!r} is not an ISO 8601 time (e.g. 2026-03-02T08:00+08:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@orders_app.command("stats")
@option_groups
def stats(
    level: str = typer.Option("grid", "--level", help="grid, community, subdistrict or staff."),
    csv: str | None = typer.Option(None, "--csv", help="Write the table to this CSV file."),
    reader: _Reader = GROUP,
) -> None:
    """Orders by state and category, median hours to claim/close, overdue share, ratings."""
    from gridmap.spreadsheet import safe_frame
    from service.storage import order_stats

    lang = reader.lang
    if level not in (*order_stats.STAT_LEVELS, "staff"):
        raise _fail(f"--level must be grid, community, subdistrict or staff, not {level!r}")
    with reader.session() as (session, principal):
        if level == "staff":
            frame = order_stats.staff_frame(session, principal)
        else:
            frame = order_stats.statistics_frame(session, principal, level=level)
    if csv:
        safe_frame(frame).to_csv(csv, index=False, encoding="utf-8-sig")
        _say(f"已写入 {csv}" if lang == "zh" else f"wrote {csv}")
        return
    keep = [c for c in frame.columns if not c.startswith(("state_", "category_"))]
    rows = frame[keep].astype(object).where(frame[keep].notna(), None).values.tolist()
    _print_table("事项统计" if lang == "zh" else "work-order statistics", keep, rows, lang)
