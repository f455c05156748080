"""Codes and communities for grids drawn by hand: what 奥维 and Google Earth exports lack.

Offices draw their current grids in 奥维互动地图 (Ovital) or Google Earth and export KML: one
polygon per grid, named ``第1网格``, ``一网格``, ``3号网格``, ``广场社区第三网格`` …, with no grid
code and no community code. :func:`code_grids` fills both, as gridmap would have made them:

* a grid without ``community_code`` belongs to the community its 15-digit grid code names (the
  code's first 12 digits, where that community is known), else to the community holding most of
  its area (ties: the lowest code), as compounds are linked (:mod:`gridmap.attach.linking`);
* a grid without ``grid_code`` gets its community's code + a 3-digit number: the number its
  name carries (:func:`name_number`) where that number is used once among the community's
  grids and by no code given in the file; the others are numbered by position, north to south
  and west to east (:func:`gridmap.geometry.numbering.codes_by_position`), taking the numbers
  left free.

Codes and communities given in the file are kept. A grid that lies in no community (or has no
geometry to find one) cannot be stored: it is left out, with one report line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

from gridmap.attach.linking import best_target, blank_as_none, geometry_present, missing_links
from gridmap.attach.report import Issue, record_labels
from gridmap.crs import check_same_crs, projected_crs_for
from gridmap.geometry.numbering import MAX_GRIDS_PER_COMMUNITY, codes_by_position
from gridmap.io.addressparts import chinese_number
from gridmap.io.notes import ReadNote
from gridmap.planerrors import plan_error
from gridmap.schema import GRID

__all__ = ["GridCoding", "code_grids", "fill_grid_codes", "name_number"]

_NAME_NUMBER = re.compile(r"第?([0-9零〇一二两三四五六七八九十百]+)号?网格$")


def name_number(name: object) -> int | None:
    """The number a grid's name carries (``第3网格``, ``三网格``, ``3号网格``,
    ``广场社区第十二网格``), or None (no number before 网格, or none from 1 to 999).

    Examples
    --------
    >>> names = ["第1网格", "一网格", "3号网格", "广场社区第十二网格", "网格A", None]
    >>> [name_number(n) for n in names]
    [1, 1, 3, 12, None, None]
    """
    if not isinstance(name, str):
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    match = _NAME_NUMBER.search(text)
    if match is None:
        return None
    digits = chinese_number(match.group(1))
    if not digits.isdigit():
        return None
    number = int(digits)
    return number if 1 <= number <= MAX_GRIDS_PER_COMMUNITY else None


@dataclass
class GridCoding:
    """Grids with ``grid_code`` and ``community_code`` filled; what was made, the report lines."""

    frame: gpd.GeoDataFrame
    """The grids that now have both (the ones in no community left out)."""
    made: int = 0
    """Grid codes made."""
    named: int = 0
    """Of them, those taking the number of the grid's name."""
    located: int = 0
    """Grids whose community was found by location."""
    left_out: int = 0
    """Grids in no community (or without geometry), left out: one report line each."""
    issues: list[Issue] = field(default_factory=list)

    def note(self, file: str) -> ReadNote | None:
        """The ``grid_codes_made`` note about ``file``, or None if nothing was made or found."""
        if not (self.made or self.located or self.left_out):
            return None
        return ReadNote.of("grid_codes_made", file, n=self.made, named=self.named,
                           located=self.located, left_out=self.left_out)  # fmt: skip


