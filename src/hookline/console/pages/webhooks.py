"""Webhooks: list, create and edit (URL, event types from the catalog, trigger rules,
retry policy, signature, rate limit, ordering), disable and enable, the secret, a test
event, statistics, recovery since a time. Served in the console and in the portal, where
everything is limited to the portal's application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query
from starlette.responses import Response

from hookline.console.registry import PAGES
from hookline.console.web import Form, Page, local_input, local_time, page
from hookline.domain.models import Endpoint, Ordering
from hookline.domain.rules import OPERATORS
from hookline.domain.search import DeliveryFilter
from hookline.domain.signing import Scheme, key_type, public_key
from hookline.errors import Conflict, InvalidInput
from hookline.services.webhooks import WebhookSpec

STATS_HOURS = 24


@dataclass
class Draft:
    """What the webhook form shows: a webhook's values, or what was just submitted."""

    url: str = ""
    description: str = ""
    events: tuple[str, ...] = ()
    rules: tuple[dict[str, str], ...] = ()
    schedule: str = ""
    scheme: str = Scheme.STANDARD.value
    signature_header: str = ""
    rate_limit: str = ""
    ordering: str = Ordering.UNORDERED.value
    timeout: str = ""
    application: str = ""

    @classmethod
    def of(cls, w: Endpoint) -> Draft:
        policy = w.retry_policy or {}
        schedule = policy.get("schedule")
        return cls(
            url=w.url,
            description=w.description,
            events=tuple(w.event_types or ()),
            rules=tuple(
                {
                    "field": str(r.get("field", "")),
                    "operator": str(r.get("operator", "=")),
                    "value": _value_text(r.get("value")) if "value" in r else "",
                }
                for r in (w.rules or ())
            ),
            schedule=", ".join(f"{s:g}" for s in schedule) if schedule else "",
            scheme=w.scheme.value,
            signature_header=w.signature_header or "",
            rate_limit=f"{w.rate_limit:g}" if w.rate_limit is not None else "",
            ordering=w.ordering.value,
            timeout=f"{w.timeout:g}" if w.timeout is not None else "",
            application=w.app_id,
        )

    @classmethod
    def submitted(cls, form: Form) -> Draft:
        fields, operators, values = (
            form.getlist("rule_field"),
            form.getlist("rule_operator"),
            form.getlist("rule_value"),
        )
        rules = tuple(
            {"field": f.strip(), "operator": o, "value": v}
            for f, o, v in zip(fields, operators, values, strict=False)
            if f.strip()
        )
        events = [e for e in form.getlist("events") if e]
        events += [e.strip() for e in form.get("other_events").split(",") if e.strip()]
        return cls(
            url=form.get("url").strip(),
            description=form.get("description").strip(),
            events=tuple(dict.fromkeys(events)),
            rules=rules,
            schedule=form.get("schedule").strip(),
            scheme=form.get("scheme", Scheme.STANDARD.value),
            signature_header=form.get("signature_header").strip(),
            rate_limit=form.get("rate_limit").strip(),
            ordering=form.get("ordering", Ordering.UNORDERED.value),
            timeout=form.get("timeout").strip(),
            application=form.get("application").strip(),
        )

    def rule_documents(self) -> list[dict[str, Any]]:
        """The rules as the API takes them; a value is JSON when it reads as JSON
        (``5``, ``true``, ``["a","b"]``), else the text itself."""
        out: list[dict[str, Any]] = []
        for r in self.rules:
            doc: dict[str, Any] = {"field": r["field"], "operator": r["operator"]}
            text = r["value"].strip()
            if r["operator"] == "exists" and not text:
                out.append(doc)
                continue
            try:
                doc["value"] = orjson.loads(text)
            except orjson.JSONDecodeError:
                doc["value"] = r["value"]
            out.append(doc)
        return out

    def retry_policy(self) -> dict[str, Any] | None:
        if not self.schedule:
            return None
        try:
            delays = [float(s) for s in self.schedule.replace(" ", "").split(",") if s]
        except ValueError:
            raise InvalidInput(
                "retry schedule: delays in seconds separated by commas, e.g. 5, 300, 1800",
                code="invalid_retry_policy",
            ) from None
        return {"schedule": delays}

    def number(self, text: str, what: str) -> float | None:
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise InvalidInput(f"{what} must be a number", code=f"invalid_{what}") from None

    def signature(self) -> dict[str, Any]:
        if self.scheme not in {s.value for s in Scheme}:
            raise InvalidInput("unknown signature scheme", code="invalid_signature")
        return {"scheme": self.scheme, "header": self.signature_header or None}

    def ordering_value(self) -> Ordering:
        try:
            return Ordering(self.ordering)
        except ValueError:
            raise InvalidInput("unknown ordering", code="invalid_ordering") from None


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


