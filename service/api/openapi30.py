"""Express FastAPI's OpenAPI 3.1 document as OpenAPI 3.0 (``oas30`` conformance class).

Pydantic 2 writes optional values as ``anyOf: [X, {type: null}]`` and uses ``examples`` and
``const``; OpenAPI 3.0 has ``nullable``, ``example`` and ``enum`` instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OPENAPI_VERSION", "to_openapi30"]

OPENAPI_VERSION = "3.0.3"


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _convert(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            node.pop(key)
            node["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                node.update(rest[0])
            else:
                node[key] = rest
    if node.get("type") == "null":
        node.pop("type")
        node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and "in" not in node and node["examples"]:
        node["example"] = node.pop("examples")[0]
    return node


def to_openapi30(document: dict[str, Any]) -> dict[str, Any]:
    """Return ``document`` (OpenAPI 3.1 from FastAPI) rewritten as OpenAPI 3.0."""
    out = _convert(document)
    out["openapi"] = OPENAPI_VERSION
    out.pop("jsonSchemaDialect", None)
    info = out.get("info", {})
    if "summary" in info:  # 3.1 only
        summary = info.pop("summary")
        info["description"] = (
            f"{summary}\n\n{info['description']}" if "description" in info else summary
        )
    return out
