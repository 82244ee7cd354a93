"""Registering and managing webhooks (endpoints)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hookline.domain import control, egress, operational
from hookline.domain.matching import is_valid_pattern
from hookline.domain.models import (
    DeliveryMode,
    Endpoint,
    EndpointStatus,
    Ordering,
    Page,
    PayloadFormat,
)
from hookline.domain.retry import InvalidRetryPolicy, RetryPolicy
from hookline.domain.rules import InvalidRules, compile_rules
from hookline.domain.signing import (
    HEADER_NAME,
    KeyType,
    Scheme,
    generate_secret,
    key_type,
    secret_problem,
)
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.applications import check_metadata, check_uid
from hookline.services.common import Context
from hookline.store.applications import UidTaken
from hookline.store.endpoints import EndpointRepository

MAX_URL_LENGTH = 2048
MAX_EVENT_PATTERNS = 256
MAX_HEADERS = 32
ROTATION_GRACE = timedelta(hours=24)
MAX_ROTATION_GRACE = timedelta(days=7)
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "user-agent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "svix-id",
        "svix-timestamp",
        "svix-signature",
    }
)
# Visible ASCII, spaces and tabs: what every HTTP stack sends and receives unchanged.
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]{0,1024}")
_CHANNEL = re.compile(r"[a-zA-Z0-9\-_.:]{1,128}")


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    url: str
    secret: str | None = None
    events: Sequence[str] | None = None
    retry_policy: Mapping[str, Any] | None = None
    scheme: Scheme = Scheme.STANDARD
    signature_header: str | None = None
    description: str = ""
    headers: Mapping[str, str] | None = None
    send_traceparent: bool = False
    secret_headers: Sequence[str] | None = None
    rules: Sequence[Any] | None = None
    mode: DeliveryMode = DeliveryMode.PUSH
    # The kind of secret to generate when none is given (default: HMAC).
    key_type: KeyType | None = None
    rate_limit: float | None = None
    ordering: Ordering = Ordering.UNORDERED
    timeout: float | None = None
    payload_format: PayloadFormat = PayloadFormat.ENVELOPE
    uid: str | None = None
    metadata: Mapping[str, str] | None = None
    channels: Sequence[str] | None = None
    active: bool = True


class WebhookService:
    def __init__(
        self,
        repo: EndpointRepository,
        ctx: Context,
        allow: tuple[egress.IPNetwork, ...],
        max_timeout: float = 15.0,
    ) -> None:
        self.repo = repo
        self.ctx = ctx
        self.allow = allow
        self.max_timeout = max_timeout

    async def create(self, account_id: str, app_id: str, spec: WebhookSpec) -> Endpoint:
        now = self.ctx.now()
        secret = self._given_or_new(spec.secret, spec.key_type, KeyType.HMAC_SHA256)
        endpoint = Endpoint(
            id=self.ctx.new_id("ep"),
            account_id=account_id,
            app_id=app_id,
            url=self._target(spec.url, spec.mode),
            description=spec.description,
            event_types=self._events(spec.events),
            secret=self._secret(secret, spec.scheme),
            previous_secret=None,
            previous_secret_expires_at=None,
            scheme=spec.scheme,
            signature_header=self._signature_header(spec.scheme, spec.signature_header),
            retry_policy=self._policy(spec.retry_policy),
            headers=self._headers(spec.headers, spec.signature_header),
            status=EndpointStatus.ACTIVE,
            disabled_reason=None,
            failure_count=0,
            first_failure_at=None,
            last_failure_at=None,
            created_at=now,
            updated_at=now,
            send_traceparent=spec.send_traceparent,
            secret_headers=self._secret_headers(spec.secret_headers, spec.headers),
            rules=self._rules(spec.rules),
            mode=spec.mode,
            rate_limit=self._rate_limit(spec.rate_limit),
            ordering=spec.ordering,
            timeout=self._timeout(spec.timeout),
            payload_format=spec.payload_format,
            uid=self._uid(spec.uid),
            metadata=check_metadata(spec.metadata),
            channels=self._channels(spec.channels),
        )
        if not spec.active:
            endpoint = dataclasses.replace(
                endpoint, status=EndpointStatus.DISABLED, disabled_reason="manual"
            )
        try:
            await self.repo.insert(endpoint)
        except UidTaken:
            raise self._uid_taken(endpoint.uid) from None
        return endpoint

    async def find(self, account_id: str, app_id: str, id_or_uid: str) -> Endpoint:
        """A webhook of this application, by id or else by uid."""
        endpoint = await self.repo.get(account_id, id_or_uid)
        if endpoint is None or endpoint.app_id != app_id:
            endpoint = await self.repo.find_by_uid(account_id, app_id, id_or_uid)
        if endpoint is None or endpoint.status is EndpointStatus.DELETED:
            raise NotFound("webhook")
        return endpoint

    async def get(self, account_id: str, webhook_id: str) -> Endpoint:
        endpoint = await self.repo.get(account_id, webhook_id)
        if endpoint is None:
            raise NotFound("webhook")
        return endpoint

    async def list_page(
        self,
        account_id: str,
        *,
        cursor: str | None,
        limit: int,
        include_deleted: bool = False,
        app_id: str | None = None,
    ) -> Page[Endpoint]:
        return await self.repo.list_page(
            account_id,
            cursor=cursor,
            limit=limit,
            include_deleted=include_deleted,
            app_id=app_id,
        )

    async def update(
        self, account_id: str, webhook_id: str, changes: Mapping[str, Any]
    ) -> Endpoint:
        """Apply the fields present in ``changes``: url, events, retry_policy, description,
        headers, signature (scheme/header), rate_limit, ordering, timeout and active
        (disable or re-enable)."""
        current = await self.get(account_id, webhook_id)
        if current.status is EndpointStatus.DELETED:
            raise Conflict("a deleted webhook cannot be changed", code="webhook_deleted")
        new: dict[str, Any] = {"updated_at": self.ctx.now()}
        if "url" in changes:
            new["url"] = self._target(changes["url"], current.mode)
        if "events" in changes:
            new["event_types"] = self._events(changes["events"])
        if "retry_policy" in changes:
            new["retry_policy"] = self._policy(changes["retry_policy"])
        if "rules" in changes:
            new["rules"] = self._rules(changes["rules"])
        if "description" in changes:
            new["description"] = changes["description"] or ""
        if "rate_limit" in changes:
            new["rate_limit"] = self._rate_limit(changes["rate_limit"])
        if changes.get("ordering") is not None:
            new["ordering"] = Ordering(changes["ordering"])
        if "timeout" in changes:
            new["timeout"] = self._timeout(changes["timeout"])
        scheme, header = current.scheme, current.signature_header
        if "signature" in changes:
            sig = changes["signature"] or {}
            scheme = Scheme(sig.get("scheme", Scheme.STANDARD))
            header = self._signature_header(scheme, sig.get("header"))
            self._secret(current.secret, scheme)
            new |= {"scheme": scheme, "signature_header": header}
        if "headers" in changes:
            new["headers"] = self._headers(changes["headers"], header)
        if changes.get("payload_format") is not None:
            new["payload_format"] = PayloadFormat(changes["payload_format"])
        if "uid" in changes:
            new["uid"] = self._uid(changes["uid"])
        if "metadata" in changes:
            new["metadata"] = check_metadata(changes["metadata"])
        if "channels" in changes:
            new["channels"] = self._channels(changes["channels"])
        if changes.get("send_traceparent") is not None:
            new["send_traceparent"] = bool(changes["send_traceparent"])
        if "secret_headers" in changes or "headers" in changes:
            names = changes.get("secret_headers", current.secret_headers)
            headers = new.get("headers", current.headers)
            # Names no longer among the headers are dropped rather than refused.
            if "secret_headers" not in changes:
                names = [n for n in names if n in headers]
            new["secret_headers"] = self._secret_headers(names, headers)
        if "active" in changes:
            if changes["active"]:
                new |= {
                    "status": EndpointStatus.ACTIVE,
                    "disabled_reason": None,
                    "first_failure_at": None,
                }
            elif current.status is EndpointStatus.ACTIVE:
                new |= {"status": EndpointStatus.DISABLED, "disabled_reason": "manual"}
        updated = dataclasses.replace(current, **new)
        announce: list[operational.OperationalEvent] = []
        enabled = (
            updated.status is EndpointStatus.ACTIVE and current.status is not EndpointStatus.ACTIVE
        )
        if enabled:
            announce.append(operational.webhook_enabled(updated, updated.updated_at))
        elif updated.status is EndpointStatus.DISABLED and current.status is EndpointStatus.ACTIVE:
            announce.append(
                operational.webhook_disabled(
                    updated.account_id,
                    updated.app_id,
                    updated.id,
                    updated.url,
                    "manual",
                    updated.updated_at,
                )
            )
        try:
            due = await self.repo.replace(updated, announce=announce, new_id=self.ctx.new_id)
        except UidTaken:
            raise self._uid_taken(updated.uid) from None
        if enabled or due:
            # Deliveries queued before it was disabled are due again (held ones are not:
            # they wait for a recover), and so are any operational deliveries.
            self.ctx.notifier.notify()
        return updated

    async def delete(self, account_id: str, webhook_id: str) -> Endpoint:
        endpoint = await self.get(account_id, webhook_id)
        if endpoint.status is not EndpointStatus.DELETED:
            await self.repo.delete(account_id, webhook_id, self.ctx.now())
        return await self.get(account_id, webhook_id)

    async def rotate_secret(
        self,
        account_id: str,
        webhook_id: str,
        secret: str | None,
        kind: KeyType | None = None,
        grace: timedelta = ROTATION_GRACE,
    ) -> Endpoint:
        """A new current secret; the old one keeps signing alongside for ``grace``
        (24 hours unless given). With no secret given, a new one of ``kind`` is generated
        (default: the current one's kind), so an Ed25519 webhook stays Ed25519 and
        ``kind`` switches it."""
        if not timedelta(0) <= grace <= MAX_ROTATION_GRACE:
            raise InvalidInput("the grace period is 0 s to 7 days", code="invalid_grace_period")
        current = await self.get(account_id, webhook_id)
        if current.status is EndpointStatus.DELETED:
            raise Conflict("a deleted webhook cannot be changed", code="webhook_deleted")
        now = self.ctx.now()
        secret = self._given_or_new(secret, kind, key_type(current.secret, current.scheme))
        updated = dataclasses.replace(
            current,
            secret=self._secret(secret, current.scheme),
            previous_secret=current.secret,
            previous_secret_expires_at=now + grace,
            updated_at=now,
        )
        await self.repo.replace(updated)
        return updated

    # -- validation --------------------------------------------------------------------

    @staticmethod
    def _uid(uid: str | None) -> str | None:
        uid = check_uid(uid, "webhook")
        if uid is not None and uid.startswith("ep_"):
            raise InvalidInput(f"uid {uid!r} is reserved", code="invalid_uid")
        return uid

    @staticmethod
    def _uid_taken(uid: str | None) -> Conflict:
        return Conflict(f"a webhook with uid {uid!r} exists", code="webhook_uid_taken")

    @staticmethod
    def _channels(channels: Sequence[str] | None) -> tuple[str, ...] | None:
        if channels is None:
            return None
        if len(channels) > 10 or not all(_CHANNEL.fullmatch(c) for c in channels):
            raise InvalidInput(
                "channels: at most 10, each 1 to 128 letters, digits, '-', '_', '.' or ':'",
                code="invalid_channels",
            )
        return tuple(dict.fromkeys(channels)) or None

    def _target(self, url: str, mode: DeliveryMode) -> str:
        # A listen webhook is never sent to by Hookline: its URL only names where the
        # listening CLI forwards (often localhost), so the egress rules do not apply.
        if mode is DeliveryMode.LISTEN:
            if len(url) > MAX_URL_LENGTH:
                raise InvalidInput("callback_url is too long", code="invalid_url")
            return url
        if not url:
            raise InvalidInput("callback_url is required", code="invalid_url")
        return self._url(url)

    def _url(self, url: str) -> str:
        url = url.strip()
        if len(url) > MAX_URL_LENGTH:
            raise InvalidInput(f"callback_url is longer than {MAX_URL_LENGTH}", code="invalid_url")
        problem = egress.url_problem(url, self.allow)
        if problem is not None:
            code, reason = problem
            raise InvalidInput(f"callback_url: {reason}", code=code)
        return url

    @staticmethod
    def _rate_limit(rate: float | None) -> float | None:
        if rate is None:
            return None
        if not control.MIN_RATE <= rate <= control.MAX_RATE:
            raise InvalidInput(
                f"rate_limit must be between {control.MIN_RATE} and {control.MAX_RATE:g} "
                "deliveries per second, or null",
                code="invalid_rate_limit",
            )
        return float(rate)

    def _timeout(self, timeout: float | None) -> float | None:
        if timeout is None:
            return None
        if timeout > self.max_timeout:
            raise InvalidInput(
                f"timeout may be at most {self.max_timeout:g} s (HOOKLINE_DELIVERY_TIMEOUT)",
                code="timeout_too_long",
            )
        if timeout <= 0:
            raise InvalidInput("timeout must be more than 0 s", code="invalid_timeout")
        return float(timeout)

    @staticmethod
    def _events(events: Sequence[str] | None) -> tuple[str, ...] | None:
        if events is None:
            return None
        if len(events) > MAX_EVENT_PATTERNS:
            raise InvalidInput(
                f"at most {MAX_EVENT_PATTERNS} event patterns", code="invalid_events"
            )
        bad = [e for e in events if not is_valid_pattern(e)]
        if bad:
            raise InvalidInput(
                f"invalid event patterns {bad}: use names like a.b, a.* or *",
                code="invalid_events",
            )
        return tuple(dict.fromkeys(events)) or None

    @staticmethod
    def _rules(rules: Sequence[Any] | None) -> tuple[dict[str, Any], ...] | None:
        """Validated rule documents, or None for no rules (an empty list is none)."""
        if rules is None:
            return None
        try:
            compiled = compile_rules(list(rules) if isinstance(rules, list | tuple) else rules)
        except InvalidRules as exc:
            raise InvalidInput(
                f"rules: {exc}", code="invalid_rules", details=list(exc.details)
            ) from None
        return tuple(compiled.to_documents()) or None

    @staticmethod
    def _policy(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if doc is None:
            return None
        try:
            return RetryPolicy.from_document(dict(doc)).to_document()
        except InvalidRetryPolicy as exc:
            raise InvalidInput(f"retry_policy: {exc}", code="invalid_retry_policy") from None

    @staticmethod
    def _given_or_new(secret: str | None, kind: KeyType | None, default: KeyType) -> str:
        if secret is None:
            return generate_secret(kind or default)
        if kind is not None and key_type(secret) is not kind:
            raise InvalidInput(
                f"secret: a {key_type(secret).value} secret was given with key_type {kind.value}",
                code="invalid_secret",
            )
        return secret

    @staticmethod
    def _secret(secret: str, scheme: Scheme) -> str:
        problem = secret_problem(secret, scheme)
        if problem is not None:
            raise InvalidInput(f"secret: {problem}", code="invalid_secret")
        return secret

    @staticmethod
    def _signature_header(scheme: Scheme, header: str | None) -> str | None:
        if scheme is Scheme.STANDARD:
            if header is not None:
                raise InvalidInput(
                    "the standard scheme uses webhook-signature; header applies to sha256-hex",
                    code="invalid_signature",
                )
            return None
        header = header or "X-Signature"
        if not HEADER_NAME.match(header) or header.lower() in RESERVED_HEADERS:
            raise InvalidInput(
                f"signature header {header!r} is not usable", code="invalid_signature"
            )
        return header

    @staticmethod
    def _secret_headers(
        names: Sequence[str] | None, headers: Mapping[str, str] | None
    ) -> tuple[str, ...]:
        if not names:
            return ()
        known = {h.lower() for h in headers or {}}
        missing = [n for n in names if n.lower() not in known]
        if missing:
            raise InvalidInput(
                f"secret_headers {missing} are not among the webhook's headers",
                code="invalid_headers",
            )
        return tuple(dict.fromkeys(names))

    @staticmethod
    def _headers(headers: Mapping[str, str] | None, signature_header: str | None) -> dict[str, str]:
        if not headers:
            return {}
        if len(headers) > MAX_HEADERS:
            raise InvalidInput(f"at most {MAX_HEADERS} custom headers", code="invalid_headers")
        reserved = RESERVED_HEADERS | ({signature_header.lower()} if signature_header else set())
        for name, value in headers.items():
            if not HEADER_NAME.match(name) or name.lower() in reserved:
                raise InvalidInput(f"header {name!r} cannot be set", code="invalid_headers")
            if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
                raise InvalidInput(f"header {name!r} has an invalid value", code="invalid_headers")
        return dict(headers)
