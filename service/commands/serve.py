"""``gridmap serve``: run the web service (maps, downloads, OGC API – Features, lookup)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from gridmap.errors import GridmapError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["DEMO_PATH", "serve_command"]

DEMO_PATH = Path("var/demo.sqlite")


@cache
def _err() -> Console:
    """The standard error console (rich is imported when ``serve`` runs, not at start-up)."""
    from rich.console import Console

    return Console(stderr=True)


def _refuse(zh: str, en: str) -> NoReturn:
    """A usage error in the language of the command line (its last ``--lang``, read before
    the options are parsed: Chinese unless ``--lang en``)."""
    from service.cli_usage import LogLanguage

    raise typer.BadParameter(zh if LogLanguage.lang == "zh" else en)


def _fresh_demo(path: Path, lang: str, district: bool = False, persons: bool = False) -> str:
    from service.demo import build_demo
    from service.district_demo import build_district_demo

    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + "-journal")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    zh = lang == "zh"
    what = ("全区演示" if zh else "district demo") if district else ("演示" if zh else "demo")
    building = f"正在建立{what}数据库" if zh else f"Building the {what} store"
    with _err().status(building) as status:
        step = lambda text: status.update(f"{what}: {text}")  # noqa: E731
        if district:
            summary = build_district_demo(url, persons=persons, step=step)
        else:
            summary = build_demo(url, step=step)
    n, grids = len(summary.plans), summary.grids
    # soft_wrap: the path is never broken over lines (the terminal wraps it, copyable)
    _err().print(f"演示数据库 {path}：{n} 个社区，{grids} 个网格。" if zh
                 else f"Demo store {path}: {n} communities, {grids} grids.",
                 soft_wrap=True)  # fmt: skip
    return url


def serve_command(
    db: str | None = typer.Option(
        None, "--db", help="Database URL (default GRIDMAP_DATABASE_URL); with --demo a file path."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    demo: bool = typer.Option(
        False, "--demo", help="Build a fresh SpatiaLite demo store (sample data) and serve it."
    ),
    district: bool = typer.Option(
        False, "--district", help="With --demo: a whole generated district (43 communities)."
    ),
    persons: bool = typer.Option(
        False, "--persons", help="With --demo --district: also its ~1,000,000 persons (slower)."
    ),
    lang: str = typer.Option("zh", "--lang", help="Language of what is printed: zh (中文) or en."),
) -> None:
    """Serve maps, GeoJSON downloads and OGC API – Features over a gridmap store."""
    import uvicorn

    from service.api.access_log import uvicorn_log_config
    from service.api.main import create_app
    from service.api.slow_clients import slow_client_limits
    from service.settings import Settings

    settings = Settings()  # the GRIDMAP_* environment, read once
    try:
        if lang not in ("zh", "en"):
            _refuse(
                f"--lang 只能是 zh 或 en，不能是 {lang!r}",
                f"--lang must be zh or en, not {lang!r}.",
            )
        if (district or persons) and not demo:
            _refuse(
                "--district 和 --persons 须与 --demo 同用",
                "--district and --persons go with --demo.",
            )
        if demo:
            if db and "://" in db and not db.startswith("sqlite:///"):
                _refuse("--demo 建的是 SpatiaLite 文件：--db 请给文件路径",
                        "--demo builds a SpatiaLite file: give --db a file path.")  # fmt: skip
            path = Path(db.removeprefix("sqlite:///")) if db else DEMO_PATH
            url = _fresh_demo(path, lang, district, persons)
        else:
            url = db or settings.database_url
        settings = Settings.model_validate({**settings.model_dump(), "database_url": url})
        app = create_app(settings)
    except GridmapError as exc:
        _err().print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(code=2) from exc
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if lang == "zh":
        typer.echo(f"全区地图：http://{shown}:{port}/maps")
        typer.echo(f"OGC API – Features：http://{shown}:{port}/（接口文档：/docs）")
    else:
        typer.echo(f"District map: http://{shown}:{port}/maps")
        typer.echo(f"OGC API – Features: http://{shown}:{port}/  (docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=uvicorn_log_config(),
                **slow_client_limits(settings.header_timeout_seconds))  # fmt: skip
