"""Streets as the planner sees them: which may bound a grid, and what each is called.

A street may bound a grid unless it runs under something: OpenStreetMap marks such ways with
``tunnel=*`` (anything but ``no``, including ``building_passage``), ``covered=*`` (anything but
``no``), a negative ``layer`` or ``location=underground``/``underwater``. Other data says
it with a ``boundary`` (or ``是否边界``) column (true/false, 1/0, yes/no, 是/否); where that
column is filled it wins over the OSM tags. Streets that may not bound a grid are left out
of the plan entirely.

Street names (for problem messages) come from the first filled name column of
:data:`STREET_NAME_COLUMNS`; an id never stands in for a name.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.errors import ErrorTexts, InputError, quoted

__all__ = [
    "STREET_NAME_COLUMNS",
    "BOUNDARY_COLUMNS",
    "BOUNDARY_TAGS",
    "STREET_ERRORS",
    "UNNAMED_STREET",
    "street_names",
    "boundary_mask",
    "boundary_streets",
]

STREET_NAME_COLUMNS = ("name", "street_name", "road_name", "道路名称", "路名", "道路名", "街道名称",
                       "街路名称", "名称")  # fmt: skip
"""Columns a street's name is read from, first filled one wins."""

BOUNDARY_COLUMNS = ("boundary", "是否边界")
"""Columns saying whether a street may bound a grid (override the OSM tags where filled)."""

UNNAMED_STREET = {"en": "an unnamed street", "zh": "未命名道路"}
"""What a street without a name is called in messages."""

_ID_COLUMNS = ("street_id",)
_SHOWN = 10  # streets and values an error names at most

STREET_ERRORS = ErrorTexts({
    "bad_boundary": (InputError, lambda file, column, streets, values: (
        f"{file}: column '{column}' (may the street bound a grid?) is neither true nor false "
        f"for street(s) {streets}: {values}; use true/false, 1/0, yes/no or 是/否.",
        f"{file}：道路 {quoted(streets)} 的“{column}”列（是否可作网格边界）既非是也非否："
        f"{quoted(values)}；请填 是/否、true/false、1/0 或 yes/no。")),
})  # fmt: skip
"""The errors of the street rules, in English and Chinese."""
_TRUE = {"true", "1", "1.0", "yes", "y", "t", "是", "真"}
_FALSE = {"false", "0", "0.0", "no", "n", "f", "否", "假"}
_UNDERGROUND = {"underground", "underwater"}
_NOT_UNDER = ["", "no", "false", "0"]


def _negative(layer: pd.Series) -> pd.Series:
    return pd.to_numeric(layer.str.split(";").str[0], errors="coerce") < 0


_UNDER: dict[str, Callable[[pd.Series], pd.Series]] = {
    "tunnel": lambda v: ~v.isin(_NOT_UNDER),
    "covered": lambda v: ~v.isin(_NOT_UNDER),
    "layer": _negative,
    "location": lambda v: v.isin(_UNDERGROUND),
}
"""OSM tag → which of its (lower-case, stripped) values say the street runs under something."""
BOUNDARY_TAGS = tuple(_UNDER)
"""The OSM tag columns :func:`boundary_mask` reads besides :data:`BOUNDARY_COLUMNS`."""


def street_names(
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None, *, ids: bool = False
) -> np.ndarray | None:
    """Per street the first filled column of :data:`STREET_NAME_COLUMNS` (``""`` if none).

    With ``ids=True`` the ``street_id`` stands in where no name is filled (for record reports,
    never for problem messages). ``None`` when ``streets`` is missing or a bare GeoSeries.

    Examples
    --------
    >>> import shapely
    >>> s = gpd.GeoDataFrame({"道路名称": ["中山路", None], "street_id": ["S1", "S2"]},
    ...                      geometry=[shapely.LineString([(0, 0), (1, 0)])] * 2)
    >>> street_names(s).tolist(), street_names(s, ids=True).tolist()
    (['中山路', ''], ['中山路', 'S2'])
    """
    if streets is None or not isinstance(streets, gpd.GeoDataFrame):
        return None
    wanted = STREET_NAME_COLUMNS + (_ID_COLUMNS if ids else ())
    columns = [c for c in wanted if c in streets.columns]
    names = []
    for row in streets[columns].itertuples(index=False):
        filled = [str(v).strip() for v in row if not pd.isna(v) and str(v).strip() != ""]
        names.append(filled[0] if filled else "")
    return np.array(names, dtype=object)


def boundary_mask(streets: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Whether each street may bound a grid (see the module docstring for the rules).

    Raises
    ------
    InputError
        A ``boundary`` value that is not a recognisable true/false.

    Examples
    --------
    >>> import shapely
    >>> line = shapely.LineString([(0, 0), (1, 0)])
    >>> s = gpd.GeoDataFrame({"tunnel": ["yes", None, "no", None],
    ...                       "layer": [None, "-1", None, None],
    ...                       "boundary": [None, None, None, "否"]}, geometry=[line] * 4)
    >>> boundary_mask(s).tolist()
    [False, False, True, False]
    """
    n = len(streets)
    if not isinstance(streets, gpd.GeoDataFrame):
        return np.ones(n, dtype=bool)
    ok = np.ones(n, dtype=bool)
    for col in [c for c in BOUNDARY_TAGS if c in streets.columns]:
        ok &= ~_UNDER[col](_text(streets[col])).to_numpy()
    for col in [c for c in BOUNDARY_COLUMNS if c in streets.columns]:
        v = _text(streets[col])
        bad = ~v.isin(_TRUE | _FALSE | {""})
        if bad.any():
            raise _bad_boundary(streets, col, bad.to_numpy())
        given = (v != "").to_numpy()
        ok = np.where(given, v.isin(_TRUE).to_numpy(), ok)
    return ok


def boundary_streets(
    streets: gpd.GeoDataFrame | gpd.GeoSeries | None,
) -> gpd.GeoDataFrame | gpd.GeoSeries | None:
    """``streets`` without the ways that may not bound a grid (tunnels, covered ways …)."""
    if streets is None:
        return None
    mask = boundary_mask(streets)
    return streets if mask.all() else streets.loc[mask]


def _bad_boundary(streets: gpd.GeoDataFrame, column: str, bad: np.ndarray) -> InputError:
    """The error naming the file, the column and the first streets (ids, else row numbers)
    whose ``column`` is neither true nor false, with their values."""
    ids = streets["street_id"] if "street_id" in streets.columns else None
    labels = [str(i) for i in ids[bad]] if ids is not None else None
    rows = (np.flatnonzero(bad) + 1).tolist()
    error = STREET_ERRORS.error(
        "bad_boundary", file=streets.attrs.get("source") or "streets", column=column,
        streets=(labels or [f"#{r}" for r in rows])[:_SHOWN],
        values=sorted({str(v).strip() for v in streets.loc[bad, column]})[:_SHOWN],
    )  # fmt: skip
    assert isinstance(error, InputError)
    return error


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()
