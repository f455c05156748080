"""``gridmap import`` refusals are chosen and headed by their code, never by their text.

* Records naming a community the import left out (a bow-tie boundary) are refused with one
  coded error of the store's table (``communities_left_out``), however many communities.
* The heading says "nothing was written" unless the error's kind or code says its words do:
  a file an office renamed after a failed import (``楼栋（上次导入未写入任何内容）.csv``) must
  not make the command keep that sentence back.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from gridmap.errors import InputError
from service.cli import app
from service.importer import import_files
from service.storage.errors import STORE_ERRORS, says_nothing_written
from tests import office_files
from tests.gridmap.test_errors_bilingual import _STORE

runner = CliRunner()


def _bow_ties(directory: Path, rows: tuple[int, ...]) -> dict[str, Path]:
    """The sample's communities with ``rows`` drawn as bow ties (area about zero) and its
    buildings (their community column names them)."""
    layers = office_files.sample_layers()
    communities = layers["communities"].copy()
    for row in rows:
        minx, miny, maxx, maxy = communities.geometry.iloc[row].bounds
        communities.loc[communities.index[row], "geometry"] = shapely.Polygon(
            [(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)]
        )
    directory.mkdir(parents=True, exist_ok=True)
    communities.to_file(directory / "社区.geojson")
    layers["buildings"].drop(columns=["compound_id"]).to_file(directory / "楼栋.geojson")
    return {"community": directory / "社区.geojson", "building": directory / "楼栋.geojson"}


def test_records_of_communities_left_out_are_one_coded_error(tmp_path):
    files = _bow_ties(tmp_path / "files", (1, 2))
    store = tmp_path / "store.sqlite"
    with pytest.raises(InputError) as caught:
        import_files(files, url=f"sqlite:///{store}")
    err = caught.value
    assert err.code == "communities_left_out"
    left_out = {(code, entity, n) for code, _, entity, _, n in err.values["left_out"]}
    assert left_out == {("520602001005", "building", 9), ("520602002002", "building", 26)}
    zh, en = err.message("zh"), err.message("en")
    assert zh.count("未导入（") == 2 and zh.endswith("未写入任何内容。")
    assert en.count("was left out (") == 2 and en.endswith("Nothing was written.")
    assert says_nothing_written(err) and not store.exists()


@pytest.mark.parametrize("code", sorted(_STORE))
def test_the_code_tells_whether_the_words_say_nothing_was_written(code):
    err = STORE_ERRORS.error(code, **_STORE[code])
    said = "nothing was written" in str(err).lower()
    assert said == ("未写入任何内容" in err.message("zh")) == says_nothing_written(err)


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("zh", "导入失败，未写入任何内容："), ("en", "Import failed, nothing was written: ")],
)
def test_a_file_named_after_a_failed_import_still_hears_nothing_was_written(
    tmp_path, lang, heading
):
    renamed = tmp_path / "楼栋（上次导入未写入任何内容，nothing was written）.csv"
    pd.DataFrame({"楼栋名称": ["1栋"], "户数": [40]}).to_csv(renamed, index=False, encoding="gbk")
    store = tmp_path / "store.sqlite"
    res = runner.invoke(app, ["import", "--db", f"sqlite:///{store}", "--buildings",
                              str(renamed), "--lang", lang])  # fmt: skip
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.split())
    assert heading.strip() in said, said
    assert renamed.name in said and not store.exists()
