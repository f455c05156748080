"""Problems of a plan: what a community worker should know, in plain words (English and Chinese)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """Something a community worker should know about a plan.

    Attributes
    ----------
    kind : str
        ``under_min``, ``over_max``, ``infeasible``, ``unbalanced``, ``street_crossed``,
        ``compound_split``, ``no_buildings`` or ``outside``.
    message : str
        Plain-words explanation and what would fix it (English).
    community_code, grid_code : str or None
    building_ids : tuple of str
    message_zh : str
        The same explanation in Chinese, for community workers (empty if none was written).
    """

    kind: str
    message: str
    community_code: str | None = None
    grid_code: str | None = None
    building_ids: tuple[str, ...] = ()
    message_zh: str = ""

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``); English when no Chinese exists."""
        return self.message_zh if lang == "zh" and self.message_zh else self.message


def _ids(ids: list[str], limit: int = 10) -> str:
    return ", ".join(ids[:limit]) + (" …" if len(ids) > limit else "")


def outside_message(ids: list[str]) -> tuple[str, str]:
    """Buildings outside every community."""
    return (
        f"{len(ids)} building(s) lie outside every community and were not assigned to a grid: "
        f"{_ids(ids)}. Check their location or add the missing community boundary.",
        f"有{len(ids)}栋楼不在任何社区范围内，未分配网格：{_ids(ids)}。请核对楼栋位置，或补充缺失的社区边界。",
    )


def over_max_message(ids: list[str], households: int, hi: int) -> tuple[str, str]:
    """A building above the maximum forms its own grid (``{grid}`` is filled in later)."""
    names = ", ".join(ids)
    return (
        f"Building {names} has {households} households, more than the maximum of {hi} for one "
        "grid; it forms grid {grid} on its own. Make it a dedicated grid (专属网格) or split it "
        "by stairwell (单元) if one worker cannot serve it.",
        f"楼栋{names}有{households}户，超过每个网格{hi}户的上限，单独划为网格{{grid}}。"
        "可设为专属网格；如一名网格员服务不过来，可按单元拆分。",
    )


def no_buildings_message(code: str) -> tuple[str, str]:
    """A part of a community without households."""
    return (
        f"Part of community {code} has no buildings with households; it forms grid {{grid}} with "
        "0 households. Check whether buildings are missing there, or merge it by hand.",
        f"社区{code}有一块区域没有住户楼栋，划为0户的网格{{grid}}。请核对是否漏录楼栋，或手工并入相邻网格。",
    )


def under_min_message(code: str, total: int, lo: int, whole: bool) -> tuple[str, str]:
    """A community (or a separate part) below the minimum is one grid."""
    if whole:
        return (
            f"Community {code} has only {total} households, fewer than the minimum of {lo}; it "
            "forms one grid {grid}. Merge it with a neighbouring grid by hand if that suits.",
            f"社区{code}仅有{total}户，不足{lo}户，整体划为一个网格（{{grid}}）。如合适，可手工与相邻网格合并。",
        )
    return (
        f"A separate part of community {code} has only {total} households, fewer than the "
        f"minimum of {lo}; it forms grid {{grid}} on its own. Merge it with a neighbouring grid "
        "by hand if that suits the community.",
        f"社区{code}的一块独立区域仅有{total}户，不足{lo}户，单独划为网格{{grid}}。如合适，可手工与相邻网格合并。",
    )


def infeasible_message(code: str, total: int, lo: int, hi: int) -> tuple[str, str]:
    """No number of grids of ``lo``–``hi`` adds up to ``total``."""
    return (
        f"Community {code} (or a separate part of it) has {total} households: no number of "
        f"grids of {lo}–{hi} households adds up to that, so some grids are outside the range. "
        "Adjust the range or the boundary.",
        f"社区{code}（或其中一块独立区域）共有{total}户，无论划为几个网格，都无法使每格在{lo}–{hi}户之间，"
        "部分网格超出范围。可调整户数范围或社区边界。",
    )


def unbalanced_message(households: int, lo: int, hi: int) -> tuple[str, str]:
    """A grid left outside the bounds by chunky buildings."""
    return (
        f"Grid {{grid}} has {households} households, outside {lo}–{hi}: the buildings and "
        "compounds there are too large to combine into balanced grids (for example several "
        "towers that only fit two to a grid). Check the household counts of the large "
        "buildings or adjust the range.",
        f"网格{{grid}}有{households}户，不在{lo}–{hi}户之间：附近楼栋和小区户数较大，无法组合成均衡的网格"
        "（例如几栋高层只能两栋一格）。请核对大楼栋的户数，或调整户数范围。",
    )


def street_message(street: str, street_zh: str, reason: str, households: int, lo: int, hi: int):
    """A grid crossing a street, and why (``reason`` is a :class:`gridmap.blocks.Merge` kind)."""
    why_en, why_zh = {
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
    return (
        f"Grid {{grid}} crosses {street}: {why_en}. It was joined to its neighbour where the "
        "street frontage is shortest.",
        f"网格{{grid}}跨越了{street_zh}：{why_zh}，因此在街道最短处与相邻街区合并。",
    )


def compound_split_message(
    compound: str, households: int, grids: int, broken: int, lo: int, hi: int
) -> tuple[str, str]:
    """A compound that fits in one grid had to be split (``{grids}`` is filled in later)."""
    return (
        f"Compound (小区) {compound} with {households} households is split between {grids} "
        f"grids ({{grids}}): kept whole, a grid next to it had {broken} households, outside "
        f"{lo}–{hi}, and no balanced plan kept every compound whole.",
        f"小区{compound}（{households}户）被分到{grids}个网格（{{grids}}）：若整体保留，相邻网格将有"
        f"{broken}户，不在{lo}–{hi}户之间，无法在保持小区完整的同时使网格均衡。",
    )
