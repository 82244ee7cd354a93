"""The OpenAPI document as the contract, and Swagger UI served from the package.

Routes declare their success shape (``response_model``) and any error particular to them
(``responses=errors(409)``). Everything every route can answer is added here to each
operation of the generated document, so a route added later gets it without asking:

- ``422`` (validation and the input limits) and ``500``, ``503`` on every operation;
- ``400`` and ``413`` where a body is read (POST, PUT, PATCH);
- ``401`` and ``403`` where the bearer key is required (the operation has ``security``);
- ``404`` where the path names a resource.

All of them with the real error body, ``{"error", "code", …}``. The input limits every
route shares are stated here too: every integer is 64-bit (``minimum``/``maximum``) and
every string excludes NUL (``pattern``).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from hookline.api.limits import INT_MAX, INT_MIN
from hookline.api.shapes import Error

ERROR_REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    400: "The body is not JSON (invalid_json)",
    401: "No API key, or one that is not valid (unauthorized)",
    402: "The balance does not cover the price (insufficient_balance)",
    403: "A valid key that may not do this (forbidden)",
    404: "Not found, or not this account's (e.g. webhook_not_found)",
    409: "The resource's state does not allow this now",
    413: "The body is over max_body_bytes (payload_too_large)",
    422: "Invalid input: validation_error, invalid_string, json_too_deep, "
    "integer_out_of_range, number_out_of_range, or a code of the field's own",
    429: "An allowance of this account is used up",
    500: "Internal error (internal_error); details are only in the server's log",
    503: "The database cannot be reached (database_unavailable); retry shortly",
}
BODY_METHODS = frozenset({"post", "put", "patch"})
NO_NUL = "^[^\\u0000]*$"
DOCS_ASSETS = "/docs/assets"


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the error statuses particular to one route."""
    return {s: {"model": Error, "description": DESCRIPTIONS[s]} for s in statuses}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the shared error responses to every operation (idempotent, in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    # FastAPI's own validation error shape is never what Hookline answers.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    _state_limits(schema)
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            statuses = {422, 500, 503}
            if method in BODY_METHODS:
                statuses |= {400, 413}
            if op.get("security"):
                statuses |= {401, 403}
            if "{" in path:
                statuses.add(404)
            for status in statuses:
                key = str(status)
                if key == "422" or key not in responses:
                    responses[key] = _error(status)
    return schema


def _state_limits(node: Any) -> None:
    """Write the shared input limits into every integer and string schema."""
    if isinstance(node, list):
        for item in node:
            _state_limits(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        node.setdefault("minimum", INT_MIN)
        node.setdefault("maximum", INT_MAX)
    elif node.get("type") == "string" and not {"enum", "const", "format", "pattern"} & set(node):
        node["pattern"] = NO_NUL
    for key, value in node.items():
        if key not in ("example", "examples", "default", "enum", "const"):
            _state_limits(value)


class HooklineAPI(FastAPI):
    """FastAPI whose OpenAPI document carries the shared error responses."""

    def openapi(self) -> dict[str, Any]:
        return complete(super().openapi())


def serve_docs(app: FastAPI, path: str = "/docs") -> None:
    """Swagger UI at ``path``, its scripts and styles served from the installed
    ``fastapi-offline`` package, so the page works with no internet access."""
    app.mount(
        DOCS_ASSETS,
        StaticFiles(directory=str(files("fastapi_offline") / "static")),
        name="docs-assets",
    )

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # No validator badge: it would load an image from a public service.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    app.add_api_route(path, swagger_ui, methods=["GET"], include_in_schema=False)