async def _catalog(p: Page) -> list[str]:
    types = await p.system.event_types.list_page(
        p.account_id, prefix=None, include_archived=False, cursor=None, limit=250
    )
    return [t.name for t in types.items]


async def _applications(p: Page) -> list[Any]:
    if p.viewer.app_id is not None:
        return []
    apps = await p.system.applications.list_page(p.account_id, cursor=None, limit=250)
    return apps.items


async def _form(
    p: Page, draft: Draft, *, webhook: Endpoint | None, error: str | None = None, status: int = 200
) -> Response:
    catalog = await _catalog(p)
    return p.render(
        "webhooks/form.html",
        status=status,
        nav="webhooks",
        draft=draft,
        webhook=webhook,
        error=error,
        catalog=catalog,
        others=", ".join(e for e in draft.events if e not in catalog),
        operators=OPERATORS,
        schemes=[s.value for s in Scheme],
        orderings=[o.value for o in Ordering],
        applications=await _applications(p),
    )


async def _list(p: Page, app: str | None, cursor: str | None, deleted: bool) -> Response:
    app_id = await p.app_id(app)
    found = await p.system.webhooks.list_page(
        p.account_id, cursor=cursor, limit=50, include_deleted=deleted, app_id=app_id
    )
    return p.render(
        "webhooks/list.html",
        nav="webhooks",
        webhooks=found.items,
        next_cursor=found.next_cursor,
        applications=await _applications(p),
        app_id=app_id,
        deleted=deleted,
    )


AppQuery = Annotated[str | None, Query(max_length=256)]
CursorQuery = Annotated[str | None, Query(max_length=64)]


@PAGES.get("/webhooks", portal=True)
async def webhooks(
    p: Annotated[Page, Depends(page)],
    app: AppQuery = None,
    cursor: CursorQuery = None,
    deleted: bool = False,
) -> Response:
    return await _list(p, app, cursor, deleted)


@PAGES.get("", portal=True, console=False)
async def portal_home(
    p: Annotated[Page, Depends(page)], cursor: CursorQuery = None, deleted: bool = False
) -> Response:
    return await _list(p, None, cursor, deleted)


@PAGES.get("/webhooks/new", portal=True)
async def new_webhook(p: Annotated[Page, Depends(page)], app: AppQuery = None) -> Response:
    return await _form(p, Draft(application=await p.app_id(app)), webhook=None)


@PAGES.post("/webhooks", portal=True)
async def create_webhook(p: Annotated[Page, Depends(page)]) -> Response:
    draft = Draft.submitted(p.form)
    try:
        app_id = await p.app_id(draft.application or None)
        sig = draft.signature()
        created = await p.system.webhooks.create(
            p.account_id,
            app_id,
            WebhookSpec(
                url=draft.url,
                events=list(draft.events) or None,
                rules=draft.rule_documents() or None,
                retry_policy=draft.retry_policy(),
                scheme=Scheme(sig["scheme"]),
                signature_header=sig["header"],
                description=draft.description,
                rate_limit=draft.number(draft.rate_limit, "rate_limit"),
                ordering=draft.ordering_value(),
                timeout=draft.number(draft.timeout, "timeout"),
            ),
        )
    except (InvalidInput, Conflict) as exc:
        return await _form(p, draft, webhook=None, error=exc.message, status=422)
    return p.redirect(f"/webhooks/{created.id}", flash="webhook_created")


