"""Typer's own usage errors (a missing or unknown option or command, a value it cannot convert,
extra arguments) in the command line's language: Chinese under ``--lang zh`` and by default,
Typer's English unchanged under ``--lang en``; and a log line a person sees on the console (a new
data key made) in that language too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperGroup
from typer.testing import CliRunner

from service.cli import app
from tests.gridmap.test_cli_language import english_words, foreign_chinese

runner = CliRunner()
_PARTITION = ["partition", "--buildings", "b.geojson", "--out", "o.geojson"]
CASES = {
    "missing_option": (["partition"], "缺少选项 '--communities'。",
                       "Missing option '--communities'."),
    "no_such_option": (["import", "--comunities", "c.shp"],
                       "没有选项 --comunities（可用的有 --communities、--compounds）。",
                       "No such option: --comunities"),
    "not_an_integer": ([*_PARTITION, "--communities", "c.shp", "--min-households", "三百"],
                       "'--min-households' 的值无效：'三百' 不是整数。",
                       "Invalid value for '--min-households'"),
    "no_such_command": (["partitoin"], "没有命令 'partitoin'；您要的是不是 'partition'？",
                        "No such command 'partitoin'. Did you mean 'partition'?"),
    "extra_argument": (["import", "--update", "楼栋.shp"], "多余的参数：楼栋.shp。",
                       "Got unexpected extra argument(s) (楼栋.shp)"),
    "missing_argument": (["plan", "show"], "缺少参数 'plan_id'。", "Missing argument"),
    "option_without_value": (["partition", "--communities"], "选项 '--communities' 需要一个值。",
                             "Option '--communities' requires an argument."),
    "nested_option_without_value": (["plan", "partition", "--community"],
                                    "选项 '--community' 需要一个值。",
                                    "Option '--community' requires an argument."),
}  # fmt: skip
_DATA = {"三百", "楼栋.shp"}
_COMMAND = {"missing_option": "gridmap partition", "no_such_option": "gridmap import",
            "not_an_integer": "gridmap partition", "no_such_command": "gridmap",
            "extra_argument": "gridmap import",
            "missing_argument": "gridmap plan show",
            "option_without_value": "gridmap partition",
            "nested_option_without_value": "gridmap plan partition"}  # fmt: skip


def _with_lang(args: list[str], lang: list[str]) -> list[str]:
    """``args`` with ``--lang X`` at the end, or before an option left without its value."""
    if args[-1].startswith("--"):
        return [*args[:-1], *lang, args[-1]]
    return [*args, *lang]


def _run(args: list[str]) -> tuple[int, str]:
    res = runner.invoke(app, args, env={"COLUMNS": "120"})
    return res.exit_code, res.stdout + res.stderr


@pytest.mark.parametrize("lang", ["zh", None])
@pytest.mark.parametrize("name", sorted(CASES))
def test_usage_errors_in_chinese(name, lang):
    args, zh, _ = CASES[name]
    code, output = _run(_with_lang(args, ["--lang", lang] if lang else []))
    assert code == 2
    assert output == f"错误：{zh}\n可用 {_COMMAND[name]} --help 查看用法。\n"
    typed = re.sub(r"'[^']*'", " ", output)  # options, commands and values, as typed
    assert english_words(typed) == [], output


@pytest.mark.parametrize("name", sorted(CASES))
def test_usage_errors_in_english_are_typers(name, monkeypatch):
    args = _with_lang(CASES[name][0], ["--lang", "en"])
    code, output = _run(args)
    en = CASES[name][2]
    assert code == 2 and en in output and foreign_chinese(output, _DATA) == [], output
    monkeypatch.setattr(app.info, "cls", TyperGroup)  # Typer's own group: the same words
    assert _run(args) == (code, output)
    if not name.endswith("without_value"):  # the parser's error has no command to name
        assert "Try 'gridmap" in output and "--help' for help." in output


def test_help_and_the_commands_own_refusals_are_left_alone():
    code, output = _run([])  # no arguments: the help, as before
    assert code == 2 and "Usage: gridmap" in output and "错误" not in output
    code, output = _run(["import"])  # the command's own refusal, in --lang (zh)
    assert (code, output) == (2, "错误：请至少给出一个文件，例如 --buildings 楼栋.shp\n")


@pytest.mark.parametrize(
    ("args", "zh"),
    [(["serve", "--district"], "--district 和 --persons 须与 --demo 同用"),
     (["serve", "--demo", "--db", "postgresql://h/db"], "--demo 建的是 SpatiaLite 文件")],
)  # fmt: skip
def test_serves_own_usage_errors_are_in_chinese_too(args, zh):
    code, output = _run(args)
    assert code == 2 and zh in output and "可用 gridmap serve --help 查看用法。" in output
    assert english_words(re.sub(r"--[a-z]+|SpatiaLite", " ", output)) == [], output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_data_key_is_said_in_the_language(lang, tmp_path: Path):
    """A command opening a store without data and without a key makes one and says so on the
    console, in ``--lang``."""
    env = {k: v for k, v in os.environ.items() if k != "GRIDMAP_DATA_KEY"}
    key = tmp_path / "key"
    env["GRIDMAP_DATA_KEY_FILE"] = str(key)
    code = ("import sys\nfrom service.cli import main\nsys.argv = ['gridmap'] + sys.argv[1:]\n"
            "main()")  # fmt: skip
    args = ["plan", "list", "--db", f"sqlite:///{tmp_path / 'store.sqlite'}", "--lang", lang]
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         env=env, check=True)  # fmt: skip
    assert key.exists()
    said = (
        f"已新建数据密钥 {key}：请备份，没有它数据将无法读取"
        if lang == "zh"
        else f"Created a new data key in {key}: back it up, the data cannot be read without it"
    )
    assert out.stderr.splitlines() == [said], out.stderr
    assert out.stdout.strip() == ("暂无方案" if lang == "zh" else "no plans")
