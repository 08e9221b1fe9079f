"""通知: the outbox (deliveries and their status), dead letters sent again, and the
subscriptions that send a subtree's reminders to a webhook, a robot or a mailbox.

Everything goes through the API's routes: GET /deliveries and POST /deliveries/redrive for
anyone with an org scope (a unit's person gets the API's refusal as the 403 page), the
subscriptions' changes for the offices api.deps.channel_manager allows. A new or rotated
webhook secret is on the page that answers the form, once: the API never shows it again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from api.deps import CHANNEL_ROLES, services_of
from api.services import Services, run_db
from engine.access import Principal
from engine.notices import KINDS, kind_name
from engine.vocabulary import Vocabulary
from storage.campaigns import vocabulary
from web.client import Api
from web.render import refusal, render, subject_href
from web.session import Checked, SignedIn

router = APIRouter(prefix="/ui")

PAGE = 50
STATUSES = ("pending", "sending", "delivered", "dead", "cancelled", "held", "digested")
STATUS_BADGES = {"delivered": "ok", "dead": "bad", "pending": "warn", "sending": "warn",
                 "held": "warn"}
CHANNELS = ("webhook", "wecom", "dingtalk", "email")
# each channel kind's settings on the form: (form field, config key, input type); an empty
# field is left out of the config (docs/channels.md)
CONFIG_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "webhook": (("webhook_url", "url", "url"), ("webhook_secret", "secret", "password")),
    "wecom": (("wecom_key", "key", "password"),),
    "dingtalk": (("dingtalk_access_token", "access_token", "password"),
                 ("dingtalk_secret", "secret", "password")),
    "email": (("email_host", "host", "text"), ("email_port", "port", "number"),
              ("email_security", "security", "select"), ("email_username", "username", "text"),
              ("email_password", "password", "password"),
              ("email_from_address", "from_address", "email"), ("email_to", "to", "text")),
}
SECURITIES = ("starttls", "ssl", "none")


def manages(principal: Principal) -> bool:
    """Whether to offer the subscriptions' forms (the API decides: channel_manager)."""
    return principal.admin or bool(principal.roles & CHANNEL_ROLES)


# -- deliveries and dead letters -----------------------------------------------------------

@router.get("/notices")
async def deliveries(request: Request, session: SignedIn, status: str = "",
                     subject: str = "", subscription: str = "", cursor: str = "",
                     redriven: int | None = None) -> Response:
    api = Api(request, session.principal)
    chosen = {"status": status if status in STATUSES else "", "subject": subject.strip(),
              "subscription": subscription.strip() if subscription.strip().isdigit() else ""}
    answer = await api.get("/deliveries", {**chosen, "limit": PAGE, "cursor": cursor})
    if not answer.ok:
        if answer.status in (403, 404):
            return refusal(request, answer)
        return render(request, "notices/deliveries.html", status=answer.status,
                      rows=[], after=None, dead=[], dead_more=False, chosen=chosen,
                      problem=answer.problem, redriven=None, cursor="")
    page = answer.json()
    dead = await api.get("/deliveries", {"status": "dead", "limit": PAGE})
    dead_page = dead.json() if dead.ok else {"data": [], "next_cursor": None}
    return render(request, "notices/deliveries.html", rows=[_row(d) for d in page["data"]],
                  after=_next(chosen, page.get("next_cursor")), chosen=chosen,
                  dead=[_row(d) for d in dead_page["data"]],
                  dead_more=dead_page.get("next_cursor") is not None, problem=None,
                  redriven=redriven, cursor=cursor)


def _next(chosen: dict[str, str], cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return "/ui/notices?" + urlencode({**{k: v for k, v in chosen.items() if v},
                                       "cursor": cursor})


def _row(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "kind_name": kind_name(item["kind"]),
            "href": subject_href(item["subject"], item["kind"]),
            "badge": STATUS_BADGES.get(item["status"], ""),
            "title": (item.get("message") or {}).get("title", "")}


@router.post("/notices/redrive")
async def redrive(request: Request, session: Checked) -> Response:
    form = await request.form()
    if form.get("all") == "yes":
        body: dict[str, Any] = {}  # every dead letter the person reaches
    else:
        ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()]
        if not ids:
            return RedirectResponse("/ui/notices?redriven=0#dead", 303)
        body = {"ids": ids}
    answer = await Api(request, session.principal).post("/deliveries/redrive", body)
    if not answer.ok:
        return refusal(request, answer)
    return RedirectResponse(f"/ui/notices?redriven={answer.json()['redriven']}#dead", 303)


# -- subscriptions -------------------------------------------------------------------------

