"""The OpenAPI document says what the API really answers: every error is application/problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ProblemDetails",
    "type": "object",
    "description": "RFC 9457 problem details; `errors` lists invalid fields as JSON pointers.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
ERRORS = {
    "400": "Bad request",
    "401": "Not logged in, or the token is invalid or expired",
    "403": "Your role may not do this",
    "404": "Not found (or not yours)",
    "409": "Conflicts with the current state",
    "413": "Payload too large",
    "415": "Unsupported media type",
    "422": "Invalid input; `errors` names each field",
    "429": "Too many requests",
}


# Pages opened by people from a link (no API client): their errors are HTML pages for the browser.
HTML_PAGES = ("/confirm/", "/t/", "/portal", "/board")


def install_problem_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        doc.setdefault("components", {}).setdefault("schemas", {})["ProblemDetails"] = PROBLEM_SCHEMA
        for schema_name in ("HTTPValidationError", "ValidationError"):
            doc["components"]["schemas"].pop(schema_name, None)
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
        for path, path_item in doc.get("paths", {}).items():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                success = next((r for c, r in operation["responses"].items() if c.startswith("2")), {})
                # Pages for people (the customer's confirmation form) answer errors as HTML pages too.
                content = dict(problem)
                if "text/html" in success.get("content", {}) or path.startswith(HTML_PAGES):
                    content["text/html"] = {"schema": {"type": "string"}}
                for code, description in ERRORS.items():
                    operation["responses"][code] = {"description": description, "content": content}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
