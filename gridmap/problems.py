"""Problems of a plan: what a community worker should know, in plain words (English and Chinese).

A :class:`Problem` is one thing to know about one grid (or community); a :class:`PlanProblem`
is one found while a community is planned, before its grids have codes. Every message is
written here, by a ``*_message`` function returning :data:`Words` (English, Chinese).
:func:`merge_problems` makes one problem per community, grid and kind (no repeats);
:func:`report_lines` turns them into the lines a person reads, with routine notices (a street
block without households joined to its neighbour) counted in one summary line unless
``verbose``; :func:`problems_table` is the same report as a table (columns
:data:`TABLE_COLUMNS`) and :func:`write_problems_csv` writes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gridmap.spreadsheet import safe_frame
from gridmap.streets import UNNAMED_STREET

__all__ = [
    "Problem",
    "PlanProblem",
    "Words",
    "SEVERITIES",
    "TABLE_COLUMNS",
    "merge_problems",
    "report_lines",
    "problems_table",
    "write_problems_csv",
    "street_list",
]

SEVERITIES = ("warning", "info", "routine")
"""``warning``: a grid outside the bounds or records left out, to act on; ``info``: a choice
explained (a street crossed, a compound split); ``routine``: expected, summarised by default."""

_SEVERITY = {
    "under_min": "warning",
    "over_max": "warning",
    "infeasible": "warning",
    "unbalanced": "warning",
    "unrepaired": "warning",
    "outside": "warning",
    "no_buildings": "warning",
    "street_crossed": "info",
    "compound_split": "info",
    "street_through_building": "info",
    "detached_part": "info",
    "boundary_parts_dropped": "info",
    "footprint_repaired": "info",
}

TABLE_COLUMNS = ["community", "grid", "kind", "severity", "households", "streets", "compounds",
                 "message_zh", "message_en"]  # fmt: skip
"""Columns of :func:`problems_table` and of the ``--problems`` CSV."""


@dataclass(frozen=True)
class Problem:
    """Something a community worker should know about a plan.

    Attributes
    ----------
    kind : str
        ``under_min``, ``over_max``, ``infeasible``, ``unbalanced``, ``street_crossed``,
        ``compound_split``, ``no_buildings``, ``outside``, ``street_through_building``,
        ``detached_part``, ``boundary_parts_dropped`` or ``footprint_repaired`` (redistrict
        adds ``unrepaired``).
    message : str
        Plain-words explanation and what would fix it (English).
    community_code, grid_code : str or None
    building_ids : tuple of str
    message_zh : str
        The same explanation in Chinese, for community workers (empty if none was written).
    severity : str
        One of :data:`SEVERITIES`; by default from ``kind``.
    households : int or None
        Households of the grid (or of the part concerned) where known.
    streets, compounds : tuple of str
        Names of the streets and ids of the compounds concerned.
    """

    kind: str
    message: str
    community_code: str | None = None
    grid_code: str | None = None
    building_ids: tuple[str, ...] = ()
    message_zh: str = ""
    severity: str = ""
    households: int | None = None
    streets: tuple[str, ...] = ()
    compounds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", _SEVERITY.get(self.kind, "info"))

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``); English when no Chinese exists."""
        return self.message_zh if lang == "zh" and self.message_zh else self.message


Words = tuple[str, str]
"""A message in English and in Chinese."""

Label = int | tuple[int, ...] | None
"""The local label of the grid a :class:`PlanProblem` is about, the labels of several, or none."""


