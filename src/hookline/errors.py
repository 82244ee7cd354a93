"""The one exception tree. The docstring of each class is its default message.

::

    HooklineError
    ├── NotFound                 a resource does not exist (or belongs to someone else)
    ├── InvalidInput             a request that cannot be carried out as given
    ├── Conflict                 the resource's state does not allow this now
    ├── AuthenticationFailed     no key, or a key that is not valid
    ├── PermissionDenied         a valid key that may not do this
    ├── PayloadTooLarge          the request body is over the limit
    ├── PaymentRequired          the balance does not cover the price of a call
    ├── QuotaExceeded            a per-account allowance is used up
    ├── StoreUnavailable         the database cannot be reached right now
    └── SecretsUnreadable        stored secrets were sealed with a key not configured

Only :mod:`hookline.api.errors` turns these into HTTP responses.
"""

from __future__ import annotations

from typing import Any


class HooklineError(Exception):
    """Something went wrong inside Hookline."""

    code = "internal_error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message = message or (self.__doc__ or "").strip()
        if code is not None:
            self.code = code
        # Where the problems are, for a client to show (e.g. {"path", "message"} each).
        self.details = details
        super().__init__(self.message)


class NotFound(HooklineError):
    """Not found."""

    code = "not_found"

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} not found", code=f"{resource}_not_found")
        self.resource = resource


class InvalidInput(HooklineError):
    """The request is not valid."""

    code = "invalid_input"


class Conflict(HooklineError):
    """The resource is not in a state that allows this."""

    code = "conflict"


class AuthenticationFailed(HooklineError):
    """A valid API key is required: send Authorization: Bearer <key>."""

    code = "unauthorized"


class PermissionDenied(HooklineError):
    """This key may not do that."""

    code = "forbidden"


class PayloadTooLarge(HooklineError):
    """The request body is larger than this server accepts."""

    code = "payload_too_large"


class StoreUnavailable(HooklineError):
    """The database is unavailable; try again shortly."""

    code = "database_unavailable"


class PaymentRequired(HooklineError):
    """The balance does not cover this call's price."""

    code = "insufficient_balance"


class QuotaExceeded(HooklineError):
    """An allowance of this account is used up."""

    code = "quota_exceeded"


class SecretsUnreadable(HooklineError):
    """Stored secrets were sealed with a key that HOOKLINE_SECRET_KEY does not hold."""

    code = "secrets_unreadable"
