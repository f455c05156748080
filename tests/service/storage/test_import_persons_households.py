"""Persons imported together with a households file attach to the file's households AND to the
households already stored (an office adds a few households and gives its whole roster): the
persons of stored households keep their household, nothing else changes. Both backends."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from geodata import SAMPLE_DIR
from service.importer import import_files
from service.storage import models as m
from service.storage.session import make_engine, session_scope

GPKG = SAMPLE_DIR / "bijiang.gpkg"
SPATIAL = {"community": GPKG, "compound": GPKG, "street": GPKG, "building": GPKG}
LAYERS = {"community": "communities", "compound": "compounds", "street": "streets",
          "building": "buildings"}  # fmt: skip


def _rosters(directory: Path, first: int, new: int) -> dict[str, Path]:
    """Households 1..first (stored first) and first+1..first+new (the new ones), the persons of
    the stored ones, and the whole roster of both plus one person of an unknown household."""
    households = pd.read_csv(SAMPLE_DIR / "households.csv", dtype=str)
    persons = pd.read_csv(SAMPLE_DIR / "persons.csv", dtype=str)
    old, added = households.iloc[:first], households.iloc[first : first + new]
    roster = persons[persons["户号"].isin(set(old["户号"]) | set(added["户号"]))].copy()
    stray = roster.iloc[[0]].assign(人员编号="P999999", 户号="H999999", 身份证号=None)
    paths = {"old": directory / "old.csv", "added": directory / "added.csv",
             "old_persons": directory / "old_persons.csv",
             "roster": directory / "roster.csv"}  # fmt: skip
    old.to_csv(paths["old"], index=False)
    added.to_csv(paths["added"], index=False)
    roster[roster["户号"].isin(set(old["户号"]))].to_csv(paths["old_persons"], index=False)
    pd.concat([roster, stray]).to_csv(paths["roster"], index=False)
    return paths


def _stored(url: str) -> dict[str, dict]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            persons = dict(session.execute(select(m.Person.id, m.Person.household_id)).all())
            households = {h.id: (h.building_id, h.unit, h.floor, h.room)
                          for h in session.scalars(select(m.Household))}  # fmt: skip
            buildings = dict(session.execute(select(m.Building.id, m.Building.households)).all())
    finally:
        engine.dispose()
    return {"person": persons, "household": households, "building": buildings}


def test_persons_with_new_households_attach_to_stored_ones(store_url, tmp_path):
    paths = _rosters(tmp_path, first=400, new=25)
    import_files(SPATIAL, url=store_url, layers=LAYERS)
    import_files({"household": paths["old"], "person": paths["old_persons"]}, url=store_url)
    before = _stored(store_url)
    roster = pd.read_csv(paths["roster"], dtype=str)
    added = set(pd.read_csv(paths["added"], dtype=str)["户号"])
    assert added and not added & set(before["household"])

    result = import_files({"household": paths["added"], "person": paths["roster"]},
                          url=store_url, update=True)  # fmt: skip
    after = _stored(store_url)

    unknown = [(i.record_id, dict(i.values)) for i in result.report
               if i.entity == "person" and i.reason == "unknown household"]  # fmt: skip
    assert unknown == [("P999999", {"household_id": "H999999"})]
    expected = dict(zip(roster["人员编号"], roster["户号"], strict=True))
    expected["P999999"] = None
    assert after["person"] == expected
    persons_of_added = int(roster["户号"].isin(added).sum())
    changes = {e: c.as_dict() for e, c in result.changes.items()}
    assert changes["person"]["added"] == persons_of_added + 1
    assert changes["person"]["updated"] == 0
    assert changes["person"]["unchanged"] == len(before["person"])
    assert changes["household"]["added"] == len(added)
    assert changes["household"]["updated"] == changes["household"]["unchanged"] == 0
    # the stored households and the buildings are as they were; only the new ones came
    assert {h: v for h, v in after["household"].items() if h in before["household"]} == \
        before["household"]  # fmt: skip
    assert set(after["household"]) - set(before["household"]) == added
    assert after["building"] == before["building"]
