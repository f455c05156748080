"""``/favicon.ico``: the app's icon (a grid, an SVG of ``/static/gridmap``), which browsers ask
for on every page; without it each page logs a 404."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.assets import STATIC_DIR

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_ICON = STATIC_DIR / "gridmap" / "favicon.svg"


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The icon of gridmap's pages (SVG; a day in browsers' caches)."""
    return FileResponse(_ICON, media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})  # fmt: skip