def code_grids(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> GridCoding:
    """Fill the missing ``community_code`` and ``grid_code`` of ``grids`` (see the module).

    Parameters
    ----------
    grids : GeoDataFrame
        Grids as :func:`gridmap.read_layer` gives them (either column may be absent).
    communities : GeoDataFrame
        ``community_code`` and polygon geometry (those of the import and/or the store), in the
        CRS of ``grids``.

    Examples
    --------
    >>> from shapely import box
    >>> com = gpd.GeoDataFrame({"community_code": ["520602001001"]}, geometry=[box(0, 0, 2, 2)],
    ...                        crs=4326)
    >>> g = gpd.GeoDataFrame({"name": ["第2网格", "第1网格", "湖"]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)], crs=4326)
    >>> out = code_grids(g, com)
    >>> out.frame["grid_code"].tolist(), out.made, out.named, out.located, out.left_out
    (['520602001001002', '520602001001001'], 2, 2, 2, 1)
    """
    out = grids.copy()
    for column in ("grid_code", "community_code"):
        out[column] = blank_as_none(out, column)
    labels = record_labels(out, GRID)  # a grid without code is named by its name, if any
    if "name" in out:
        labels = labels.where(out["grid_code"].notna() | missing_links(out, "name"), out["name"])
    todo = out["community_code"].isna()
    known = set(communities["community_code"].dropna().astype(str))
    prefix = out["grid_code"].map(lambda c: c[:12] if isinstance(c, str) and len(c) == 15 else None)
    by_code = todo & prefix.isin(known)
    out.loc[by_code, "community_code"] = prefix[by_code]
    by_place = todo & ~by_code & geometry_present(out)
    if by_place.any() and len(communities):
        check_same_crs(out, communities, names=["grids", "communities"])
        areas = communities[geometry_present(communities)]
        areas = areas.assign(community_code=areas["community_code"].astype(str))
        out.loc[by_place, "community_code"] = best_target(out.geometry[by_place], areas,
                                                           "community_code", "grid")  # fmt: skip
    found = by_place & out["community_code"].notna()
    lost = todo & out["community_code"].isna()
    issues = [Issue.of("grid", i, "grid_left_out") for i in labels[lost]]
    out = out[~lost]
    made = named = 0
    for code, part in out.groupby("community_code", sort=True):
        need = part.index[part["grid_code"].isna()]
        if not len(need):
            continue
        codes, from_names = _codes(str(code), part, need)
        out.loc[need, "grid_code"] = codes
        made, named = made + len(need), named + from_names
    return GridCoding(out, made, named, int(found.sum()), int(lost.sum()), issues)


def fill_grid_codes(community_code: str, grids: gpd.GeoDataFrame) -> pd.Series:
    """The codes of one community's ``grids``: those given kept, the missing ones made as
    :func:`code_grids` makes them (the number of the grid's name, else a free number by
    position).

    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"grid_code": ["520602001001001", None], "name": [None, "湖"]},
    ...                      geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    >>> fill_grid_codes("520602001001", g).tolist()
    ['520602001001001', '520602001001002']
    """
    codes = blank_as_none(grids, "grid_code")
    need = codes.index[codes.isna()]
    if len(need):
        codes.loc[need] = _codes(community_code, grids.assign(grid_code=codes), need)[0]
    return codes


def _codes(community: str, part: gpd.GeoDataFrame, need: pd.Index) -> tuple[list[str], int]:
    """Codes for the grids ``need`` of one community's grids ``part``, and how many took the
    number of their name."""
    taken = {int(c[12:]) for c in part["grid_code"].dropna().astype(str)
             if len(c) == 15 and c.startswith(community) and c[12:].isdigit()}  # fmt: skip
    names = part["name"] if "name" in part else pd.Series(None, index=part.index, dtype=object)
    numbers = names.loc[need].map(name_number)
    once = numbers.notna() & numbers.map(numbers.value_counts()).eq(1) & ~numbers.isin(taken)
    number = {i: int(n) for i, n in numbers[once].items()}
    rest = [i for i in need if i not in number]
    if rest:
        used = taken | set(number.values())
        free = [n for n in range(1, MAX_GRIDS_PER_COMMUNITY + 1) if n not in used]
        if len(rest) > len(free):
            raise plan_error("too_many_grids", community_code=community,
                             n=len(taken) + len(need), most=MAX_GRIDS_PER_COMMUNITY)  # fmt: skip
        for i, rank in zip(rest, _position_ranks(community, part.loc[rest]), strict=True):
            number[i] = free[rank]
    return [f"{community}{number[i]:03d}" for i in need], len(need) - len(rest)


def _position_ranks(community: str, grids: gpd.GeoDataFrame) -> list[int]:
    """Each grid's place (0 first) numbered north to south, west to east, as gridmap numbers
    the grids it draws (:func:`gridmap.geometry.numbering.grid_codes`: a point inside each grid,
    rows as tall as the square root of the median grid area)."""
    shapes = shapely.make_valid(grids.geometry.to_crs(projected_crs_for(grids)).to_numpy())
    return [int(c[12:]) - 1 for c in codes_by_position(community, shapes)]
