"""``gridmap plan``: partition, repair, list, show, compare, publish and export stored plans.

The store-side twin of ``gridmap partition`` / ``gridmap redistrict``: an office goes from
imported files to a published plan without a notebook. Every command takes ``--db URL``
(default ``GRIDMAP_DATABASE_URL``). Tables go to standard output, progress and problems to
standard error. Unusable input (unknown plan or community, nothing to repair) exits with
status 2 and one line saying what is wrong.

``plan partition`` and ``plan redistrict`` write each community's draft in its own transaction:
a failure in one community keeps the drafts saved before it, names the community and exits 2;
running the same command again keeps those drafts and saves only the missing ones. With
``--publish`` the drafts are published once all are saved, in ONE transaction (the district
switches at once, or not at all); ``plan publish`` also switches all its plans in one transaction.
Data libraries and the store are imported when a command runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from service.commands.options import (
    ASSIGNMENTS_OUT,
    COMMUNITY,
    DB,
    GROUP,
    LANG,
    OUT,
    SEED,
    BoundOptions,
    ReportOptions,
    RunOptions,
    option_groups,
)

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from gridmap.problems import Problem

__all__ = ["plan_app", "stdout_console"]

plan_app = typer.Typer(
    help="Plans in the store: partition, redistrict, list, show, diff, publish, export.",
    no_args_is_help=True,
)


# --------------------------------------------------------------------------- helpers
def _fail(en: str, zh: str) -> typer.Exit:
    """Print one error line in the command's ``--lang`` (``error: en`` or ``错误：zh``); the
    caller raises the returned Exit (status 2)."""
    from gridmap.errors import GridmapError
    from service.commands.planfiles import console, error_line

    line = error_line(GridmapError(en, zh=zh))
    console.print(line, highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code=2)


@contextmanager
def _store(db: str | None, lang: str | None = None) -> Iterator[Any]:
    """Open the store at ``db`` (``lang``, when given, checked first); a GridmapError anywhere
    inside exits 2 with its message (in ``--lang``: the store's refusals are written in both,
    :data:`STORE_ERRORS`)."""
    from gridmap.errors import GridmapError
    from service.analyst import open_store
    from service.commands.planfiles import check_lang

    if lang is not None:
        check_lang(lang)
    from service.commands.options import without_password
    from service.commands.planfiles import console, error_line

    try:
        store = open_store(db)
    except GridmapError as exc:  # a store this gridmap cannot use (newer, another key): why
        console.print(error_line(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    except Exception as exc:  # bad URL, unreachable server: one line, no traceback
        shown = without_password(db) if db else None
        raise _fail(f"cannot open the store {shown or '(default)'}: {without_password(str(exc))}",
                    f"无法打开数据库 {shown or '（默认）'}；请检查 --db 给的地址（或环境变量 "
                    "GRIDMAP_DATABASE_URL），以及数据库服务是否在运行。") from None  # fmt: skip
    try:
        yield store
    except GridmapError as exc:  # in --lang where the error is written in Chinese too
        console.print(error_line(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    finally:
        store.close()


def _bounds(plan: Any) -> tuple[int, int]:
    """The household bounds a stored plan was made with (its params, else the defaults)."""
    from service.storage.plans import plan_bounds

    return plan_bounds(plan.info.get("params"))


def _unique_problems(problems: Sequence[Problem]) -> list[Problem]:
    """``problems`` without repeats (same kind, grid and text), in order."""
    seen: set[tuple[str, str | None, str, str]] = set()
    out_: list[Problem] = []
    for p in problems:
        key = (p.kind, p.grid_code, p.message, p.message_zh)
        if key not in seen:
            seen.add(key)
            out_.append(p)
    return out_


def _show_problems(problems: Sequence[Problem], report: ReportOptions) -> None:
    from service.commands.planfiles import console, print_problems

    problems, lang = _unique_problems(problems), report.lang
    if report.problems_out is not None or problems:
        if problems:
            console.print("问题：" if lang == "zh" else "Problems:", highlight=False, markup=False)
        print_problems(problems, lang, verbose=report.verbose, problems_out=report.problems_out)


def stdout_console() -> Console:
    """Console of standard output; wide enough for whole rows when it is not a terminal."""
    from rich.console import Console

    console_ = Console()
    return console_ if console_.is_terminal else Console(width=200)


_ZH = {
    "plans saved": "已保存的方案", "plans repaired": "修复后的方案", "community": "社区",
    "plan": "方案", "from plan": "原方案", "status": "状态", "grids": "网格数", "kept": "未变",
    "changed": "调整", "flagged": "超出范围", "households moved": "调整户数", "grid": "网格",
    "buildings": "楼栋数", "households": "户数", "households now": "现有户数",
    "status now": "现状态", "new buildings": "新增楼栋", "draft": "草稿", "published": "已发布",
    "ok": "正常",
    "under_min": "低于下限", "over_max": "超过上限",
    "unchanged (nothing saved)": "无需调整（未保存）",
    "no grids (nothing saved)": "无网格（未保存）",
    "plans": "方案", "id": "编号", "source": "来源", "created": "创建时间", "name": "名称",
    "partition": "划分", "redistrict": "修复", "import": "导入", "superseded": "已被替代",
    "before": "原网格", "after": "新网格", "households before": "原户数",
    "households after": "新户数", "boundary moved": "边界变动", "status after": "新状态",
    "yes": "是", "grids before and after": "网格前后对比",
    "buildings that change grid": "调整网格的楼栋", "building": "楼栋", "from": "原网格",
    "to": "新网格",
}  # fmt: skip
"""Chinese for the words of the tables printed with ``--lang zh``."""


def _word(text: str, lang: str) -> str:
    return _ZH.get(text, text) if lang == "zh" else text


def _table(title: str, frame: pd.DataFrame, right: Sequence[str] = (), lang: str = "en") -> None:
    import pandas as pd
    from rich.table import Table

    table = Table(title=_word(title, lang), title_justify="left")
    for column in frame.columns:
        justify: Literal["right", "left"] = "right" if column in right else "left"
        table.add_column(_word(str(column), lang), justify=justify)
    for row in frame.itertuples(index=False):
        table.add_row(*["" if pd.isna(v) else _word(str(v), lang) for v in row])
    stdout_console().print(table)


def _when(value: Any) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _check_bounds(lo: int, hi: int) -> None:
    """Exit 2 unless ``lo``–``hi`` are usable household bounds."""
    from gridmap.constraints import household_bounds
    from gridmap.errors import InputError

    try:
        household_bounds(lo, hi)
    except InputError as exc:
        option = "--min-households/--max-households"
        raise _fail(f"{option}: {exc}", f"{option}：{exc.message('zh')}") from None


def _codes(store: Any, communities: list[str]) -> list[str]:
    """The community codes asked for (checked), or every stored community."""
    from service.storage.errors import NotFoundError, store_error

    if communities:
        for code in communities:
            try:
                store.load_community(code)
            except NotFoundError:  # said in --lang (exit 2)
                raise store_error("no_community", community_code=code) from None
        return list(dict.fromkeys(communities))
    return store.communities()["community_code"].astype(str).tolist()


# --------------------------------------------------------------------------- partition
@plan_app.command("partition")
@option_groups
def partition_plans(
    db: str | None = DB,
    community: list[str] = COMMUNITY,
    bounds: BoundOptions = GROUP,
    run: RunOptions = GROUP,
    publish: bool = typer.Option(False, "--publish", help="Publish the new plans."),
    name: str | None = typer.Option(None, "--name", help="Name of the new plans."),
    report: ReportOptions = GROUP,
) -> None:
    """Partition stored communities (default: all, in parallel) and save one draft plan each.

    One transaction per community's draft (a failure keeps the drafts saved before it; run again
    to save the rest); with --publish, all are published in ONE transaction once all are saved.
    """
    import pandas as pd

    from service.commands.planfiles import community_progress
    from service.storage.errors import store_error

    lang = report.lang
    report.check()  # --lang and --problems, before any plan is made or saved
    _check_bounds(bounds.min_households, bounds.max_households)
    with _store(db) as store:
        codes = _codes(store, community)
        if not codes:
            raise store_error("no_communities")
        params = bounds.kwargs()
        with community_progress("partition", len(codes)) as step:
            result = store.partition_many(community or None, n_jobs=run.processes(len(codes)),
                                          progress=step, scheduler=run.scheduler,
                                          **params)  # fmt: skip
        planned = [c for c in codes if (result.grids["community_code"] == c).any()]
        ids = store.save_drafts(dict.fromkeys(planned, result), publish=publish, name=name,
                                params=dict.fromkeys(planned, params))  # fmt: skip
    grids = result.grids
    rows = [
        {"community": c, "plan": ids[c], "status": "published" if publish else "draft",
         "grids": int((grids["community_code"] == c).sum()),
         "flagged": int(((grids["community_code"] == c) & (grids["status"] != "ok")).sum())}
        for c in planned
    ]  # fmt: skip
    for c in codes:
        if c not in planned:
            rows.append({"community": c, "plan": "", "status": "no grids (nothing saved)"})
    _table("plans saved", pd.DataFrame(rows), right=("plan", "grids", "flagged"), lang=lang)
    _show_problems(result.problems, report)


# --------------------------------------------------------------------------- redistrict
@plan_app.command("redistrict")
@option_groups
def redistrict_plans(
    db: str | None = DB,
    community: list[str] = COMMUNITY,
    min_households: int | None = typer.Option(
        None, "--min-households", help="Default: the published plan's own bounds."
    ),
    max_households: int | None = typer.Option(None, "--max-households"),
    seed: int = SEED,
    publish: bool = typer.Option(False, "--publish", help="Publish the repaired plans."),
    name: str | None = typer.Option(None, "--name", help="Name of the new plans."),
    report: ReportOptions = GROUP,
) -> None:
    """Repair the published plans against the buildings and households stored now.

    One transaction per repaired draft (run again after a failure to save the rest); with
    --publish, all are published in ONE transaction once all are saved.
    """
    import pandas as pd

    from service.commands.planfiles import community_progress, console
    from service.storage.errors import store_error

    lang = report.lang
    report.check()  # --lang and --problems, before any plan is made or saved
    if min_households is not None or max_households is not None:
        _check_bounds(min_households or 0, max_households or 10**9)
    with _store(db) as store:
        codes = _codes(store, community)
        overview = store.plan_overview()
        published = overview[overview["status"] == "published"].set_index("community_code")
        missing = [c for c in codes if c not in published.index]
        if community and missing:
            raise store_error("nothing_to_redistrict", codes=missing)
        codes = [c for c in codes if c in published.index]
        if not codes:
            raise store_error("none_published")
        results, params, same = {}, {}, []
        with community_progress("redistrict", len(codes)) as step:
            for code in codes:
                current = store.load_published_plan(code)
                lo, hi = _bounds(current)
                lo, hi = min_households or lo, max_households or hi
                results[code] = store.redistrict(code, min_households=lo, max_households=hi,
                                                 seed=seed)  # fmt: skip
                if _unchanged(results[code], current):
                    same.append(code)
                else:
                    params[code] = {"min_households": lo, "max_households": hi, "seed": seed,
                                    "from_plan": current.id}  # fmt: skip
                step(code)
        changed = {c: r for c, r in results.items() if c not in same}
        ids = store.save_drafts(changed, publish=publish, name=name, params=params)
    rows = []
    for code in codes:
        r = changed.get(code)
        row = {"community": code, "from plan": int(published.at[code, "id"])}
        if r is None:
            row.update({"plan": "", "status": "unchanged (nothing saved)"})
        else:
            row.update({"plan": ids[code], "status": "published" if publish else "draft",
                        "grids": len(r.grids), "kept": len(r.kept_grids),
                        "changed": len(r.changed_grids),
                        "flagged": int((r.grids["status"] != "ok").sum()),
                        "households moved": r.households_moved})  # fmt: skip
        rows.append(row)
    right = ("from plan", "plan", "grids", "kept", "changed", "flagged", "households moved")
    _table("plans repaired", pd.DataFrame(rows), right=right, lang=lang)
    if same:
        text = (f"{len(same)}个已发布方案无需调整：{'、'.join(same)}。" if lang == "zh" else
                f"{len(same)} published plan(s) left as they are (the repair changes nothing): "
                f"{', '.join(same)}.")  # fmt: skip
        console.print(text, highlight=False, markup=False, soft_wrap=True)
    all_problems = [p for r in results.values() for p in r.problems]
    _show_problems(all_problems, report)


def _unchanged(result: Any, current: Any) -> bool:
    """Whether a repair leaves the published plan as it is (same grids, buildings, counts)."""
    if result.changed_grids or len(result.moved) or result.new_buildings:
        return False
    if result.removed_buildings:
        return False
    now = result.grids.set_index("grid_code")["households"].astype(int).sort_index()
    then = current.grids.set_index("grid_code")["households"].astype(int).sort_index()
    return now.index.equals(then.index) and bool((now == then).all())


# --------------------------------------------------------------------------- list / show
@plan_app.command("list")
def list_plans(
    db: str | None = DB,
    community: str | None = typer.Option(None, "--community", help="Only this community."),
    lang: str = LANG,
) -> None:
    """Plans with their grids and the grids outside the bounds with the CURRENT households."""
    import pandas as pd

    from service.commands.planfiles import console

    with _store(db, lang) as store:
        plans = store.plan_overview(community)
    if plans.empty:
        where = f"社区{community}" if lang == "zh" and community else f" of community {community}"
        none = ("暂无方案" if lang == "zh" else "no plans") + (where if community else "")
        stdout_console().print(none, highlight=False, markup=False)
        return
    frame = pd.DataFrame({
        "id": plans["id"], "community": plans["community_code"], "status": plans["status"],
        "source": plans["source"], "grids": plans["grids"], "flagged": plans["flagged"],
        "created": plans["created_at"].map(_when), "name": plans["name"],
    })  # fmt: skip
    _table("plans", frame, right=("id", "grids", "flagged"), lang=lang)
    broken = plans[(plans["status"] == "published") & (plans["flagged"] > 0)]
    if len(broken):
        n_grids, n_plans = int(broken["flagged"].sum()), len(broken)
        text = (
            f"{n_plans}个已发布方案中有{n_grids}个网格按现有户数已超出范围"
            "（`gridmap plan show 方案编号` 列出这些网格）；`gridmap plan redistrict` 可在数据"
            "允许时修复。"
            if lang == "zh"
            else f"{n_grids} grid(s) of {n_plans} published plan(s) are outside the household "
            "bounds now (`gridmap plan show ID` lists them); `gridmap plan redistrict` repairs "
            "them where the data allows."
        )
        console.print(text, highlight=False, markup=False, soft_wrap=True)


@plan_app.command("show")
@option_groups
def show_plan(
    plan_id: int = typer.Argument(..., help="Plan id (see `gridmap plan list`)."),
    db: str | None = DB,
    report: ReportOptions = GROUP,
) -> None:
    """A plan's grids with their households (in the plan and now) and status, and its problems."""
    lang = report.lang
    report.check()
    with _store(db) as store:
        plan = store.load_plan(plan_id)
        status = store.grid_status(plan_id)
        problems = store.plan_problems(plan_id)
    info = plan.info
    lo, hi = _bounds(plan)
    name = info.get("name")
    if lang == "zh":
        head = (f"方案{plan_id}：社区{info['community_code']}，{_word(info['status'], lang)}，"
                f"来源 {_word(info['source'], lang)}，创建于 {_when(info['created_at'])}，"
                f"每格{lo}–{hi}户"
                + (f"，名称 {name}" if name else ""))  # fmt: skip
    else:
        head = (f"plan {plan_id}: community {info['community_code']}, {info['status']}, "
                f"{info['source']}, created {_when(info['created_at'])}, bounds {lo}–{hi} "
                "households" + (f", name {name}" if name else ""))  # fmt: skip
    stdout_console().print(head, highlight=False, markup=False)
    frame = plan.grids[["grid_code", "buildings", "households"]].merge(
        status[["grid_code", "households_now", "new_buildings", "status_now"]],
        on="grid_code", how="left",
    )  # fmt: skip
    frame.columns = ["grid", "buildings", "households", "households now", "new buildings",
                     "status now"]  # fmt: skip
    if not frame["new buildings"].any():
        frame = frame.drop(columns="new buildings")
    title = f"方案{plan_id}的网格" if lang == "zh" else f"grids of plan {plan_id}"
    right = ("buildings", "households", "households now", "new buildings")
    _table(title, frame, right=right, lang=lang)
    _show_problems(problems, report)


