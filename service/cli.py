"""The ``gridmap`` command line: import, partition, redistrict, serve, users, the store (db).

Each command lives in its own module under ``service/commands``; this file only assembles them.
click's own usage errors and the log lines on the console are said in ``--lang``
(:mod:`service.cli_usage`).
"""

from __future__ import annotations

import logging

import typer

from service.cli_usage import LanguageGroup, LogLanguage

app = typer.Typer(
    name="gridmap",
    cls=LanguageGroup,  # click's usage errors in --lang (Chinese by default)
    help="Community grid mapping: import data, partition communities into grids, serve maps.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold personal data
)


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    root = logging.getLogger()
    console = not root.handlers
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    if console:  # the handler basicConfig made: its lines in --lang where they have Chinese
        LogLanguage.install(root.handlers)


# Commands are registered below, one line each (keep this list sorted by command name).
from service.commands.db import db_app  # noqa: E402

app.add_typer(db_app, name="db")
from service.commands.importing import import_command  # noqa: E402

app.command("import")(import_command)
from service.commands.partition import partition_command  # noqa: E402

app.command("partition")(partition_command)
from service.commands.orders import orders_app  # noqa: E402

app.add_typer(orders_app, name="orders")
from service.commands.plans import plan_app  # noqa: E402

app.add_typer(plan_app, name="plan")
from service.commands.users import user_app  # noqa: E402

app.add_typer(user_app, name="user")
from service.commands.redistrict import redistrict_command  # noqa: E402

app.command("redistrict")(redistrict_command)
from service.commands.serve import serve_command  # noqa: E402

app.command("serve")(serve_command)


def main() -> None:
    """Entry point of the ``gridmap`` console script: a database that cannot be reached is
    said in one line (in ``--lang``), not as a traceback, whichever command met it."""
    try:
        app()
    except Exception as exc:
        if not _database_unreachable(exc):
            raise
        import sys

        from service.commands.options import unreachable_reason

        en = (
            f"error: cannot reach the database: {unreachable_reason(exc)}."
            " Check --db (or GRIDMAP_DATABASE_URL) and that the database server runs."
        )
        zh = ("错误：无法连接数据库；请检查 --db 给的地址（或环境变量 GRIDMAP_DATABASE_URL），以及"
              "数据库服务是否在运行。")  # fmt: skip
        sys.stderr.write((zh if LogLanguage.lang == "zh" else en) + "\n")
        raise SystemExit(2) from None


def _database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLAlchemy's word that the database cannot be reached (an
    OperationalError or InterfaceError before any statement ran); SQLAlchemy is not imported
    for the check."""
    kind = type(exc)
    return (
        kind.__module__.startswith("sqlalchemy.")
        and kind.__name__
        in (
            "OperationalError",
            "InterfaceError",
        )
        and getattr(exc, "statement", None) is None
    )
