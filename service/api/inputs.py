"""Control characters in requests (pure ASGI middleware): ``400`` before any route or database.

A NUL (U+0000) cannot be stored in PostgreSQL text and no real grid code, id, name or reason
holds one, nor any other C0 control character. This middleware refuses them, with the same
message on every backend, wherever they arrive:

- the path and every query parameter name and value: any C0 control or DEL;
- ``application/x-www-form-urlencoded`` and JSON bodies: NUL and the C0 controls except tab,
  line feed and carriage return (a reason may span lines).

Bodies of those two types are read whole (the outer :class:`~service.api.limits.BodySizeLimit`
caps them) and replayed to the app. The storage guard in :mod:`service.storage.session` is the
second line of defence for anything that reaches the database another way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from service.api.middleware import HTTPMiddleware

__all__ = ["RejectControlCharacters", "control_character_problem"]


_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _describe(match: re.Match[str]) -> str:
    return f"U+{ord(match.group()):04X}"


def control_character_problem(
    path: str, query_string: bytes, body: bytes = b"", content_type: str = ""
) -> str | None:
    """The message for the first control character in the request's parts, or None."""
    if found := _ANY_CONTROL.search(path):
        return f"The path contains a control character ({_describe(found)}); remove it."
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace")
    for key, value in pairs:
        if found := _ANY_CONTROL.search(key) or _ANY_CONTROL.search(value):
            name = _ANY_CONTROL.sub("?", key)
            return (f"Query parameter {name!r} contains a control character "
                    f"({_describe(found)}); remove it.")  # fmt: skip
    for where, text in _body_texts(body, content_type):
        if found := _BODY_CONTROL.search(text):
            return (f"The request body ({where}) contains a control character "
                    f"({_describe(found)}); remove it.")  # fmt: skip
    return None


def _body_texts(body: bytes, content_type: str) -> Iterator[tuple[str, str]]:
    """``(location, text)`` for every key and string value of a form or JSON body."""
    if not body:
        return
    if content_type.startswith("application/x-www-form-urlencoded"):
        text = body.decode("utf-8", errors="replace")
        for key, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
            name = _BODY_CONTROL.sub("?", key)
            yield f"field {name!r}", key
            yield f"field {name!r}", value
    elif _is_json(content_type):
        try:
            document = json.loads(body)
        except ValueError:
            return  # not JSON: the route answers 422 itself
        yield from _json_strings(document, "body")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _json_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"field {_BODY_CONTROL.sub('?', str(key))!r}"
            yield here, str(key)
            yield from _json_strings(item, here)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, where)


def _needs_body(content_type: str) -> bool:
    return content_type.startswith("application/x-www-form-urlencoded") or _is_json(content_type)


class RejectControlCharacters(HTTPMiddleware):
    """Answer ``400`` with a JSON detail to requests holding control characters (see module)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        body = b""
        if _needs_body(content_type):
            body = await _read_body(receive)
            receive = _replay(body, receive)
        problem = control_character_problem(
            scope.get("path", ""), scope.get("query_string", b""), body, content_type
        )
        if problem is None:
            await self.app(scope, receive, send)
            return
        payload = json.dumps({"detail": problem}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
