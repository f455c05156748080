"""The gridmap web application: ``create_app(settings)`` assembles it (no logic here)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from service import assets
from service.api.access_log import install_access_log_filter
from service.api.cache import CachedAnswers, ResponseCache
from service.api.errors import add_exception_handlers
from service.api.headers import SecurityHeaders
from service.api.inputs import RejectControlCharacters
from service.api.limits import SEARCHES_PER_MINUTE, BodySizeLimit, RateLimiter
from service.api.openapi30 import to_openapi30
from service.api.openapi_docs import complete_document
from service.api.routes import (
    board,
    downloads,
    favicon,
    lookup,
    maps,
    ogc,
    open311,
    order_pages,
    orders,
    residents,
    tiles,
)
from service.api.security import router as auth_router
from service.api.swagger import router as docs_router
from service.settings import Settings, get_settings
from service.storage.crypto import check_engine_key
from service.storage.revision import RevisionWatch
from service.storage.session import make_engine, make_sessionmaker

__all__ = ["create_app"]

_TEMPLATES = Path(__file__).with_name("templates")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app on ``settings`` (default: ``GRIDMAP_*`` environment)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, settings=settings)  # its data key too
    check_engine_key(engine)  # a data key that is not the store's is refused here
    revision_watch = RevisionWatch(engine)  # the store's revision, kept (service.api.cache)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        revision_watch.close()
        engine.dispose()

    app = FastAPI(
        title="gridmap",
        summary="社区网格化服务管理: communities, grids and buildings as maps and OGC API.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # /docs from service.api.swagger (no CDN); no /redoc
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.templates = Jinja2Templates(directory=_TEMPLATES)
    app.state.templates.env.globals["leaflet_missing"] = assets.missing_message
    app.state.search_limiter = RateLimiter(SEARCHES_PER_MINUTE, window_s=60.0)
    app.state.response_cache = ResponseCache(settings.response_cache_mb * 2**20)
    app.state.revision_watch = revision_watch
    add_exception_handlers(app)
    assets.ensure_installed()
    app.mount("/static/vendor", assets.optional_static_files(assets.VENDOR_DIR))
    app.mount("/static/gridmap", StaticFiles(directory=assets.STATIC_DIR / "gridmap"))
    for module in (
        ogc,
        tiles,
        maps,
        lookup,
        downloads,
        residents,
        orders,
        board,
        open311,
        order_pages,
    ):
        app.include_router(module.router)
    app.include_router(auth_router)
    app.include_router(favicon.router)
    app.include_router(docs_router)
    app.add_middleware(CachedAnswers)  # kept public answers, before routing (service.api.cache)
    app.add_middleware(RejectControlCharacters)  # inside the size limit: bodies it reads are capped
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, 413s included
    install_access_log_filter()
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, summary=app.summary,
                               routes=app.routes)  # fmt: skip
        app.openapi_schema = to_openapi30(complete_document(document))
    return app.openapi_schema
