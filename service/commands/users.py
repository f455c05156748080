"""``gridmap user add|passwd|list|remove|genkey|rotate-key``: service users, role, scope, keys.

Passwords are read from a hidden prompt (or ``--password-stdin``), never from the command line,
and must pass :func:`service.storage.auth.password_problems` (long, not common, not the user
name). A new password revokes the user's older access tokens.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from gridmap.errors import GridmapError
from service.commands.options import DB
from service.storage.roles import ROLES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["user_app"]

user_app = typer.Typer(help="Service users: add, list, remove; generate a data key.",
                       no_args_is_help=True)  # fmt: skip


def _fail(exc: Exception) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=1)


@contextmanager
def _session(db: str | None) -> Iterator[Session]:
    """A transaction on the migrated store at ``db``; a gridmap error exits with one line.

    Users are tables without geometry: a store at the newest schema is opened without
    SpatiaLite, GDAL or Alembic (:func:`~service.storage.migrate.open_store`), so these
    commands start quickly.
    """
    from service.storage.migrate import open_store
    from service.storage.session import session_scope

    try:
        engine = open_store(db, spatial=False)
    except GridmapError as exc:
        _fail(exc)
    try:
        with session_scope(engine) as session:
            yield session
    except GridmapError as exc:
        _fail(exc)
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


_PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from standard input."
)


@user_app.command("add")
def add(
    username: str = typer.Argument(..., help="Sign-in name."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    grid: list[str] = typer.Option(
        [], "--grid", help="Grid code served (grid_worker, party_member; repeat)."
    ),
    community: str | None = typer.Option(None, "--community", help="Community code (admin)."),
    district: str | None = typer.Option(None, "--district", help="6-digit district code."),
    can_reveal: bool = typer.Option(False, "--can-reveal", help="May see full values (audited)."),
    password_stdin: bool = _PASSWORD_STDIN,
    db: str | None = DB,
) -> None:
    """Add a user with a role and scope."""
    from service.storage.auth import create_user

    password = _read_password(password_stdin)
    with _session(db) as session:
        info = create_user(session=session, username=username, password=password, role=role,
                           grid_codes=grid, community_code=community, district_code=district,
                           can_reveal=can_reveal)  # fmt: skip
    typer.echo(f"Added {info.username} ({info.role}).")


@user_app.command("passwd")
def passwd(
    username: str = typer.Argument(..., help="Sign-in name."),
    password_stdin: bool = _PASSWORD_STDIN,
    db: str | None = DB,
) -> None:
    """Set a user's password (their older access tokens stop working)."""
    from service.storage.auth import set_password

    password = _read_password(password_stdin)
    with _session(db) as session:
        set_password(session=session, username=username, password=password)
    typer.echo(f"Changed the password of {username}.")


@user_app.command("list")
def list_(db: str | None = DB) -> None:
    """List users: name, role, scope, reveal permission."""
    from service.storage.direct import read_users

    # A store at the newest schema with its key recorded is read without SQLAlchemy; any other
    # (to create, migrate or check) is opened as by the other commands.
    users = read_users(db)
    if users is None:
        from service.storage.auth import list_users

        with _session(db) as session:
            users = list_users(session=session)
    for u in users:
        scope = ",".join(u.grid_codes) or u.community_code or u.district_code or "-"
        typer.echo(f"{u.username}\t{u.role}\t{scope}\t{'reveal' if u.can_reveal else '-'}")


@user_app.command("remove")
def remove(username: str = typer.Argument(...), db: str | None = DB) -> None:
    """Remove a user (their audit records stay)."""
    from service.storage.auth import remove_user

    with _session(db) as session:
        remove_user(session=session, username=username)
    typer.echo(f"Removed {username}.")


@user_app.command("genkey")
def genkey() -> None:
    """Print a new random data key for GRIDMAP_DATA_KEY (keep it safe: data needs it)."""
    from service.storage.keys import generate_key

    typer.echo(generate_key())


@user_app.command("rotate-key")
def rotate_key(
    new_key_file: Path = typer.Option(
        ..., "--new-key-file", help="Where to write the new key (must not exist; mode 0600)."
    ),  # fmt: skip
    db: str | None = DB,
) -> None:
    """Re-encrypt the store under a new data key (one transaction); sign-ins start afresh."""
    from service.storage.crypto import (
        derive_keys,
        generate_key,
        keys_of,
        parse_key,
        rotate_store_key,
    )
    from service.storage.migrate import open_store

    try:
        # Checks that the current key is the store's. The encrypted values live in tables
        # without geometry (person, staff, work_order): no SpatiaLite needed when migrated.
        engine = open_store(db, spatial=False)
    except GridmapError as exc:
        _fail(exc)
    try:
        new_key, new_key_file = generate_key(), new_key_file.expanduser()
        _write_private(new_key_file, new_key)
        try:
            with engine.begin() as conn:
                count = rotate_store_key(conn, keys_of(engine), derive_keys(parse_key(new_key)))
        except BaseException:
            new_key_file.unlink()  # the store is unchanged: the new key is of no use
            raise
    except (GridmapError, FileExistsError) as exc:
        _fail(exc)
    finally:
        engine.dispose()
    typer.echo(f"Re-encrypted {count} value(s) under the new key in {new_key_file}.\n"
               "Point GRIDMAP_DATA_KEY_FILE at it (and unset GRIDMAP_DATA_KEY), restart the "
               "service; every user signs in again. Keep the old key while backups made with "
               "it exist.")  # fmt: skip


def _write_private(path: Path, key: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