@dataclass(frozen=True)
class PlanProblem:
    """A problem found while planning one community, about grids known only by local label.

    Its words are written by :meth:`problem` once the grids have codes: ``words`` is one of the
    ``*_message`` functions of this module, called with ``facts`` and ``grid=`` (the code of
    ``label``) or ``grids=`` (the codes of a tuple of labels).

    Examples
    --------
    >>> p = PlanProblem("unbalanced", unbalanced_message, {"households": 520, "lo": 300,
    ...                 "hi": 500}, label=0)
    >>> p.relabel(lambda x: x + 2).problem({2: "520602001001003"}).message[:44]
    'Grid 520602001001003 has 520 households, out'
    """

    kind: str
    words: Callable[..., Words]
    facts: Mapping[str, Any] = field(default_factory=dict)
    label: Label = None
    building_ids: tuple[str, ...] = ()
    severity: str = ""
    streets: tuple[str, ...] = ()

    def relabel(self, new: Callable[[int], int | None]) -> PlanProblem:
        """The same problem with each label ``x`` as ``new(x)`` (dropped where ``None``)."""
        if isinstance(self.label, tuple):
            mapped = (new(x) for x in self.label)
            return dataclasses.replace(self, label=tuple(x for x in mapped if x is not None))
        if self.label is None:
            return self
        return dataclasses.replace(self, label=new(self.label))

    def problem(self, code_of: Mapping[int, str]) -> Problem:
        """The :class:`Problem`, worded with the grid codes ``code_of[label]``."""
        code = None
        if isinstance(self.label, tuple):
            grids = [code_of[x] for x in self.label if x in code_of]
            en, zh = self.words(**self.facts, grids=grids)
            code = grids[0] if grids else None
        elif self.label is not None:
            code = code_of.get(self.label)
            en, zh = self.words(**self.facts, grid=code or "")
        else:
            en, zh = self.words(**self.facts)
        return Problem(self.kind, en, grid_code=code, building_ids=self.building_ids,
                       message_zh=zh, severity=self.severity, streets=self.streets)  # fmt: skip


def merge_problems(problems: Iterable[Problem]) -> list[Problem]:
    """One problem per community, grid and kind, in first-seen order; exact repeats dropped.

    Different messages of the same grid and kind are joined into one; ids, streets and
    compounds are united; the most severe severity wins.

    Examples
    --------
    >>> a = Problem("street_crossed", "A.", "c", "g1", message_zh="甲。")
    >>> b = Problem("street_crossed", "B.", "c", "g1", message_zh="乙。")
    >>> [(p.message, p.message_zh) for p in merge_problems([a, a, b])]
    [('A. B.', '甲。乙。')]
    """
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.community_code, p.grid_code, p.kind), []).append(p)
    return [_merge(ps) for ps in groups.values()]


def _merge(ps: list[Problem]) -> Problem:
    if len(ps) == 1:
        return ps[0]
    first = ps[0]
    return dataclasses.replace(
        first,
        message=" ".join(dict.fromkeys(p.message for p in ps if p.message)),
        message_zh="".join(dict.fromkeys(p.message_zh for p in ps if p.message_zh)),
        building_ids=tuple(dict.fromkeys(i for p in ps for i in p.building_ids)),
        streets=tuple(dict.fromkeys(s for p in ps for s in p.streets)),
        compounds=tuple(dict.fromkeys(c for p in ps for c in p.compounds)),
        severity=min((p.severity for p in ps), key=_rank),
        households=next((p.households for p in ps if p.households is not None), None),
    )


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def report_lines(problems: Iterable[Problem], lang: str = "zh", verbose: bool = False) -> list[str]:
    """The lines a person reads: one per grid and kind, warnings first, no repeats.

    Routine notices are counted in one closing line unless ``verbose`` lists them.

    Examples
    --------
    >>> ps = [Problem("over_max", "Grid g is big.", "c", "g", message_zh="网格g过大。"),
    ...       Problem("street_crossed", "R.", "c", "h", message_zh="例行。", severity="routine")]
    >>> report_lines(ps)
    ['网格g过大。', '另有1条常规说明未列出（如无住户街区并入邻格），加 --verbose 可列出。']
    >>> report_lines(ps, "en", verbose=True)
    ['Grid g is big.', 'R.']
    """
    merged = sorted(merge_problems(problems), key=lambda p: _rank(p.severity))
    shown = [p for p in merged if verbose or p.severity != "routine"]
    lines = list(dict.fromkeys(p.text(lang) for p in shown))
    hidden = len(merged) - len(shown)
    if hidden:
        lines.append(
            f"另有{hidden}条常规说明未列出（如无住户街区并入邻格），加 --verbose 可列出。"
            if lang == "zh"
            else f"{hidden} routine notice(s) not listed (such as a street block without "
            "households joined to a neighbouring grid); add --verbose to list them."
        )
    return lines


def problems_table(problems: Iterable[Problem]) -> pd.DataFrame:
    """The problems as a table, one row per community, grid and kind (:data:`TABLE_COLUMNS`).

    Examples
    --------
    >>> t = problems_table([Problem("over_max", "Big.", "c", "g", ("b1",), "大。", households=600)])
    >>> t[["grid", "kind", "severity", "households", "message_zh"]].values.tolist()
    [['g', 'over_max', 'warning', 600, '大。']]
    """
    rows = [
        {
            "community": p.community_code or "",
            "grid": p.grid_code or "",
            "kind": p.kind,
            "severity": p.severity,
            "households": p.households,
            "streets": "; ".join(p.streets),
            "compounds": "; ".join(p.compounds),
            "message_zh": p.message_zh,
            "message_en": p.message,
        }
        for p in sorted(merge_problems(problems), key=lambda p: _rank(p.severity))
    ]
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    frame["households"] = frame["households"].astype("Int64")
    return frame


