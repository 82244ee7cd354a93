"""The one HTTP client the CLI's commands use, and where it finds its server and key.

Errors form a short tree, each with the process exit code it means::

    CliError            (1)
    ├── ApiError        (1: the API refused the request, 4xx)
    │   └── AuthError   (4: 401 or 403)
    └── Unavailable     (3: unreachable, timed out, or a 5xx)

Settings come from ``--url`` / ``--api-key``, else ``HOOKLINE_URL`` /
``HOOKLINE_API_KEY``, else the file ``hookline login`` wrote
(``$XDG_CONFIG_HOME/hookline/config.json``, mode 0600).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import httpx

from hookline import __version__


class Exit(IntEnum):
    OK = 0
    API_ERROR = 1
    USAGE = 2
    UNAVAILABLE = 3
    AUTH = 4


class CliError(Exception):
    exit_code = Exit.API_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(CliError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status = status
        self.code = code


class AuthError(ApiError):
    exit_code = Exit.AUTH


class Unavailable(CliError):
    exit_code = Exit.UNAVAILABLE


class NotLoggedIn(CliError):
    exit_code = Exit.AUTH


@dataclass
class Target:
    """The server and key given on the command line or in the environment."""

    url: str | None = None
    api_key: str | None = None


# Set once per invocation by the root command's options (see cli/root.py).
given = Target()


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hookline" / "config.json"


def load_saved() -> dict[str, str]:
    try:
        doc = json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}


def save(url: str, api_key: str) -> Path:
    """Write the login file readable by its owner alone (the key is a credential)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"url": url, "api_key": api_key}, out)
    os.chmod(path, 0o600)  # an older file may have had a wider mode
    return path


class Client:
    def __init__(self, url: str, api_key: str | None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        headers = {"User-Agent": f"hookline-cli/{__version__}"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON answer, or a :class:`CliError`."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            r = self.http.request(method, path, json=body, params=query, headers=headers)
        except httpx.TransportError as exc:
            raise Unavailable(f"cannot reach {self.url}: {exc}") from None
        return answer(r)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, body=body, **kw)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def pages(self, path: str, *, limit: int | None, **params: Any) -> Iterator[dict[str, Any]]:
        """Items of a paged list, newest first, following cursors up to ``limit`` items
        (``None``: all of them)."""
        cursor = None
        seen = 0
        while True:
            size = 250 if limit is None else min(250, limit - seen)
            doc = self.get(path, **params, cursor=cursor, limit=size)
            for item in doc["data"]:
                yield item
                seen += 1
            cursor = doc.get("next_cursor")
            if not cursor or (limit is not None and seen >= limit):
                return

    def close(self) -> None:
        self.http.close()


def answer(r: httpx.Response) -> Any:
    if r.status_code < 400:
        return r.json() if r.content else None
    try:
        doc = r.json()
        code, message = str(doc.get("code", "error")), str(doc.get("error", r.reason_phrase))
    except ValueError:
        code, message = "error", r.reason_phrase
    if r.status_code >= 500:
        raise Unavailable(f"the server failed: {message} ({r.status_code} {code})")
    if r.status_code in (401, 403):
        raise AuthError(r.status_code, code, message)
    raise ApiError(r.status_code, code, message)


def resolve() -> tuple[str, str | None]:
    """The server URL and key for this invocation (flags, environment, login file)."""
    saved = load_saved()
    url = given.url or saved.get("url")
    key = given.api_key or saved.get("api_key")
    if not url:
        raise NotLoggedIn(
            "no server: run `hookline login`, or set HOOKLINE_URL and HOOKLINE_API_KEY"
        )
    return url, key


def connect() -> Client:
    url, key = resolve()
    return Client(url, key)
