"""The OpenAPI document is the contract: every route is in it with its success shape and
its errors in the real error shape, and Swagger UI works with no internet access."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from hookline.api.app import create_app
from tests.support.server import Running

# Served but deliberately not operations of the API.
UNDOCUMENTED = {"/openapi.json", "/docs", "/docs/assets"}
# The Svix-compatible API: its contract is Svix's own API document (docs/svix.md).
SVIX_PREFIX = "/api/v1"
# The console's and the portal's pages (and their static files): HTML for browsers, never
# API operations.
PAGE_PREFIXES = ("/console", "/portal")
ERROR = {"$ref": "#/components/schemas/Error"}


def _routes(app: FastAPI) -> Iterator[tuple[str, set[str], bool]]:
    """(path, methods, in the schema) of every route, however FastAPI groups them."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # a router FastAPI includes lazily
            for ctx in contexts():
                yield ctx.path, set(ctx.methods or ()), bool(ctx.include_in_schema)
        else:
            path = str(getattr(route, "path", ""))
            methods = set(getattr(route, "methods", None) or ())
            yield path, methods, bool(getattr(route, "include_in_schema", True))


async def test_every_route_declares_success_errors_and_auth(hookline: Running) -> None:
    doc = (await hookline.admin.get("/openapi.json")).json()
    problems: list[str] = []
    operations = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            operations += 1
            problems += _operation_problems(f"{method.upper()} {path}", path, method, op)
    # Every route the app serves is in the document, unless it is one of the few pages
    # that are not API operations.
    for path, methods, in_schema in _routes(create_app(hookline.system)):
        if not in_schema or not methods:
            if path not in UNDOCUMENTED and not _outside_the_api(path):
                problems.append(f"{path} is served but not in the OpenAPI document")
            continue
        for method in methods - {"HEAD"}:
            if method.lower() not in doc["paths"].get(path, {}):
                problems.append(f"{method} {path} is not in the OpenAPI document")
    problems += [
        f"{path} is a page but in the OpenAPI document" for path in doc["paths"] if _is_page(path)
    ]
    assert not problems, "\n".join(problems)
    assert operations >= 43
    assert doc["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an account's API key (hk_…), or the admin key",
    }
    assert set(doc["components"]["schemas"]["Error"]["required"]) == {"error", "code"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def _is_page(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)


def _outside_the_api(path: str) -> bool:
    return path.startswith(SVIX_PREFIX) or _is_page(path)


def _operation_problems(name: str, path: str, method: str, op: dict[str, Any]) -> list[str]:
    out: list[str] = []
    responses = op.get("responses", {})
    success = [s for s in responses if s.startswith("2")]
    # One success status, or 202 with the 200 of a call that ended within Prefer: wait.
    if len(success) != 1 and sorted(success) != ["200", "202"]:
        out.append(f"{name}: declares {success or 'no'} success statuses")
    for status in success:
        content = responses[status].get("content", {})
        if status == "204":  # No Content: the declared shape is no body at all
            if content:
                out.append(f"{name}: 204 declares a body")
            continue
        schemas = [c.get("schema", {}) for c in content.values()]
        if not schemas or not all(s.get("$ref") or s.get("type") for s in schemas):
            out.append(f"{name}: {status} has no schema")
    required = {"422", "500", "503"}
    if op.get("security"):
        required |= {"401", "403"}
    if "{" in path:
        required.add("404")
    if method in ("post", "put", "patch"):
        required |= {"400", "413"}
    missing = required - set(responses)
    if missing:
        out.append(f"{name}: does not declare {sorted(missing)}")
    for status, response in responses.items():
        if status[0] in "45":
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema != ERROR:
                out.append(f"{name}: {status} is not declared with the Error schema")
    public = path in ("/health", "/metrics") or path.startswith("/v1/callbacks/")
    if not public and not op.get("security"):
        out.append(f"{name}: no bearer security")
    return out


async def test_an_error_answer_matches_the_declared_shape(hookline: Running) -> None:
    r = await hookline.client("not-a-key").get("/v1/webhooks")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert set(r.json()) == {"error", "code"}


async def test_metrics_are_declared_and_served_as_text(hookline: Running) -> None:
    doc = (await hookline.admin.get("/openapi.json")).json()
    assert set(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    r = await hookline.admin.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")


async def test_swagger_ui_needs_no_internet(hookline: Running) -> None:
    page = await hookline.admin.get("/docs")
    assert page.status_code == 200
    html = page.text
    # Nothing on the page comes from another host...
    assert "://" not in html, re.findall(r"\S*://\S*", html)
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(assets)
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    assert '"validatorUrl": null' in html
    # ...and everything it names is served from here.
    for asset in assets:
        r = await hookline.admin.get(asset)
        assert r.status_code == 200, asset
        assert len(r.content) > 100, asset
    js = await hookline.admin.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"]
    assert b"SwaggerUIBundle" in js.content