def write_problems_csv(problems: Sequence[Problem], path: Path | str) -> pd.DataFrame:
    """Write :func:`problems_table` as UTF-8 CSV (with BOM, for Excel); formula-like cells
    are neutralised. Returns the table written."""
    table = problems_table(problems)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_frame(table).to_csv(path, index=False, encoding="utf-8-sig")
    return table


def street_list(pieces: Sequence[tuple[str, float]], lang: str, limit: int = 4) -> str:
    """Streets as words: named streets with their length, unnamed ones counted together.

    ``pieces`` are ``(name, metres)`` pairs (``""`` for no name), repeats allowed.

    Examples
    --------
    >>> p = [("中山路", 30.0), ("中山路", 12.0), ("", 8.0), ("", 5.0)]
    >>> street_list(p, "zh")
    '中山路（42米）、未命名道路（2处，共13米）'
    >>> street_list(p, "en")
    '中山路 (42 m), unnamed streets (2 places, 13 m)'
    """
    named: dict[str, float] = {}
    unnamed, unnamed_m = 0, 0.0
    for name, metres in pieces:
        if name:
            named[name] = named.get(name, 0.0) + metres
        else:
            unnamed, unnamed_m = unnamed + 1, unnamed_m + metres
    order = sorted(named.items(), key=lambda kv: -kv[1])
    more = max(0, len(order) - limit)
    zh = lang == "zh"
    words = [f"{n}（{m:.0f}米）" if zh else f"{n} ({m:.0f} m)" for n, m in order[:limit]]
    if more:
        words.append(f"另{more}条道路" if zh else f"{more} more street(s)")
    if unnamed == 1:
        words.append(
            f"{UNNAMED_STREET['zh']}（{unnamed_m:.0f}米）"
            if zh
            else f"{UNNAMED_STREET['en']} ({unnamed_m:.0f} m)"
        )
    elif unnamed:
        words.append(
            f"{UNNAMED_STREET['zh']}（{unnamed}处，共{unnamed_m:.0f}米）"
            if zh
            else f"unnamed streets ({unnamed} places, {unnamed_m:.0f} m)"
        )
    return ("、" if zh else ", ").join(words)


def _ids(ids: list[str], limit: int = 10, sep: str = ", ") -> str:
    return sep.join(ids[:limit]) + (
        f" …（共{len(ids)}栋）"
        if sep == "、" and len(ids) > limit
        else f" … ({len(ids)} in all)"
        if len(ids) > limit
        else ""
    )


def outside_message(ids: list[str]) -> Words:
    """Buildings outside every community."""
    return (
        f"{len(ids)} building(s) lie outside every community and were not assigned to a grid: "
        f"{_ids(ids)}. Check their location or add the missing community boundary.",
        f"有{len(ids)}栋楼不在任何社区范围内，未分配网格：{_ids(ids, sep='、')}。"
        "请核对楼栋位置，或补充缺失的社区边界。",
    )


_FOOTPRINT_FAULTS = {
    "crosses": ("crosses or touches itself", "自相交"),
    "hole_outside": ("has a hole outside its outline", "有内洞落在外轮廓之外"),
    "few_points": ("has too few points to enclose ground", "点数太少，围不成面"),
    "invalid": ("is not a valid polygon", "不是有效的面"),
}
"""What is wrong with a footprint made valid, by reason (:func:`footprint_repaired_message`)."""


def footprint_repaired_message(reason: str, ids: list[str]) -> Words:
    """Invalid footprints made valid before the cells were cut around them (``reason`` a key
    of :data:`_FOOTPRINT_FAULTS`).

    Examples
    --------
    >>> footprint_repaired_message("crosses", ["B7"])[1]
    '楼栋 B7 的轮廓自相交，已按原覆盖范围修正后划分。请在原图层中改正轮廓。'
    """
    en, zh = _FOOTPRINT_FAULTS[reason]
    return (
        f"The footprint of building(s) {_ids(ids)} {en}; it was made valid, keeping the ground "
        "it covers, before the grids were drawn. Correct the outline in the source layer.",
        f"楼栋 {_ids(ids, sep='、')} 的轮廓{zh}，已按原覆盖范围修正后划分。请在原图层中改正轮廓。",
    )