@router.get("/notices/subscriptions")
async def subscriptions(request: Request, session: SignedIn, deleted: int | None = None
                        ) -> Response:
    return await _subscriptions_page(request, session.principal, deleted=deleted)


async def _subscriptions_page(request: Request, principal: Principal, *, status: int = 200,
                              **context: Any) -> Response:
    api = Api(request, principal)
    answer = await api.get("/subscriptions")
    if not answer.ok:
        return refusal(request, answer)
    campaigns = await api.get("/campaigns")
    words = await run_db(_words, services_of(request))
    values = context.pop("values", None) or {"org": principal.scope_id or "", "lang": "zh",
                                              "channel": "webhook"}
    return render(request, "notices/subscriptions.html", status=status,
                  subscriptions=answer.json(), manages=manages(principal),
                  campaigns=campaigns.json() if campaigns.ok else [],
                  kinds=[(k, kind_name(k)) for k in KINDS],
                  roles=[(r, words.name("role", r)) for r in words.ids("role")],
                  kind_name=kind_name, role_name=lambda role: words.name("role", role),
                  channels=CHANNELS, config_fields=CONFIG_FIELDS, securities=SECURITIES,
                  values=values, **{"problem": None, "errors": {}, "secret": None,
                                    "created": None, "deleted": None, "rotated": False,
                                    **context})


def _words(services: Services) -> Vocabulary:
    with services.db.read() as conn:
        return vocabulary(services.registry, conn)


@router.post("/notices/subscriptions")
async def create_subscription(request: Request, session: Checked) -> Response:
    form = await request.form()
    body, values = _subscription_body(form)
    answer = await Api(request, session.principal).post("/subscriptions", body)
    if not answer.ok:
        problem = answer.problem
        return await _subscriptions_page(request, session.principal, status=answer.status,
                                         values=values, problem=problem,
                                         errors=_field_errors(problem))
    made = answer.json()
    return await _subscriptions_page(request, session.principal, status=201, created=made,
                                     secret=made.get("secret"))


def _subscription_body(form: FormData) -> tuple[dict[str, Any], dict[str, Any]]:
    """The API's body from the form, and what to fill the form with again (no secrets)."""
    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    channel = text("channel")
    config: dict[str, Any] = {}
    for field, key, _ in CONFIG_FIELDS.get(channel, ()):
        value = text(field)
        if not value:
            continue
        if key == "port" and value.isdigit():
            config[key] = int(value)
        elif key == "to":
            config[key] = [a for a in value.replace(",", " ").replace("，", " ").split() if a]
        else:
            config[key] = value
    body: dict[str, Any] = {
        "name": text("name"), "channel": channel, "org": text("org"), "config": config,
        "kinds": [k for k in form.getlist("kinds") if isinstance(k, str)],
        "roles": [r for r in form.getlist("roles") if isinstance(r, str)],
        "lang": text("lang") or "zh"}
    if text("campaign"):
        body["campaign"] = text("campaign")
    values = {"name": body["name"], "channel": channel, "org": body["org"],
              "lang": body["lang"], "campaign": text("campaign"), "kinds": body["kinds"],
              "roles": body["roles"]}
    for fields in CONFIG_FIELDS.values():
        for field, _, kind in fields:
            if kind != "password":
                values[field] = text(field)
    return body, values


def _field_errors(problem: dict[str, Any]) -> dict[str, list[str]]:
    """Each problem under the form field its location ends with (body.name -> name)."""
    found: dict[str, list[str]] = {}
    for item in problem.get("problems") or []:
        parts = str(item.get("location", "")).split(".")
        field = next((p for p in reversed(parts) if not p.isdigit()), "")
        found.setdefault(field, []).append(str(item.get("message", "")))
    return found


@router.post("/notices/subscriptions/{subscription_id}/delete")
async def delete_subscription(request: Request, session: Checked, subscription_id: int
                              ) -> Response:
    answer = await Api(request, session.principal).call(
        "DELETE", f"/subscriptions/{subscription_id}")
    if not answer.ok:
        return refusal(request, answer)
    return RedirectResponse(f"/ui/notices/subscriptions?deleted={subscription_id}", 303)


@router.post("/notices/subscriptions/{subscription_id}/rotate")
async def rotate_secret(request: Request, session: Checked, subscription_id: int
                        ) -> Response:
    answer = await Api(request, session.principal).post(
        f"/subscriptions/{subscription_id}/rotate-secret")
    if not answer.ok:
        return refusal(request, answer)
    rotated = answer.json()
    return await _subscriptions_page(request, session.principal, secret=rotated.get("secret"),
                                     created=rotated, rotated=True)
