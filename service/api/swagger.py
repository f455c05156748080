"""``/docs``: Swagger UI from the app's own vendored files (``/static/vendor/swagger-ui``), no CDN.

FastAPI's built-in ``/docs`` and ``/redoc`` load their scripts from a public CDN; the app turns
them off (``docs_url=None, redoc_url=None``) and serves this page instead. Its one inline script
is allowed by hash in the Content-Security-Policy (:mod:`service.api.headers`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from service.assets import VENDOR_URL

__all__ = ["router", "SWAGGER_URL"]

SWAGGER_URL = f"{VENDOR_URL}/swagger-ui"
router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """Interactive API documentation (Swagger UI)."""
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} – API",
        swagger_js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_URL}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_URL}/favicon-32x32.png",
        oauth2_redirect_url=None,
    )
