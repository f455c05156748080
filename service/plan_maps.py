"""Folium maps of plans for notebooks: one plan, or the difference between two.

Unlike :mod:`service.maps` (pages that fetch their data from the app), these maps embed the
grids and buildings themselves, so they show in Jupyter without a server. Only aggregates are
drawn: grid codes, household counts, building ids; no personal data.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from gridmap.crs import STORAGE_CRS

__all__ = ["plan_map", "diff_map", "STATUS_COLORS", "MOVED_COLOR"]

STATUS_COLORS = {"ok": "#41ab5d", "under_min": "#fed976", "over_max": "#e31a1c"}
"""Grid fill by household status."""
MOVED_COLOR = "#d7301f"
_KEPT_COLOR = "#9e9e9e"


def _grids(plan: Any) -> gpd.GeoDataFrame:
    grids = plan if isinstance(plan, gpd.GeoDataFrame) else plan.grids
    return grids.to_crs(STORAGE_CRS)


def _status(grids: gpd.GeoDataFrame, lo: int, hi: int) -> pd.Series:
    if "status" in grids:
        return grids["status"].astype(str)
    hh = grids["households"]
    return pd.Series(
        ["under_min" if h < lo else "over_max" if h > hi else "ok" for h in hh], index=grids.index
    )


def _base(grids: gpd.GeoDataFrame, tiles: str | None) -> folium.Map:
    x0, y0, x1, y1 = grids.total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True)
    fmap.fit_bounds([[y0, x0], [y1, x1]])
    return fmap


def plan_map(
    plan: Any,
    buildings: gpd.GeoDataFrame | None = None,
    *,
    min_households: int = 300,
    max_households: int = 500,
    tiles: str | None = "OpenStreetMap",
) -> folium.Map:
    """Map one plan: grids coloured by household status, labelled with code and households.

    Parameters
    ----------
    plan : GeoDataFrame or plan
        Grids (``grid_code``, ``households``), or an object with a ``grids`` attribute.
    buildings : GeoDataFrame, optional
        Drawn as small dots (``building_id``, ``households``).
    tiles : str or None
        Basemap (None for none, e.g. offline).
    """
    grids = _grids(plan)
    grids = grids.assign(status=_status(grids, min_households, max_households))
    cols = ["grid_code", "households", "status", "geometry"]
    fmap = _base(grids, tiles)
    folium.GeoJson(
        grids[cols],
        name="grids",
        style_function=lambda f: {
            "fillColor": STATUS_COLORS.get(f["properties"]["status"], "#cccccc"),
            "color": "#333333",
            "weight": 1.5,
            "fillOpacity": 0.45,
        },
        tooltip=folium.GeoJsonTooltip(fields=cols[:-1]),
    ).add_to(fmap)
    if buildings is not None:
        _add_buildings(fmap, buildings, "buildings", "#2b2b2b")
    folium.LayerControl().add_to(fmap)
    return fmap


def diff_map(
    before: Any,
    after: Any,
    *,
    moved: pd.DataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    tiles: str | None = "OpenStreetMap",
) -> folium.Map:
    """Map the difference between two plans: new grids, old boundaries, moved buildings.

    Parameters
    ----------
    before, after : GeoDataFrame or plan
        The two plans' grids.
    moved : DataFrame, optional
        ``building_id`` of the buildings that change grid (``PlanDiff.moved`` or
        ``RedistrictResult.moved``); drawn in red.
    buildings : GeoDataFrame, optional
        Building geometries (``building_id``); required to draw ``moved``.
    """
    old, new = _grids(before), _grids(after)
    fmap = _base(new, tiles)
    changed = new["change"] != "kept" if "change" in new else pd.Series(True, index=new.index)
    new = new.assign(changed=changed.to_numpy())
    folium.GeoJson(
        new[["grid_code", "households", "changed", "geometry"]],
        name="after",
        style_function=lambda f: {
            "fillColor": "#fdae6b" if f["properties"]["changed"] else _KEPT_COLOR,
            "color": "#08519c",
            "weight": 2,
            "fillOpacity": 0.35,
        },
        tooltip=folium.GeoJsonTooltip(fields=["grid_code", "households", "changed"]),
    ).add_to(fmap)
    folium.GeoJson(
        old[["grid_code", "geometry"]],
        name="before",
        style_function=lambda _f: {
            "color": "#000000",
            "weight": 1,
            "dashArray": "5 5",
            "fillOpacity": 0,
        },  # fmt: skip
    ).add_to(fmap)
    if buildings is not None:
        ids = set() if moved is None else set(moved["building_id"].astype(str))
        is_moved = buildings["building_id"].astype(str).isin(ids)
        _add_buildings(fmap, buildings[~is_moved], "buildings", "#2b2b2b")
        if is_moved.any():
            _add_buildings(fmap, buildings[is_moved], "moved buildings", MOVED_COLOR, radius=6)
    folium.LayerControl().add_to(fmap)
    return fmap


def _add_buildings(fmap, buildings, name: str, color: str, radius: float = 3) -> None:
    pts = buildings.to_crs(STORAGE_CRS)
    pts = pts.assign(geometry=pts.geometry.representative_point())
    layer = folium.FeatureGroup(name=name)
    for rec in pts[["building_id", "households", "geometry"]].itertuples():
        folium.CircleMarker(
            [rec.geometry.y, rec.geometry.x],
            radius=radius,
            color=color,
            fill=True,
            fill_opacity=0.9,
            tooltip=f"{rec.building_id}: {rec.households}",
        ).add_to(layer)
    layer.add_to(fmap)
