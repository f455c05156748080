"""The message catalogues (gridmap/messages/*.toml, service/storage/store_errors.toml): what
:meth:`ErrorTexts.catalogue` reads, and what it refuses, naming the file and the entry."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import resources
from string import Formatter

import pytest

from gridmap.errors import CRSError, ErrorTexts, InputError, Words
from gridmap.io.readerrors import READ_ERRORS
from gridmap.messages import glossary
from gridmap.planerrors import PLAN_ERRORS
from service.storage.errors import STORE_ERRORS

_CATALOGUES = [("gridmap.messages", "read_errors.toml", READ_ERRORS),
               ("gridmap.messages", "plan_errors.toml", PLAN_ERRORS),
               ("service.storage", "store_errors.toml", STORE_ERRORS)]  # fmt: skip


@pytest.mark.parametrize("package, name, texts", _CATALOGUES, ids=[c[1] for c in _CATALOGUES])
def test_every_catalogue_entry_is_an_error_of_its_area_showing_the_lists_it_names(
    package, name, texts
):
    entries = tomllib.loads((resources.files(package) / name).read_text(encoding="utf-8"))
    assert entries and set(entries) <= set(texts.codes)
    for code, entry in entries.items():
        names = [*entry.get("listed", []), *entry.get("joined", [])]
        for lang in ("en", "zh"):
            shown = {f for _, f, _, _ in Formatter().parse(entry[lang]) if f}
            assert set(names) <= shown, (code, lang)
        assert re.search(r"[\u4e00-\u9fff]", entry["zh"]), code


def _package_with(tmp_path, monkeypatch, text: str) -> str:
    package = tmp_path / "catalogue_case"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "errors.toml").write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("catalogue_case", None)
    return "catalogue_case"


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[no_file]\nen = "File {path} not found"\n', "needs both texts, en and zh"),
        ('[no_file]\nen = "a"\nzh = "甲"\nerrror = "CRSError"\n', "unknown key(s) ['errror']"),
        ('[no_file]\nen = "a"\nzh = "甲"\nerror = "OSError"\n', "unknown error class 'OSError'"),
        ('[no_file]\nen = "{ids}"\nzh = "{ids}"\nlisted = 3\n', "a name or a list of names"),
        ('[no_file]\nen = "{ids}"\nzh = "{ids}"\nlisted = "ids"\nmost = "5"\n', "whole number"),
        ("no_file = 3\n", "not a table"),
        ('[no_file]\nen = "{c}"\nzh = "{c}"\nchinese = { c = "roles" }\n', "columns or entities"),
    ],
)
def test_a_wrong_entry_is_refused_naming_the_file_and_the_code(
    tmp_path, monkeypatch, text, problem
):
    package = _package_with(tmp_path, monkeypatch, text)
    with pytest.raises(ValueError, match=r"catalogue_case/errors\.toml \[no_file\]") as caught:
        ErrorTexts.catalogue(package, "errors.toml")
    assert problem in str(caught.value)


def test_a_catalogue_gives_templates_classes_and_lists(tmp_path, monkeypatch):
    package = _package_with(
        tmp_path,
        monkeypatch,
        """
[no_crs]
error = "CRSError"
en = "{file} has no CRS"
zh = "{file} 没有坐标系"

[no_layer]
en = "{file} has no layer {layer!r}; its layers are {layers}, plans {plans}."
zh = "{file} 中没有图层“{layer}”；图层有 {layers}，方案 {plans}。"
listed = ["layers"]
joined = ["plans"]
most = 2
""",
    )
    texts = ErrorTexts.catalogue(package, "errors.toml")
    err = texts.error("no_crs", file="a.shp")
    assert isinstance(err, CRSError) and err.message("zh") == "a.shp 没有坐标系"
    en, zh = texts.words("no_layer", file="a.gpkg", layer="x", layers=["a", "b", "c"],
                         plans=[1, 2, 3])  # fmt: skip
    assert en == "a.gpkg has no layer 'x'; its layers are ['a', 'b'], plans 1, 2."
    assert zh == "a.gpkg 中没有图层“x”；图层有 “a”、“b”，方案 1、2。"
    with pytest.raises(TypeError):
        texts.words("no_layer", file="a.gpkg", layer="x", layers=[], plans=[], sheet="s")


def test_an_error_worded_twice_is_refused():
    texts = ErrorTexts({"no_file": (InputError, ("No {path}", "没有 {path}"))})

    def words(path: str) -> Words:
        return path, path

    with pytest.raises(ValueError, match="worded twice"):
        texts.worded("no_file")(words)


def test_the_glossary_names_every_entity_and_column_in_chinese():
    entities, columns = glossary("entities"), glossary("columns")
    assert entities["household"] == ("households", "住户")
    assert all(len(v) == 2 and all(v) for v in entities.values())
    assert columns["households"] == "户数" and all(columns.values())


def test_prepared_values_fill_the_catalogue_templates_per_language(tmp_path, monkeypatch):
    package = _package_with(
        tmp_path,
        monkeypatch,
        """
[already_stored]
error = "ImportAborted"
en = "{table} id(s) {ids} are stored."
zh = "{id_name} {ids} 已在数据库中。"

[columns_missing]
en = "The {entity} file lacks {columns}."
zh = "{entity}文件缺少{columns}列。"
listed = ["columns"]
chinese = { columns = "columns", entity = "entities" }
""",
    )
    texts = ErrorTexts.catalogue(package, "errors.toml")

    @texts.prepared("already_stored")
    def _table_ids(table: str, ids: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        return {"table": table, "ids": ", ".join(ids)}, {
            "id_name": "楼栋编号",
            "ids": "、".join(ids),
        }

    err = texts.error("already_stored", table="building", ids=["B1", "B2"])
    assert (str(err), err.message("zh")) == ("building id(s) B1, B2 are stored.",
                                             "楼栋编号 B1、B2 已在数据库中。")  # fmt: skip
    assert dict(err.values) == {"table": "building", "ids": ["B1", "B2"]}
    assert texts.words("columns_missing", entity="building", columns=["households", "x"]) == (
        "The building file lacks ['households', 'x'].",
        "楼栋文件缺少“户数”、“x”列。",
    )
    with pytest.raises(KeyError):  # a listed entry is not a plain template
        texts.prepared("columns_missing")(_table_ids)
    with pytest.raises(KeyError):  # nor is a code the catalogue lacks
        texts.prepared("no_such_error")(_table_ids)