# --------------------------------------------------------------------------- diff
@plan_app.command("diff")
def diff_plans(
    plan_a: int = typer.Argument(..., help="The plan before."),
    plan_b: int = typer.Argument(..., help="The plan after."),
    db: str | None = DB,
    match: str = typer.Option(
        "auto",
        "--match",
        help="Pair grids by code, by shared households (overlap), or auto: by code when plan B "
        "is a repair of a plan, else by overlap.",
    ),
    lang: str = LANG,
) -> None:
    """Per grid before/after, and the buildings and households that change grid."""
    import pandas as pd

    from gridmap.plans.compare import MATCH_CODE, MATCH_OVERLAP
    from service.commands.planfiles import check_lang
    from service.storage.errors import store_error

    check_lang(lang)
    if match not in ("auto", MATCH_CODE, MATCH_OVERLAP):
        raise _fail(f"--match must be auto, code or overlap, not {match!r}.",
                    f"--match 只能是 auto（自动）、code（按编号）或 overlap（按共有户数），"
                    f"不能是“{match}”。")  # fmt: skip
    with _store(db) as store:
        a, b = store.load_plan(plan_a), store.load_plan(plan_b)
        code = str(a.info["community_code"])
        if code != str(b.info["community_code"]):
            raise store_error("different_communities", plan_a=plan_a, plan_b=plan_b,
                              code_a=code, code_b=str(b.info["community_code"]))  # fmt: skip
        if match == "auto":
            match = MATCH_CODE if b.info["source"] == "redistrict" else MATCH_OVERLAP
        lo, hi = _bounds(b)
        diff = store.compare(a, b, code=code, match=match, min_households=lo,
                             max_households=hi)  # fmt: skip
    s = diff.summary()
    paired = {MATCH_CODE: "按编号", MATCH_OVERLAP: "按共有户数"}.get(match, match)
    text = (
        f"方案{plan_a} → 方案{plan_b}（社区{code}，网格{paired}配对）：网格 {s['grids_before']} → "
        f"{s['grids_after']} 个，{s['boundaries_moved']}处边界变动；{s['buildings_moved']}栋楼、"
        f"{s['households_moved']}户调整网格（占{diff.households_total}户的{s['share_moved']:.1%}）。"
        if lang == "zh"
        else f"plan {plan_a} → {plan_b} (community {code}, grids paired by {match}): "
        f"{s['grids_before']} → {s['grids_after']} grids, {s['boundaries_moved']} boundaries "
        f"moved; {s['buildings_moved']} building(s) and {s['households_moved']} household(s) "
        f"change grid ({s['share_moved']:.1%} of {diff.households_total})."
    )
    stdout_console().print(text, highlight=False, markup=False, soft_wrap=True)
    g = diff.grids.copy()
    frame = pd.DataFrame({
        "before": g["grid_before"], "after": g["grid_after"],
        "households before": g["households_before"].astype("Int64"),
        "households after": g["households_after"].astype("Int64"),
        "boundary moved": g["boundary_moved"].map({True: "yes", False: ""}),
        "status after": g["status_after"],
    })  # fmt: skip
    _table("grids before and after", frame, right=("households before", "households after"),
           lang=lang)  # fmt: skip
    if len(diff.moved):
        moved = diff.moved.rename(columns={"building_id": "building", "from_grid": "from",
                                           "to_grid": "to"})  # fmt: skip
        _table("buildings that change grid", moved, right=("households",), lang=lang)