def boundary_parts_message(code: str) -> Words:
    """A community drawn as a collection: its points and lines left out."""
    return (
        f"The boundary of community {code} holds points or lines beside its polygons (a "
        "geometry collection); they were left out and the community was planned from its "
        "polygons. Keep only the polygons in the source layer.",
        f"社区 {code} 的边界中的点和线已略去，按其中的面划分网格。请在原图层中只保留面。",
    )


def over_max_message(ids: list[str], households: int, hi: int, *, grid: str) -> Words:
    """A building above the maximum forms its own grid."""
    names = ", ".join(ids)
    return (
        f"Building {names} has {households} households, more than the maximum of {hi} for one "
        f"grid; it forms grid {grid} on its own. Make it a dedicated grid (专属网格) or split it "
        "by stairwell (单元) if one worker cannot serve it.",
        f"楼栋{names}有{households}户，超过每个网格{hi}户的上限，单独划为网格{grid}。"
        "可设为专属网格；如一名网格员服务不过来，可按单元拆分。",
    )


def no_buildings_message(code: str, *, grid: str) -> Words:
    """A part of a community without households."""
    return (
        f"Part of community {code} has no buildings with households; it forms grid {grid} with "
        "0 households. Check whether buildings are missing there, or merge it by hand.",
        f"社区{code}有一块区域没有住户楼栋，划为0户的网格{grid}。请核对是否漏录楼栋，或手工并入相邻网格。",
    )


def under_min_message(code: str, total: int, lo: int, whole: bool, *, grid: str) -> Words:
    """A community (or a separate part) below the minimum is one grid."""
    if whole:
        return (
            f"Community {code} has only {total} households, fewer than the minimum of {lo}; it "
            f"forms one grid {grid}. Merge it with a neighbouring grid by hand if that suits.",
            f"社区{code}仅有{total}户，不足{lo}户，整体划为一个网格（{grid}）。如合适，可手工与相邻网格合并。",
        )
    return (
        f"A separate part of community {code} has only {total} households, fewer than the "
        f"minimum of {lo}; it forms grid {grid} on its own. Merge it with a neighbouring grid "
        "by hand if that suits the community.",
        f"社区{code}的一块独立区域仅有{total}户，不足{lo}户，单独划为网格{grid}。如合适，可手工与相邻网格合并。",
    )


def infeasible_message(code: str, total: int, lo: int, hi: int) -> Words:
    """No number of grids of ``lo``–``hi`` adds up to ``total``."""
    return (
        f"Community {code} (or a separate part of it) has {total} households: no number of "
        f"grids of {lo}–{hi} households adds up to that, so some grids are outside the range. "
        "Adjust the range or the boundary.",
        f"社区{code}（或其中一块独立区域）共有{total}户，无论划为几个网格，都无法使每格在{lo}–{hi}户之间，"
        "部分网格超出范围。可调整户数范围或社区边界。",
    )


def unbalanced_message(households: int, lo: int, hi: int, *, grid: str) -> Words:
    """A grid left outside the bounds by chunky buildings."""
    return (
        f"Grid {grid} has {households} households, outside {lo}–{hi}: the buildings and "
        "compounds there are too large to combine into balanced grids (for example several "
        "towers that only fit two to a grid). Check the household counts of the large "
        "buildings or adjust the range.",
        f"网格{grid}有{households}户，不在{lo}–{hi}户之间：附近楼栋和小区户数较大，无法组合成均衡的网格"
        "（例如几栋高层只能两栋一格）。请核对大楼栋的户数，或调整户数范围。",
    )


def _why(reason: str, households: int, lo: int, hi: int) -> Words:
    """Why a street block was joined across a street (``reason`` is a Merge kind)."""
    return {
        "small": (
            f"the street block on one side has only {households} households, fewer than the "
            f"minimum of {lo}, so it cannot form a grid on its own",
            f"街道一侧的街区仅有{households}户，不足{lo}户，无法单独成为网格",
        ),
        "awkward": (
            f"the street block on one side has {households} households, which no number of "
            f"grids of {lo}–{hi} households adds up to",
            f"街道一侧的街区有{households}户，无论划为几个网格都无法使每格在{lo}–{hi}户之间",
        ),
        "empty": (
            "the street block on one side has no households and must belong to some grid",
            "街道一侧的街区没有住户，须并入某个网格",
        ),
        "compound": (
            "a compound (小区) that fits in one grid lies on both sides of it",
            "一个可整体划入一格的小区跨街道两侧",
        ),
        "unbalanced": (
            f"the buildings of the street block on one side ({households} households) could not "
            f"be combined into grids of {lo}–{hi} households on their own",
            f"街道一侧街区的楼栋（共{households}户）单独无法组合成{lo}–{hi}户的网格",
        ),
    }[reason]


