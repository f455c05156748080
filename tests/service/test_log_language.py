"""The console says a log line in the command line's language; other handlers keep the record.

:class:`service.cli_usage.LogLanguage` on the console handler prints a record's Chinese words
(``extra={"zh": …}``) under ``--lang zh``. A second handler on the same logger (a log file, an
audit trail, pytest's capture) gets the very same record object: it must still read the English
message and arguments, whichever handler runs first.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from service.cli_usage import LogLanguage

EN = "The data key %s made for this import was removed again: nothing was stored with it"
ZH = "为本次导入新建的数据密钥 %s 已删除：没有数据用它保存"
KEY = "var/keys/data.key"


class _Kept(logging.Handler):
    """A handler keeping each record and the message it read when the record reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[logging.LogRecord, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record, record.getMessage()))


@pytest.fixture
def logger(monkeypatch) -> Iterator[logging.Logger]:
    monkeypatch.setattr(LogLanguage, "lang", "zh")  # an earlier --lang en test may have left "en"
    log = logging.getLogger("tests.log_language")
    log.propagate = False
    yield log
    log.handlers.clear()


def _console(log: logging.Logger) -> io.StringIO:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    LogLanguage.install([handler])
    LogLanguage.install([handler])  # twice: still one translation
    return out


@pytest.mark.parametrize("console_first", [True, False])
def test_a_second_handler_still_sees_the_english_record(logger, console_first):
    kept = _Kept()
    if not console_first:
        logger.addHandler(kept)
    out = _console(logger)
    if console_first:
        logger.addHandler(kept)
    logger.warning(EN, KEY, extra={"zh": ZH})
    assert out.getvalue() == f"WARNING {ZH % KEY}\n"  # the console's own format kept
    ((record, message),) = kept.seen
    assert message == EN % KEY and record.msg == EN and record.args == (KEY,)
    assert record.zh == ZH


def test_english_command_lines_and_records_without_chinese_stay_english(logger, monkeypatch):
    out = _console(logger)
    logger.warning("Read %d building record(s)", 3)
    monkeypatch.setattr(LogLanguage, "lang", "en")
    logger.warning(EN, KEY, extra={"zh": ZH})
    assert out.getvalue().splitlines() == ["WARNING Read 3 building record(s)",
                                           f"WARNING {EN % KEY}"]  # fmt: skip