# --------------------------------------------------------------------------- publish / export
@plan_app.command("publish")
def publish_plans(
    plan_ids: list[int] = typer.Argument(..., help="Plan ids (one per community)."),
    db: str | None = DB,
    lang: str = LANG,
) -> None:
    """Publish plans (all in one transaction); each community's previous plan becomes history."""
    from service.storage.errors import store_error

    with _store(db, lang) as store:
        infos = {pid: store.load_plan(pid).info for pid in dict.fromkeys(plan_ids)}
        by_community: dict[str, list[int]] = {}
        for pid, info in infos.items():
            by_community.setdefault(str(info["community_code"]), []).append(pid)
        twice = {c: ids for c, ids in by_community.items() if len(ids) > 1}
        if twice:
            code, ids = next(iter(twice.items()))
            raise store_error("one_per_community", plan_ids=ids, community_code=code)
        before = store.plan_overview()
        store.publish_many(list(infos))
    was = before[before["status"] == "published"].set_index("community_code")["id"]
    for pid, info in infos.items():
        code = str(info["community_code"])
        old = was.get(code)
        superseded = old is not None and old != pid
        if lang == "zh":
            state = "原已发布" if old == pid else "已发布"
            note = f"（方案{old}已被替代）" if superseded else ""
            line = f"方案{pid}（社区{code}）：{state}{note}"
        else:
            state = "already published" if old == pid else "published"
            note = f" (plan {old} superseded)" if superseded else ""
            line = f"plan {pid} of community {code}: {state}{note}"
        stdout_console().print(line, highlight=False, markup=False)