def crossing_message(
    streets_en: str,
    streets_zh: str,
    reasons: Sequence[tuple[str, int]],
    lo: int,
    hi: int,
    *,
    grid: str,
) -> Words:
    """A grid crossing streets, with every distinct reason (``(Merge kind, households)``).

    Reasons of one kind are told once, with the households of each street block listed.

    Examples
    --------
    >>> en, zh = crossing_message("Main St (5 m)", "中山路（5米）",
    ...                           [("small", 20), ("small", 9), ("empty", 0)], 300, 500,
    ...                           grid="520602001001003")
    >>> zh
    '网格520602001001003跨越了中山路（5米）：街道一侧的街区仅有20户、9户，不足300户，无法单独成为网格；街道一侧的街区没有住户，须并入某个网格，因此在街道最短处与相邻街区合并。'
    """
    by_kind: dict[str, list[int]] = {}
    for kind, hh in reasons:
        by_kind.setdefault(kind, [])
        if hh not in by_kind[kind]:
            by_kind[kind].append(hh)
    whys = [_why_many(kind, hhs, lo, hi) for kind, hhs in by_kind.items()]
    why_en = "; ".join(w[0] for w in whys)
    why_zh = "；".join(w[1] for w in whys)
    return (
        f"Grid {grid} crosses {streets_en or 'a street'}: {why_en}. It was joined to its "
        "neighbour where the street frontage is shortest.",
        f"网格{grid}跨越了{streets_zh or '一条道路'}：{why_zh}，因此在街道最短处与相邻街区合并。",
    )


def _why_many(kind: str, households: list[int], lo: int, hi: int) -> Words:
    """:func:`_why` for one kind and the households of one or more street blocks."""
    if len(households) <= 1 or kind not in ("small", "awkward", "unbalanced"):
        return _why(kind, households[0] if households else 0, lo, hi)
    shown = households[:6]
    more_en = f" and {len(households) - 6} more" if len(households) > 6 else ""
    more_zh = f"等{len(households)}个街区" if len(households) > 6 else ""
    en_list = ", ".join(str(h) for h in shown) + more_en
    zh_list = "、".join(f"{h}户" for h in shown) + more_zh
    return {
        "small": (
            f"street blocks on one side have only {en_list} households, fewer than the minimum "
            f"of {lo}, so they cannot form grids on their own",
            f"街道一侧的街区仅有{zh_list}，不足{lo}户，无法单独成为网格",
        ),
        "awkward": (
            f"street blocks on one side have {en_list} households, which no number of grids of "
            f"{lo}–{hi} households adds up to",
            f"街道一侧的街区有{zh_list}，无论划为几个网格都无法使每格在{lo}–{hi}户之间",
        ),
        "unbalanced": (
            f"the buildings of street blocks on one side ({en_list} households) could not be "
            f"combined into grids of {lo}–{hi} households on their own",
            f"街道一侧街区的楼栋（{zh_list}）单独无法组合成{lo}–{hi}户的网格",
        ),
    }[kind]


def through_building_message(
    streets_en: str, streets_zh: str, ids: list[str], *, grid: str
) -> Words:
    """Streets given as boundaries pass through buildings that a grid line now cuts."""
    return (
        f"{streets_en} pass(es) through building(s) {_ids(ids)} of grid {grid}, so the grid "
        "line along the street cuts their footprint. If the street runs under the buildings "
        "(a passage or tunnel), mark it with tunnel=yes or boundary=false in the street layer.",
        f"{streets_zh}穿过网格{grid}的楼栋{_ids(ids, sep='、')}，沿道路的网格边界切过了这些楼栋。"
        "如道路从楼下穿过（门洞、隧道），请在道路图层的“是否边界”列填“否”。",
    )


def detached_part_message(code: str, area_m2: float, distance_m: float, *, grid: str) -> Words:
    """A detached part of a community without households joined the nearest grid."""
    return (
        f"A detached part of community {code} without households (about {area_m2:,.0f} m², "
        f"{distance_m:,.0f} m away) was joined to grid {grid}, the nearest grid, instead of "
        "forming an empty grid.",
        f"社区{code}有一块不相连且没有住户的区域（约{area_m2:.0f}平方米，相距{distance_m:.0f}米），"
        f"已并入最近的网格{grid}，不单独成为空网格。",
    )


