"""Sample and reference data for gridmap: the synthetic Bijiang (Tongren) demo and real datasets.

``load_sample()`` returns the demo sample with canonical column names (see ``gridmap.schema``);
``get_path(name)`` gives the committed file itself, as an office would hand it over (Chinese
headers in the rosters); ``load_real(name)`` loads a real building dataset shipped inside an
installed package. Sources and licences are in ``geodata/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata.make_sample import (
    HOUSEHOLD_HEADERS,
    PERSON_HEADERS,
    SAMPLE_CRS,
    STAFF_HEADERS,
)
from geodata.real import REAL_DATASETS, load_real

__all__ = [
    "SAMPLE_DIR",
    "SAMPLE_FILES",
    "SAMPLE_LAYERS",
    "HEADERS",
    "REAL_DATASETS",
    "get_path",
    "load_sample",
    "load_real",
]

SAMPLE_DIR = Path(__file__).parent / "sample"
SAMPLE_FILES = ("bijiang.gpkg", "households.csv", "households.xlsx", "persons.csv", "staff.csv")
SAMPLE_LAYERS = ("communities", "compounds", "streets", "buildings", "grids_existing")
"""Layers of ``bijiang.gpkg``, in EPSG:4490."""

HEADERS: dict[str, dict[str, str]] = {
    "households": HOUSEHOLD_HEADERS,
    "persons": PERSON_HEADERS,
    "staff": STAFF_HEADERS,
}
"""Canonical column -> Chinese header used in each roster file."""

_INT_COLUMNS = ("unit", "floor", "size")


def get_path(name: str) -> Path:
    """Return the path of a committed sample file.

    Parameters
    ----------
    name : str
        One of :data:`SAMPLE_FILES`, e.g. ``"bijiang.gpkg"`` or ``"persons.csv"``.

    Raises
    ------
    ValueError
        If ``name`` is not a sample file; the message lists the available names.

    Examples
    --------
    >>> get_path("bijiang.gpkg").name
    'bijiang.gpkg'
    """
    if name not in SAMPLE_FILES:
        raise ValueError(
            f"Unknown sample file {name!r}. Available: {', '.join(SAMPLE_FILES)}. "
            f"Real datasets are loaded with load_real({', '.join(map(repr, REAL_DATASETS))})."
        )
    return SAMPLE_DIR / name


def load_sample(directory: Path | None = None) -> dict[str, pd.DataFrame]:
    """Load the Bijiang demo sample with canonical column names.

    Parameters
    ----------
    directory : Path, optional
        Read from here instead of the committed sample (for example a faulty variant written
        by :func:`geodata.faults.write_faulty_sample`).

    Returns
    -------
    dict
        ``communities``, ``compounds``, ``streets``, ``buildings``, ``grids_existing``
        (GeoDataFrames in EPSG:4490); ``households`` (GeoDataFrame, point geometry only for the
        rows given by coordinates, else empty); ``persons`` and ``staff`` (DataFrames).
        ID numbers, phones, codes and ids are strings.

    Examples
    --------
    >>> sample = load_sample()
    >>> sorted(sample)[:3]
    ['buildings', 'communities', 'compounds']
    """
    base = SAMPLE_DIR if directory is None else Path(directory)
    out: dict[str, pd.DataFrame] = {}
    for layer in SAMPLE_LAYERS:
        out[layer] = gpd.read_file(base / "bijiang.gpkg", layer=layer)
    households = _read(base, "households", HOUSEHOLD_HEADERS)
    lon = pd.to_numeric(households.pop("lon"))
    lat = pd.to_numeric(households.pop("lat"))
    points = gpd.points_from_xy(lon, lat, crs=SAMPLE_CRS)
    points[lon.isna().to_numpy()] = None
    out["households"] = gpd.GeoDataFrame(households, geometry=points)
    out["persons"] = _read(base, "persons", PERSON_HEADERS)
    out["staff"] = _read(base, "staff", STAFF_HEADERS)
    return out


def _read(base: Path, name: str, headers: dict[str, str]) -> pd.DataFrame:
    frame = pd.read_csv(base / f"{name}.csv", dtype=str, encoding="utf-8-sig")
    frame = frame.rename(columns={v: k for k, v in headers.items()})
    for column in _INT_COLUMNS:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    return frame
