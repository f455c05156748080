"""More office inputs, each written as a real file and read as ``gridmap import`` and
``gridmap partition`` read it: household counts typed as text, merged spreadsheet cells,
buildings drawn twice, community boundaries that cross themselves.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from gridmap import read_layer
from gridmap.attach.validate import validate_layer
from service.cli import app
from tests import office_files

runner = CliRunner()


def _partition(communities, buildings, out, *extra: str):
    args = ["partition", "--communities", str(communities), "--buildings", str(buildings),
            "--out", str(out), "--jobs", "1", *extra]  # fmt: skip
    res = runner.invoke(app, args)
    assert "Traceback" not in res.output
    return res


# --- household counts typed as text ------------------------------------------------------------

_TEXT_FORMS = (
    lambda n: f"{n:,}",  # 1,024
    lambda n: f"{n:,}".replace(",", "，"),  # full-width comma
    lambda n: f" {n} ",
    lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    lambda n: f"{n}\u3000",  # a full-width space after it (IME)
)


def _counts_as_text(files, tmp_path):
    """The buildings CSV with one tower of 1,024 households, and a copy whose counts are typed
    as offices type them: the plain file and the text one."""
    table = pd.read_csv(files.buildings, dtype=str, encoding="utf-8-sig")
    table.loc[0, "户数"] = "1024"
    plain = tmp_path / "楼栋_数字.csv"
    table.to_csv(plain, index=False, encoding="utf-8-sig")
    typed = table.copy()
    typed["户数"] = [_TEXT_FORMS[i % len(_TEXT_FORMS)](int(n)) for i, n in enumerate(table["户数"])]
    assert typed.loc[0, "户数"] == "1,024"
    text = tmp_path / "楼栋_文本.csv"
    typed.to_csv(text, index=False, encoding="utf-8-sig")
    return plain, text


def test_counts_typed_with_separators_partition_as_numbers(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    plain, text = _counts_as_text(files, tmp_path)
    grids = {}
    for name, buildings in (("plain", plain), ("text", text)):
        out = tmp_path / f"{name}.geojson"
        res = _partition(files.communities, buildings, out, "--lang", "en")
        assert res.exit_code == 0, res.output
        grids[name] = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(grids["plain"]) >= 10
    assert grids["text"] == grids["plain"]


def test_counts_typed_with_separators_import_as_numbers(tmp_path):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    plain, text = _counts_as_text(files, tmp_path)
    checked = {}
    for name, path in (("plain", plain), ("text", text)):
        frame, issues = validate_layer(read_layer(path, "building"), "building")
        assert not [i for i in issues if i.code == "invalid_count"], name
        checked[name] = frame["households"].tolist()
    assert checked["text"] == checked["plain"]
    assert checked["text"][0] == 1024


@pytest.mark.parametrize("value", ["12.5", "三百", "1,02", "12,5", "1,0240"])
def test_a_count_that_is_not_plainly_a_whole_number_is_refused_naming_the_record(tmp_path, value):
    files = office_files.buildings_lonlat_csv(tmp_path / "in")
    table = pd.read_csv(files.buildings, dtype=str, encoding="utf-8-sig")
    table.loc[3, "户数"] = value
    path = tmp_path / "楼栋.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    building = table.loc[3, "楼栋编号"]
    # import: a report line names the building, its count is cleared
    frame, issues = validate_layer(read_layer(path, "building"), "building")
    bad = [i for i in issues if i.code == "invalid_count"]
    assert [i.record_id for i in bad] == [building]
    assert value in bad[0].message("zh") and value in bad[0].message("en")
    assert pd.isna(frame.loc[3, "households"])
    # partition: refused, naming the file, the data row and the building
    for lang in ("zh", "en"):
        out = tmp_path / "grids.geojson"
        res = _partition(files.communities, path, out, "--lang", lang)
        assert res.exit_code == 2, res.output
        assert path.name in res.output and building in res.output
        assert not out.exists()
