"""The base of the app's pure ASGI middlewares: HTTP requests only, everything else passes."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPMiddleware"]


class HTTPMiddleware:
    """Wraps ``app``; :meth:`http` handles each HTTP request, other scopes (lifespan,
    websocket) go to ``app`` untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (by default: pass it on)."""
        await self.app(scope, receive, send)
