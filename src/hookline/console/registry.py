"""Page routes, declared once and served in the console, the portal, or both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from starlette.responses import HTMLResponse

from hookline.console.web import CONSOLE, PORTAL


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    methods: tuple[str, ...]
    endpoint: Callable[..., Any]
    console: bool
    portal: bool


class Pages:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def get(self, path: str, *, portal: bool = False, console: bool = True) -> Callable[..., Any]:
        return self._route(path, ("GET",), portal=portal, console=console)

    def post(self, path: str, *, portal: bool = False, console: bool = True) -> Callable[..., Any]:
        return self._route(path, ("POST",), portal=portal, console=console)

    def _route(
        self, path: str, methods: tuple[str, ...], *, portal: bool, console: bool
    ) -> Callable[..., Any]:
        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.routes.append(Route(path, methods, fn, console, portal))
            return fn

        return add

    def install(self, app: FastAPI) -> None:
        for route in self.routes:
            for place, wanted in ((CONSOLE, route.console), (PORTAL, route.portal)):
                if wanted:
                    app.add_api_route(
                        place.prefix + route.path,
                        route.endpoint,
                        methods=list(route.methods),
                        include_in_schema=False,
                        response_class=HTMLResponse,
                        name=f"{place.prefix[1:]}:{route.endpoint.__name__}",
                    )


PAGES = Pages()
