"""A copy of the demo sample with planted faults, listed exactly in :data:`PLANTED_FAULTS`.

``write_faulty_sample(directory)`` copies the committed sample (same file names, same Chinese
roster headers) and plants each fault of :data:`PLANTED_FAULTS`, one record per fault. Import
and validation tests compare what they detect with this list.

Duplicates are exact copies of a row appended to the file, so a check that counts rows (for
example dwellings per building) sees one extra row until the duplicate is dropped.

Each fault touches one record and nothing depends on it, so a correct report names exactly
these records: the bow-tie footprint is planted on a market without dwellings (an import leaves
a building with an unusable footprint out, and the households in it would be reported as well),
and the misplaced household H900003 is a one-person household added for the purpose.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.affinity import translate
from shapely.geometry import Polygon

from geodata import SAMPLE_DIR, SAMPLE_LAYERS
from geodata.make_sample import (
    HOUSEHOLD_HEADERS,
    LOCAL_CRS,
    PERSON_HEADERS,
    STAFF_HEADERS,
)
from geodata.people import make_id_number

__all__ = ["Fault", "PLANTED_FAULTS", "PROBLEMS", "write_faulty_sample"]


class Fault(NamedTuple):
    """One planted fault: the entity, the id of the faulty record and a problem code."""

    entity: str  # community | building | household | person | staff | grid
    record_id: str
    problem: str


PROBLEMS: dict[str, str] = {
    "overlaps_neighbour": "boundary pushed 8 m into the neighbouring community",
    "invalid_geometry": "self-intersecting (bow-tie) footprint",
    "duplicate_id": "the same row appears twice",
    "outside_community": "footprint moved 2 km east, outside every community",
    "crosses_street": "footprint moved onto a street centre line",
    "households_mismatch": "households attribute 10 more than the dwellings listed",
    "missing_geometry": "footprint empty (NULL geometry)",
    "unknown_building": "an added household whose building id refers to no building",
    "floor_out_of_range": "floor above the building's number of floors",
    "unit_out_of_range": "unit number above the building's number of units",
    "unresolvable_address": "an added household whose address names no building; no building id",
    "coordinates_outside_building": "an added household located on a street, in no footprint",
    "invalid_id_check_digit": "ID number's check character wrong",
    "birth_date_mismatch": "birth date one year off the ID number's",
    "sex_mismatch": "sex contradicts the ID number's 17th digit",
    "invalid_phone": "phone number has 10 digits",
    "missing_id_number": "ID number empty",
    "unknown_household": "household id refers to no household",
    "duplicate_id_number": "a second person (same household) carries another's ID number",
    "unknown_role": "role is not one of gridmap.schema.STAFF_ROLES",
    "gap": "grid shrunk by 3 m, leaving gaps to its neighbours and the community edge",
    "overlap": "grid grown by 3 m, overlapping its neighbours and leaving the community",
}
"""Problem code -> what was done to the record."""

PLANTED_FAULTS: tuple[Fault, ...] = (
    Fault("community", "520602002002", "overlaps_neighbour"),
    Fault("building", "B00120", "invalid_geometry"),
    Fault("building", "B00010", "duplicate_id"),
    Fault("building", "B00026", "outside_community"),
    Fault("building", "B00027", "crosses_street"),
    Fault("building", "B00040", "households_mismatch"),
    Fault("building", "B00045", "missing_geometry"),
    Fault("household", "H900001", "unknown_building"),
    Fault("household", "H000200", "duplicate_id"),
    Fault("household", "H000300", "floor_out_of_range"),
    Fault("household", "H000400", "unit_out_of_range"),
    Fault("household", "H900002", "unresolvable_address"),
    Fault("household", "H900003", "coordinates_outside_building"),
    Fault("person", "P000101", "invalid_id_check_digit"),
    Fault("person", "P000201", "birth_date_mismatch"),
    Fault("person", "P000301", "sex_mismatch"),
    Fault("person", "P000401", "invalid_phone"),
    Fault("person", "P000501", "missing_id_number"),
    Fault("person", "P000701", "unknown_household"),
    Fault("person", "P900001", "duplicate_id_number"),
    Fault("staff", "S0005", "unknown_role"),
    Fault("grid", "520602002001002", "gap"),
    Fault("grid", "520602002001009", "overlap"),
)
"""Every fault in the faulty sample, exactly one record each (see :data:`PROBLEMS`)."""

_DUPLICATED_PERSON = "P000601"  # P900001 is a copy of this person in the same household


def write_faulty_sample(directory: Path | str) -> Path:
    """Write the sample with :data:`PLANTED_FAULTS` into ``directory`` and return it.

    The files have the committed sample's names and headers, so ``load_sample(directory)``
    and the gridmap readers read them like the clean sample.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    layers = {
        name: gpd.read_file(SAMPLE_DIR / "bijiang.gpkg", layer=name) for name in SAMPLE_LAYERS
    }
    rosters = {
        name: pd.read_csv(SAMPLE_DIR / f"{name}.csv", dtype=str, encoding="utf-8-sig")
        for name in ("households", "persons", "staff")
    }
    _plant_layers(layers)
    _plant_households(rosters["households"], rosters["persons"], layers)
    _plant_persons(rosters["persons"], rosters["households"])
    staff = rosters["staff"]
    staff.loc[staff[STAFF_HEADERS["staff_id"]] == "S0005", STAFF_HEADERS["role"]] = "captain"
    gpkg = out / "bijiang.gpkg"
    gpkg.unlink(missing_ok=True)
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, gpkg, layer=name, driver="GPKG")
    for name, frame in rosters.items():
        frame.to_csv(out / f"{name}.csv", index=False, encoding="utf-8-sig")
    rosters["households"].to_excel(out / "households.xlsx", index=False, sheet_name="住户")
    return out


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(LOCAL_CRS)