@plan_app.command("export")
def export_plan(
    plan_id: int = typer.Argument(..., help="Plan id."),
    to: Path = OUT,
    assignments: Path | None = ASSIGNMENTS_OUT,
    db: str | None = DB,
    lang: str = LANG,
) -> None:
    """Write a plan as ``gridmap partition`` does: the grids (GeoJSON, GeoPackage with the plan's
    problems, Shapefile or GeoParquet) and the building→grid assignment."""
    import numpy as np

    from gridmap.constraints import household_bounds
    from gridmap.crs import projected_crs_for
    from gridmap.geometry.metrics import polsby_popper
    from gridmap.plans.partition import GRID_COLUMNS
    from service.commands.planfiles import (
        check_output_suffixes,
        check_outputs,
        console,
        tables_said,
        write_plan,
    )

    with _store(db, lang) as store:
        check_outputs(to, assignments)  # before any work: no grids file left half the output
        check_output_suffixes(to, assignments)
        plan = store.load_plan(plan_id)
        problems = _unique_problems(store.plan_problems(plan_id))
    grids = plan.grids.copy()
    bounds = household_bounds(*_bounds(plan))
    grids["status"] = [bounds.status(h) for h in grids["households"]]
    projected = grids.geometry.to_crs(projected_crs_for(grids)) if len(grids) else grids.geometry
    grids["polsby_popper"] = np.round(polsby_popper(np.asarray(projected.values)), 4)
    _, tables = write_plan(grids, GRID_COLUMNS, plan.assignments, out=to,
                           assignments_out=assignments, problems=problems)  # fmt: skip
    if lang == "zh":
        written = f"方案{plan_id}的{len(grids)}个网格已写入 {to}"
        if assignments is not None:
            written += f"，{len(plan.assignments)}栋楼的所属网格写入 {assignments}"
    else:
        written = f"{len(grids)} grids of plan {plan_id} written to {to}"
        if assignments is not None:
            written += f", {len(plan.assignments)} building assignments to {assignments}"
    console.print(f"{written}{tables_said(tables, lang)}{'。' if lang == 'zh' else '.'}",
                  highlight=False, markup=False, soft_wrap=True)  # fmt: skip