def compound_split_message(
    compound: str, households: int, broken: int, lo: int, hi: int, *, grids: Sequence[str]
) -> Words:
    """A compound that fits in one grid had to be split between ``grids``."""
    n, en, zh = len(grids), ", ".join(grids), "、".join(grids)
    return (
        f"Compound (小区) {compound} with {households} households is split between {n} "
        f"grids ({en}): kept whole, a grid next to it had {broken} households, outside "
        f"{lo}–{hi}, and no balanced plan kept every compound whole.",
        f"小区{compound}（{households}户）被分到{n}个网格（{zh}）：若整体保留，相邻网格将有"
        f"{broken}户，不在{lo}–{hi}户之间，无法在保持小区完整的同时使网格均衡。",
    )


# Re-districting: the grids already have codes, so the messages name them directly.


def repair_over_max_message(ids: list[str], households: int, hi: int, *, grid: str) -> Words:
    """A building above the maximum is a grid of its own after a repair (in English as
    :func:`over_max_message` says it)."""
    return (
        over_max_message(ids, households, hi, grid=grid)[0],
        f"楼栋 {'、'.join(ids)} 有 {households} 户，超过每个网格 {hi} 户的上限，"
        f"单独成为网格 {grid}。可设为专属网格，或按单元拆分后再划分。",
    )


def repair_under_min_message(
    community: str, total: int, lo: int, households: int, *, grid: str
) -> Words:
    """A community below the minimum after a repair."""
    return (
        f"Community {community} has only {total} households, fewer than the minimum of "
        f"{lo}; grid {grid} holds {households} of them. Merge it with a neighbouring grid "
        "by hand if that suits the community, or lower the minimum.",
        f"社区 {community} 仅有 {total} 户，少于每个网格 {lo} 户的下限；"
        f"网格 {grid} 有 {households} 户。可与相邻网格合并，或降低下限。",
    )


def repair_infeasible_message(
    community: str, total: int, lo: int, hi: int, households: int, status: str, *, grid: str
) -> Words:
    """No number of grids of ``lo``–``hi`` adds up to the community's ``total``."""
    return (
        f"Community {community} has {total} households: no number of grids of {lo}–{hi} "
        f"households adds up to that, so grid {grid} has {households} ({status}). Adjust "
        "the range or the boundary.",
        f"社区 {community} 共 {total} 户，无法分成若干个 {lo}–{hi} 户的网格，"
        f"网格 {grid} 有 {households} 户。请调整户数范围或社区边界。",
    )


def unrepaired_message(households: int, status: str, lo: int, hi: int, *, grid: str) -> Words:
    """A grid that moving buildings could not bring within the bounds."""
    return (
        f"Grid {grid} has {households} households ({status}) and could not be brought within "
        f"{lo}–{hi} by moving buildings between grids: check the household counts of its "
        "large buildings and compounds, adjust the range, or run a fresh partition.",
        f"网格 {grid} 有 {households} 户，无法通过调整楼栋回到 {lo}–{hi} 户：请核对"
        "大楼栋和小区的户数，调整户数范围，或重新划分。",
    )


def repair_split_message(community: str, ids: list[str], lo: int, hi: int) -> Words:
    """Compounds whole in one grid before a repair and split between grids after it."""
    return (
        f"In community {community} compound(s) {', '.join(ids)} (小区) had to be split "
        f"between grids: kept whole, they left grids outside {lo}–{hi} households.",
        f"社区 {community} 的小区 {'、'.join(ids)} 不得不拆分到多个"
        f"网格：若保持完整，部分网格会超出 {lo}–{hi} 户的范围。",
    )


def repair_crossing_message(
    pieces: Sequence[tuple[str, float]], lo: int, hi: int, *, grid: str
) -> Words:
    """A grid that a repair took across a street (``pieces`` as for :func:`street_list`)."""
    return (
        f"Grid {grid} now crosses {street_list(pieces, 'en')}: no repair that keeps every "
        f"grid within its street blocks brought the grids around it within {lo}–{hi} "
        "households, so buildings across the street joined it.",
        f"网格 {grid} 跨越了{street_list(pieces, 'zh')}：在不跨街道的前提下无法"
        f"使附近网格回到 {lo}–{hi} 户，因此将街道对面的楼栋并入该网格。",
    )