def _row(frame: pd.DataFrame, column: str, value: str) -> int:
    hits = frame.index[frame[column] == value]
    if len(hits) != 1:
        raise ValueError(f"Expected one {column}={value!r} in the clean sample, found {len(hits)}.")
    return int(hits[0])


def _plant_layers(layers: dict[str, gpd.GeoDataFrame]) -> None:
    communities = _metric(layers["communities"])
    i = _row(communities, "community_code", "520602002002")
    communities.loc[i, "geometry"] = communities.geometry[i].union(
        translate(communities.geometry[i], xoff=-8.0).intersection(
            communities.geometry[_row(communities, "community_code", "520602002001")]
        )
    )
    layers["communities"] = communities.to_crs(layers["communities"].crs)

    buildings = _metric(layers["buildings"])
    streets = _metric(layers["streets"])
    i = _row(buildings, "building_id", "B00120")
    if buildings.loc[i, "households"] != 0:
        raise ValueError("B00120 should have no dwellings in the clean sample.")
    (x0, y0, x1, y1) = buildings.geometry[i].bounds
    buildings.loc[i, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    i = _row(buildings, "building_id", "B00026")
    buildings.loc[i, "geometry"] = translate(buildings.geometry[i], xoff=2000.0)
    i = _row(buildings, "building_id", "B00027")
    buildings.loc[i, "geometry"] = _onto_street(buildings.geometry[i], streets)
    i = _row(buildings, "building_id", "B00040")
    buildings.loc[i, "households"] = buildings.loc[i, "households"] + 10
    i = _row(buildings, "building_id", "B00045")
    buildings.loc[i, "geometry"] = None
    dup = buildings.loc[[_row(buildings, "building_id", "B00010")]]
    layers["buildings"] = pd.concat([buildings, dup], ignore_index=True).to_crs(
        layers["buildings"].crs
    )

    grids = _metric(layers["grids_existing"])
    i = _row(grids, "grid_code", "520602002001002")
    grids.loc[i, "geometry"] = grids.geometry[i].buffer(-3.0, join_style="mitre")
    i = _row(grids, "grid_code", "520602002001009")
    grids.loc[i, "geometry"] = grids.geometry[i].buffer(3.0, join_style="mitre")
    layers["grids_existing"] = grids.to_crs(layers["grids_existing"].crs)


def _onto_street(footprint, streets: gpd.GeoDataFrame):
    """Move ``footprint`` so its centroid lies on the nearest street line."""
    centroid = footprint.centroid
    nearest = streets.geometry[streets.distance(centroid).idxmin()]
    target = nearest.interpolate(nearest.project(centroid))
    return translate(footprint, xoff=target.x - centroid.x, yoff=target.y - centroid.y)


def _plant_households(
    households: pd.DataFrame, persons: pd.DataFrame, layers: dict[str, gpd.GeoDataFrame]
) -> None:
    h = HOUSEHOLD_HEADERS
    buildings = layers["buildings"].drop_duplicates("building_id").set_index("building_id")
    for household_id in ("H000300", "H000400"):
        i = _row(households, h["household_id"], household_id)
        if pd.isna(households.loc[i, h["building_id"]]):
            raise ValueError(f"{household_id} should have a building id in the clean sample.")
    i = _row(households, h["household_id"], "H000300")
    floor = int(buildings.loc[households.loc[i, h["building_id"]], "floors"]) + 5
    room = f"{floor}{households.loc[i, h['room']][-2:]}"
    address = re.sub(r"\d+室$", f"{room}室", households.loc[i, h["address"]])
    households.loc[i, [h["floor"], h["room"], h["address"]]] = [str(floor), room, address]
    i = _row(households, h["household_id"], "H000400")
    households.loc[i, [h["unit"], h["address"]]] = ["9", None]
    dup = households.loc[_row(households, h["household_id"], "H000200")].copy()
    households.loc[len(households)] = dup
    # Added one-person households, so no existing building loses a dwelling.
    street = layers["streets"].geometry[_row(layers["streets"], "name", "东太平街")]
    point = street.interpolate(0.3, normalized=True)
    added = [
        ("H900001", {h["building_id"]: "B99999", h["unit"]: "1", h["floor"]: "1",
                     h["room"]: "101"}),
        ("H900002", {h["address"]: "铜仁市碧江区幸福路999号1栋1单元101室"}),
        ("H900003", {h["lon"]: f"{point.x:.7f}", h["lat"]: f"{point.y:.7f}"}),
    ]  # fmt: skip
    for k, (household_id, fields) in enumerate(added, start=2):
        person_id = f"P90000{k}"
        households.loc[len(households)] = pd.Series(
            {
                h["household_id"]: household_id,
                h["head_person_id"]: person_id,
                h["size"]: "1",
                **fields,
            }  # fmt: skip
        )
        _add_head(persons, person_id, household_id, sequence=k)


def _add_head(persons: pd.DataFrame, person_id: str, household_id: str, sequence: int) -> None:
    p = PERSON_HEADERS
    birth = dt.date(1975, 3, sequence)
    persons.loc[len(persons)] = pd.Series(
        {
            p["person_id"]: person_id,
            p["household_id"]: household_id,
            p["name"]: "王某",
            p["id_number"]: make_id_number("520602", birth, 900 + sequence, male=True),
            p["sex"]: "男",
            p["birth_date"]: birth.isoformat(),
            p["relationship"]: "户主",
            p["population_type"]: "registered",
        }  # fmt: skip
    )


def _plant_persons(persons: pd.DataFrame, households: pd.DataFrame) -> None:
    p = PERSON_HEADERS
    i = _row(persons, p["person_id"], "P000101")
    number = persons.loc[i, p["id_number"]]
    wrong = "0" if number[-1] != "0" else "1"
    persons.loc[i, p["id_number"]] = number[:17] + wrong
    i = _row(persons, p["person_id"], "P000201")
    birth = pd.Timestamp(persons.loc[i, p["birth_date"]]) - pd.DateOffset(years=1)
    persons.loc[i, p["birth_date"]] = birth.date().isoformat()
    i = _row(persons, p["person_id"], "P000301")
    persons.loc[i, p["sex"]] = "女" if persons.loc[i, p["sex"]] == "男" else "男"
    i = _row(persons, p["person_id"], "P000401")
    persons.loc[i, p["phone"]] = persons.loc[i, p["phone"]][:10]
    i = _row(persons, p["person_id"], "P000501")
    persons.loc[i, p["id_number"]] = None
    i = _row(persons, p["person_id"], "P000701")
    if persons.loc[i, p["relationship"]] == "户主":
        raise ValueError("P000701 should not be a household head in the clean sample.")
    _bump_size(households, persons.loc[i, p["household_id"]], -1)
    persons.loc[i, p["household_id"]] = "H999999"
    copy = persons.loc[_row(persons, p["person_id"], _DUPLICATED_PERSON)].copy()
    copy[p["person_id"]] = "P900001"
    copy[p["relationship"]] = "其他"
    copy[p["name"]] = copy[p["name"]][0] + "某"
    persons.loc[len(persons)] = copy
    _bump_size(households, copy[p["household_id"]], +1)


def _bump_size(households: pd.DataFrame, household_id: str, delta: int) -> None:
    h = HOUSEHOLD_HEADERS
    i = _row(households, h["household_id"], household_id)
    households.loc[i, h["size"]] = str(int(households.loc[i, h["size"]]) + delta)