@PAGES.get("/webhooks/{webhook_id}", portal=True)
async def webhook(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    since = datetime.now(UTC) - timedelta(hours=STATS_HOURS)
    stats, head = await p.system.deliveries.stats(
        p.account_id, w.id, DeliveryFilter(webhook_id=w.id, since=since)
    )
    total = sum(stats.counts.values())
    finished = stats.counts.get("succeeded", 0) + stats.counts.get("failed", 0)
    return p.render(
        "webhooks/detail.html",
        nav="webhooks",
        w=w,
        stats=stats,
        total=total,
        success_rate=(
            f"{100 * stats.counts.get('succeeded', 0) / finished:.1f} %" if finished else "—"
        ),
        head=head,
        key_type=key_type(w.secret, w.scheme).value,
        catalog=await _catalog(p),
        recent=await _recent(p, w.id),
        stats_hours=STATS_HOURS,
        now_local=local_input(datetime.now(UTC) - timedelta(hours=1)),
    )


async def _recent(p: Page, webhook_id: str) -> Any:
    found, attempts = await p.system.deliveries.list_for_webhook(
        p.account_id, webhook_id, status=None, cursor=None, limit=20
    )
    return [(d, attempts.get(d.id, [])) for d in found.items]


@PAGES.get("/webhooks/{webhook_id}/deliveries", portal=True)
async def webhook_deliveries(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    """The recent deliveries alone, which the webhook's page reloads as attempts come in."""
    w = await p.webhook(webhook_id)
    return p.render("webhooks/_deliveries.html", w=w, recent=await _recent(p, w.id))


@PAGES.get("/webhooks/{webhook_id}/edit", portal=True)
async def edit_webhook(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    return await _form(p, Draft.of(w), webhook=w)


@PAGES.post("/webhooks/{webhook_id}", portal=True)
async def save_webhook(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    draft = Draft.submitted(p.form)
    try:
        await p.system.webhooks.update(
            p.account_id,
            w.id,
            {
                "url": draft.url,
                "description": draft.description,
                "events": list(draft.events) or None,
                "rules": draft.rule_documents() or None,
                "retry_policy": draft.retry_policy(),
                "signature": draft.signature(),
                "rate_limit": draft.number(draft.rate_limit, "rate_limit"),
                "ordering": draft.ordering_value(),
                "timeout": draft.number(draft.timeout, "timeout"),
            },
        )
    except (InvalidInput, Conflict) as exc:
        return await _form(p, draft, webhook=w, error=exc.message, status=422)
    return p.redirect(f"/webhooks/{w.id}", flash="webhook_saved")


@PAGES.post("/webhooks/{webhook_id}/disable", portal=True)
async def disable_webhook(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    await p.system.webhooks.update(p.account_id, w.id, {"active": False})
    return p.redirect(f"/webhooks/{w.id}", flash="webhook_disabled")


@PAGES.post("/webhooks/{webhook_id}/enable", portal=True)
async def enable_webhook(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    await p.system.webhooks.update(p.account_id, w.id, {"active": True})
    return p.redirect(f"/webhooks/{w.id}", flash="webhook_enabled")


@PAGES.post("/webhooks/{webhook_id}/delete", portal=True)
async def delete_webhook(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    await p.system.webhooks.delete(p.account_id, w.id)
    back = "" if p.place.portal else "/webhooks"
    return p.redirect(back, flash="webhook_deleted")


@PAGES.get("/webhooks/{webhook_id}/secret", portal=True)
async def reveal_secret(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    """The secret, fetched only when asked for (it is not in the webhook's page)."""
    w = await p.webhook(webhook_id)
    return p.render(
        "webhooks/_secret.html",
        w=w,
        key_type=key_type(w.secret, w.scheme).value,
        public_key=public_key(w.secret, w.scheme),
    )


@PAGES.post("/webhooks/{webhook_id}/secret/rotate", portal=True)
async def rotate_secret(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    await p.system.webhooks.rotate_secret(p.account_id, w.id, None, None)
    return p.redirect(f"/webhooks/{w.id}", flash="secret_rotated")


@PAGES.post("/webhooks/{webhook_id}/test", portal=True)
async def send_test(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    await p.system.deliveries.send_test(p.account_id, w.id, p.form.optional("event_type"), None)
    return p.redirect(f"/webhooks/{w.id}", flash="test_sent")


@PAGES.post("/webhooks/{webhook_id}/recover", portal=True)
async def recover(p: Annotated[Page, Depends(page)], webhook_id: str) -> Response:
    w = await p.webhook(webhook_id)
    since = local_time("since", p.form.get("since"))
    if since is None:
        raise InvalidInput("since: choose a date and time", code="invalid_since")
    await p.system.requeue.recover(p.account_id, w.id, since=since, until=None, statuses=None)
    return p.redirect(f"/webhooks/{w.id}", flash="recover_started")
