"""``gridmap serve --demo`` speaks one language: Chinese by default, English with ``--lang en``
(the new data key's line and the demo's own lines alike)."""

from __future__ import annotations

import re

import pytest
import uvicorn
from typer.testing import CliRunner

from service.cli import app
from tests.gridmap.test_cli_language import english_words

_NAMES = re.compile(r"OGC API – Features|SpatiaLite|https?://\S+|/docs|--\w+")
"""What either language prints as it is: the API's name, addresses and options."""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_demo_is_said_in_one_language(lang, tmp_path, monkeypatch):
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: None)
    monkeypatch.delenv("GRIDMAP_DATA_KEY", raising=False)
    monkeypatch.setenv("GRIDMAP_DATA_KEY_FILE", str(tmp_path / "data.key"))
    store = tmp_path / ("a-long-folder-name-" * 5) / "demo.sqlite"  # longer than a line
    result = CliRunner().invoke(app, ["serve", "--demo", "--db", str(store), "--lang", lang])
    assert result.exit_code == 0, result.output
    said = result.stdout + result.stderr
    assert "http://127.0.0.1:8000/maps" in said and store.exists()
    assert str(store) in said  # whole, never broken over lines
    words = _NAMES.sub(" ", said.replace(str(store), " "))
    if lang == "zh":
        assert "全区地图" in said and english_words(words) == [], said
    else:
        assert "District map" in said and not re.search(r"[\u4e00-\u9fff]", words), said


def test_an_unknown_language_is_refused_before_anything_is_built(tmp_path):
    result = CliRunner().invoke(app, ["serve", "--demo", "--db", str(tmp_path / "d.sqlite"),
                                      "--lang", "fr"])  # fmt: skip
    assert result.exit_code == 2 and not (tmp_path / "d.sqlite").exists()
    said = result.stdout + result.stderr  # neither language was chosen: English, as Typer says
    assert "--lang must be zh or en" in said and "Traceback" not in said
