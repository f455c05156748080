"""A file read from inside a zip is named as the office has it: ``村居.zip › 网格/楼栋.shp``.

An office sends a zip (a zipped Shapefile folder, a workbook zipped to mail it); the notes and
refusals about a file in it name the zip and the file inside, in both languages, so the person
finds both. What is about the zip itself (no file gridmap reads in it) names the zip alone.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridmap.errors import InputError
from gridmap.io.layers import read_layer
from gridmap.io.notes import zip_member
from service.cli import app
from tests.gridmap.test_office_files_odd import _GBKName
from tests.office_files import gbk_shapefiles

runner = CliRunner()
INNER = "网格/楼栋.shp"
NAMED = "村居.zip › 网格/楼栋.shp"


def _zip(path: Path, files: dict[str, Path]) -> Path:
    """A zip as Windows makes one on a Chinese system (member names in GBK, not flagged)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in files.items():
            archive.writestr(_GBKName(name.encode("gbk").decode("cp437")), source.read_bytes())
    return path


def _zipped_buildings(tmp_path: Path, *, drop: str | None = None) -> Path:
    """The sample's buildings as a GBK Shapefile without .cpg in folder 网格 of 村居.zip
    (``drop``: a header taken out of the .dbf first, by writing the file again without it)."""
    files = gbk_shapefiles(tmp_path / "shp", cpg=False)
    shp = files.buildings
    if drop is not None:
        import geopandas as gpd
        import pyogrio

        frame = gpd.read_file(shp, encoding="GBK").drop(columns=[drop])
        pyogrio.write_dataframe(frame, shp, encoding="GBK")
        shp.with_suffix(".cpg").unlink(missing_ok=True)
    parts = {f"网格/楼栋{p.suffix}": p for p in shp.parent.glob(f"{shp.stem}.*")}
    return _zip(tmp_path / "村居.zip", parts)


def test_zip_member_names_both():
    assert zip_member("村居.zip", INNER) == NAMED


def test_notes_about_a_shapefile_in_a_zip_name_the_zip_and_the_file(tmp_path):
    frame = read_layer(_zipped_buildings(tmp_path), "building")
    encoding = [n for n in frame.attrs["notes"] if n.code.startswith("encoding")]
    assert [n.file for n in encoding] == [NAMED]
    assert encoding[0].message("zh").startswith(f"{NAMED}：")
    assert encoding[0].message("en").startswith(f"{NAMED}: ")
    assert frame.attrs["source"] == NAMED


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_missing_column_of_a_shapefile_in_a_zip_names_the_zip_and_the_file(tmp_path, lang):
    path = _zipped_buildings(tmp_path, drop="楼栋编号")
    with pytest.raises(InputError) as caught:
        read_layer(path, "building")
    assert caught.value.message(lang).startswith(NAMED), caught.value.message(lang)
    res = runner.invoke(app, ["import", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}",
                              "--buildings", str(path), "--lang", lang])  # fmt: skip
    assert res.exit_code == 1 and NAMED in res.output, res.output


def test_a_workbook_in_a_zip_names_the_zip_and_the_workbook(tmp_path):
    book = tmp_path / "住户名单.xlsx"
    rows = pd.DataFrame({"户号": ["H1", "H2", "合计"], "楼栋编号": ["B1", "B1", None],
                         "人口数": [3, 2, 5]})  # fmt: skip
    rows.to_excel(book, index=False)
    path = _zip(tmp_path / "住户.zip", {"住户名单.xlsx": book})
    frame = read_layer(path, "household")
    left_out = [n for n in frame.attrs["notes"] if n.code == "rows_left_out"]
    assert [n.file for n in left_out] == ["住户.zip › 住户名单.xlsx"], frame.attrs["notes"]
    assert list(frame["household_id"]) == ["H1", "H2"]
    with pytest.raises(InputError) as caught:
        read_layer(path, "staff")
    for lang in ("zh", "en"):
        assert caught.value.message(lang).startswith("住户.zip › 住户名单.xlsx")


def test_what_is_about_the_zip_itself_names_the_zip_alone(tmp_path):
    readme = tmp_path / "说明.txt"
    readme.write_text("楼栋数据见附件", encoding="utf-8")
    path = _zip(tmp_path / "村居.zip", {"说明.doc": readme})
    with pytest.raises(InputError) as caught:
        read_layer(path, "building")
    assert caught.value.message("zh").startswith("村居.zip 中没有")
    assert "›" not in caught.value.message("en")
