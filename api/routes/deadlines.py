"""Deadlines and deliveries: upcoming deadlines, the outbox, webhook and robot subscriptions,
and re-driving dead letters."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import insert, select, update

from api.deps import CHANNEL_ROLES, Caller, ChannelManager, OrgManager, ServicesDep
from api.errors import problem_responses
from api.schemas import Cursor, IsoDate, JsonObject, RequestModel, example
from deadlines.channels import ChannelConfigInvalid, build_channel
from deadlines.channels.config import public_config
from deadlines.digests import delivery_problems, next_slot, release, settings_of
from deadlines.outbox import redrive
from engine.access import Principal
from engine.errors import Forbidden, InputInvalid, NotFound, OutOfScope
from engine.texts import listed, t
from storage import audit, deliveries
from storage.query import (
    cursor_instant,
    cursor_row_id,
    decode_cursor,
    encode_cursor,
    list_contains,
    prefix_condition,
    reach,
)
from storage.subjects import org_row
from storage.tables import Delivery, Subscription
from storage.tables import Timer as TimerRow

router = APIRouter(tags=["deadlines"])

timer_t = TimerRow.__table__  # type: ignore[attr-defined]
delivery_t = Delivery.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]

# Ids are database integers: a larger number is no id, and must not reach the driver.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
SubscriptionId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the subscription's id")]


class DeadlinePublic(BaseModel):
    model_config = example(id=12, subject="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", kind="remind",
                            clock="rectification", campaign="three-year-plan-2024-2026",
                            unit="u-chem-01", roles=["principal"], due_date="2026-12-25",
                            at="2026-12-18T01:00:00Z")
    id: int
    subject: str
    kind: str
    clock: str
    campaign: str
    unit: str | None
    roles: list[str]
    due_date: dt.date | None
    at: dt.datetime
    provisional: bool = Field(default=False, description=(
        "the deadline or this moment was counted over a year whose statutory holidays are not "
        "known yet (Monday to Friday); recomputed when the year is added"))


class DeadlinePage(BaseModel):
    data: list[DeadlinePublic]
    next_cursor: str | None = None


class DeliveryPublic(BaseModel):
    model_config = example(id=3, key="5b0c…/rectification/2026-12-25/remind/-7d#1->sub1",
                            channel="webhook", subscription=1, kind="remind",
                            subject="5b0c8f0e2c8e4d51a1f0c3e0f4b9a7d2", status="delivered",
                            attempts=1, late=False, last_error=None,
                            created_at="2026-12-18T01:00:05Z",
                            delivered_at="2026-12-18T01:00:06Z",
                            next_attempt_at="2026-12-18T01:00:05Z",
                            message={"kind": "remind", "text": "整改期限：12月25日到期，还有7日"})
    id: int
    key: str
    channel: str
    subscription: int | None
    kind: str
    subject: str
    status: str
    attempts: int
    late: bool
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    next_attempt_at: dt.datetime
    rate_limited_count: int = Field(default=0, description=(
        "how often the robot's rate limit held this delivery back (not failed attempts)"))
    delayed_until: dt.datetime | None = Field(default=None, description=(
        "the last time the rate limit held it back: until when"))
    digest_id: int | None = Field(default=None, description=(
        "status `digested`: the delivery of the digest it went out in"))
    message: dict[str, Any]


class DeliveryPage(BaseModel):
    data: list[DeliveryPublic]
    next_cursor: str | None = None


LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class DeliveryModeIn(RequestModel):
    model_config = example(mode="digest", at=["09:00", "15:00"], timezone="Asia/Shanghai",
                           days="working")
    mode: Literal["immediate", "digest"] = Field(default="immediate", description=(
        "immediate: each message at once; digest: held and sent as one message at `at`"))
    at: list[Annotated[str, Field(pattern=LOCAL_TIME)]] | None = Field(
        default=None, min_length=1, max_length=24,
        description='digest: local times, HH:MM (default ["09:00"])')
    timezone: str | None = Field(default=None, max_length=64,
                                 description="digest: the times' zone (default Asia/Shanghai)")
    days: Literal["working", "every"] | None = Field(default=None, description=(
        "digest: working days of the statutory calendar (default), or every day"))


class RateLimitIn(RequestModel):
    model_config = example(messages=20, seconds=60)
    messages: int = Field(ge=1, le=1000)
    seconds: int = Field(default=60, ge=1, le=86_400)


class SubscriptionIn(RequestModel):
    model_config = example(name="林荫街道安委办值班群", channel="webhook", org="linyin",
                            config={"url": "https://hooks.example.org/paicha"},
                            campaign=None, kinds=["overdue", "escalate"], roles=[])
    name: str = Field(min_length=1, max_length=200)
    channel: str = Field(description="webhook, wecom, dingtalk, email or log")
    org: str = Field(description="messages about this org's subtree")
    config: JsonObject = Field(default_factory=dict, description=(
        "the channel's settings (docs/channels.md); a webhook gets a signing secret made "
        "for it when none is given"))
    campaign: str | None = None
    kinds: list[str] = Field(default_factory=list, description="only these kinds; [] = all")
    roles: list[str] = Field(default_factory=list,
                             description="only messages for these roles; [] = all")
    delivery: DeliveryModeIn = Field(default_factory=DeliveryModeIn, description=(
        "each message at once, or a digest at set times (docs/channels.md#digests)"))
    rate_limit: RateLimitIn | None = Field(default=None, description=(
        "at most this many messages in `seconds` to this destination; default WeCom and "
        "DingTalk 20 a minute, none for others (docs/channels.md#rate-limits)"))
    lang: Literal["zh", "en"] = Field(default="zh", description=(
        "the language its messages are worded in (docs/channels.md#language)"))


class SubscriptionUpdate(RequestModel):
    model_config = example(delivery={"mode": "digest", "at": ["09:00"]})
    delivery: DeliveryModeIn | None = None
    rate_limit: RateLimitIn | None = Field(default=None, description=(
        "null: back to the channel kind's default; absent: unchanged"))
    lang: Literal["zh", "en"] | None = Field(default=None, description=(
        "the language of the messages queued from now on; absent: unchanged"))


class SubscriptionPublic(BaseModel):
    model_config = example(id=1, name="林荫街道安委办值班群", channel="webhook", org="linyin",
                            campaign=None, kinds=["overdue", "escalate"], roles=[],
                            config={"url": "https://hooks.example.org/paicha",
                                    "secret": "••••"},
                            secret="whsec_…", created_at="2026-12-02T01:00:00Z")
    id: int
    name: str
    channel: str
    org: str
    campaign: str | None
    kinds: list[str]
    roles: list[str]
    config: dict[str, Any] = Field(description=(
        "the channel's settings; secret fields show as ••••, and for a token that may not "
        "manage subscriptions a URL's path and query values too"))
    secret: str | None = Field(default=None, description="shown once: on create and rotate")
    delivery: dict[str, Any] = Field(default_factory=dict,
                                     description="{} or immediate: each message at once")
    rate_limit: dict[str, Any] = Field(default_factory=dict,
                                       description="{}: the channel kind's default")
    next_digest_at: dt.datetime | None = Field(default=None,
                                               description="digest mode: when it goes out next")
    lang: str = Field(default="zh", description="the language its messages are worded in")
    created_at: dt.datetime


class RedriveIn(RequestModel):
    model_config = example(ids=[3, 4])
    ids: list[RowId] | None = Field(default=None, max_length=1000,
                                    description="these dead letters; none = all you reach")


class RedriveResult(BaseModel):
    model_config = example(redriven=2)
    redriven: int


@router.get("/deadlines", response_model=DeadlinePage,
            responses=problem_responses(401, 404, 422),
            summary="Upcoming deadlines and reminders you reach, soonest first",
            description="Each running case clock once, at the next moment the sweep acts on it "
                        "(a reminder, the overdue notice, an escalation) with its deadline as "
                        "`due_date`; each obligation reminder and phase deadline.")
def upcoming_deadlines(
    services: ServicesDep, principal: Caller,
    org: Annotated[str | None, Query(description="this org's subtree")] = None,
    unit: str | None = None, role: str | None = None, campaign: str | None = None,
    due_from: IsoDate | None = None, due_to: IsoDate | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: Cursor = None,
) -> Any:
    c = timer_t.c
    conditions = [c.status == "pending", reach(principal, c.org_path)]
    if principal.scope_kind == "unit":
        conditions.append(c.unit_id == principal.scope_id)
    with services.db.read() as conn:
        if org:
            conditions.append(prefix_condition(c.org_path, org_row(conn, org).path))
        if unit:
            conditions.append(c.unit_id == unit)
        if role:
            conditions.append(list_contains(conn, c.roles, role))
        if campaign:
            conditions.append(c.campaign_id == campaign)
        if due_from:
            conditions.append(c.due_date >= due_from)
        if due_to:
            conditions.append(c.due_date <= due_to)
        if cursor is not None:
            at, last = decode_cursor(cursor, 2)
            after, last_id = cursor_instant(at), cursor_row_id(last)
            conditions.append((c.due_at > after) | ((c.due_at == after) & (c.id > last_id)))
        rows = conn.execute(select(timer_t).where(*conditions).order_by(c.due_at, c.id)
                            .limit(limit + 1)).all()
    page = [{"id": r.id, "subject": r.subject, "kind": r.kind, "clock": r.clock_id,
             "campaign": r.campaign_id, "unit": r.unit_id, "roles": r.roles,
             "due_date": r.due_date, "at": r.due_at,
             "provisional": bool(r.payload.get("provisional"))} for r in rows[:limit]]
    more = len(rows) > limit
    return {"data": page, "next_cursor": encode_cursor([page[-1]["at"].isoformat(),
                                                        page[-1]["id"]]) if more else None}


def _delivery(row: Any) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "channel": row.channel,
            "subscription": row.subscription_id, "kind": row.kind, "subject": row.subject,
            "status": row.status, "attempts": row.attempts, "late": row.late,
            "last_error": row.last_error, "created_at": row.created_at,
            "delivered_at": row.delivered_at, "next_attempt_at": row.next_attempt_at,
            "rate_limited_count": row.rate_limited_count, "delayed_until": row.delayed_until,
            "digest_id": row.digest_id, "message": row.message}


@router.get("/deliveries", response_model=DeliveryPage, responses=problem_responses(401, 403),
            summary="The outbox: deliveries and their status, newest first")
def list_deliveries(
    services: ServicesDep, principal: OrgManager,
    status: Annotated[str | None, Query(
        pattern="^(pending|sending|delivered|dead|cancelled|held|digested)$")] = None,
    subject: Annotated[str | None, Query(max_length=100)] = None,
    subscription: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> Any:
    c = delivery_t.c
    conditions = [reach(principal, c.org_path)]
    if status:
        conditions.append(c.status == status)
    if subject:
        conditions.append(c.subject == subject)
    if subscription is not None:
        conditions.append(c.subscription_id == subscription)
    if cursor is not None:
        conditions.append(c.id < cursor_row_id(decode_cursor(cursor, 1)[0]))
    with services.db.read() as conn:
        rows = conn.execute(select(delivery_t).where(*conditions).order_by(c.id.desc())
                            .limit(limit + 1)).all()
    page = [_delivery(r) for r in rows[:limit]]
    more = len(rows) > limit
    return {"data": page, "next_cursor": encode_cursor([page[-1]["id"]]) if more else None}


@router.post("/deliveries/redrive", response_model=RedriveResult,
             responses=problem_responses(401, 403),
             summary="Send dead letters again, with a fresh count of attempts")
def redrive_dead_letters(body: RedriveIn, services: ServicesDep,
                         principal: OrgManager) -> Any:
    with services.db.write() as conn:
        # one scoped statement, however many dead letters there are
        count = redrive(conn, body.ids, now=services.now(),
                        where=reach(principal, delivery_t.c.org_path))
        audit.append(conn, stream="deliveries", at=services.now(), actor=principal.actor,
                     role=None, action="redrive",
                     data={"ids": body.ids, "scope": principal.scope, "count": count})
    return {"redriven": count}


def _manages(principal: Principal) -> bool:
    """Whether the principal may manage the subscriptions it reaches (api.deps.channel_manager)."""
    return principal.admin or bool(principal.roles & CHANNEL_ROLES)


def _public(row: Any, principal: Principal, secret: str | None = None, *,
            now: dt.datetime, calendar: Any) -> dict[str, Any]:
    config = public_config(row.config, full=_manages(principal))
    settings = settings_of(row.delivery)
    return {"id": row.id, "name": row.name, "channel": row.channel, "org": row.org_id,
            "campaign": row.campaign_id, "kinds": row.kinds, "roles": row.roles,
            "config": config, "secret": secret, "delivery": row.delivery,
            "rate_limit": row.rate_limit,
            "next_digest_at": next_slot(settings, now, calendar) if settings else None,
            "lang": row.lang, "created_at": row.created_at}


def _delivery_settings(body: DeliveryModeIn) -> dict[str, Any]:
    """The stored form of a subscription's delivery settings; 422 `delivery_invalid` naming
    every field at fault (the shape is the schema's; this is what it means)."""
    raw = body.model_dump(exclude_none=True)
    problems = delivery_problems(raw)
    if problems:
        said = listed((t("api.delivery.item", field=field, problem=problem)
                       for field, problem in problems), "list.semicolon")
        raise InputInvalid(t("api.delivery.invalid", listed=said), code="delivery_invalid")
    return raw if raw.get("mode") == "digest" else {}


def _rate_limit(body: RateLimitIn | None) -> dict[str, Any]:
    return {} if body is None else body.model_dump()


def _subscription(conn: Any, principal: Principal, subscription_id: int) -> Any:
    row = conn.execute(select(subscription_t).where(subscription_t.c.id == subscription_id,
                                                    subscription_t.c.deleted_at.is_(None))
                       ).one_or_none()
    if row is None:
        raise NotFound("subscription", subscription_id)
    if not principal.reaches_org(row.org_path):
        raise OutOfScope(t("api.what.subscription", id=subscription_id), principal.scope)
    return row


@router.post("/subscriptions", status_code=201, response_model=SubscriptionPublic,
             responses=problem_responses(401, 403, 404, 422),
             summary="Subscribe a channel to an org's reminders and escalations")
def create_subscription(body: SubscriptionIn, services: ServicesDep,
                        principal: ChannelManager) -> Any:
    config = dict(body.config)
    secret = None
    if body.channel == "webhook" and not config.get("secret"):
        secret = config["secret"] = "whsec_" + secrets.token_urlsafe(32)
    try:
        build_channel(body.channel, config, outbound=services.settings.outbound)
    except ChannelConfigInvalid as exc:
        raise InputInvalid(str(exc), code="channel_config_invalid") from exc
    delivery = _delivery_settings(body.delivery)
    now = services.now()
    with services.db.write() as conn:
        org = org_row(conn, body.org)
        principal.require_org(body.org, org.path)
        new_id = conn.execute(insert(subscription_t).values(
            name=body.name, channel=body.channel, config=config, org_id=body.org,
            org_path=org.path, campaign_id=body.campaign, kinds=body.kinds, roles=body.roles,
            delivery=delivery, rate_limit=_rate_limit(body.rate_limit), lang=body.lang,
            created_by=principal.actor, created_at=now).returning(subscription_t.c.id)
        ).scalar_one()
        audit.append(conn, stream=f"subscription:{new_id}", at=now, actor=principal.actor,
                     role=None, action="create", data={"channel": body.channel,
                                                       "org": body.org})
        row = _subscription(conn, principal, new_id)
        calendar = services.registry.calendar(conn)
    return _public(row, principal, secret, now=now, calendar=calendar)


@router.get("/subscriptions", response_model=list[SubscriptionPublic],
            responses=problem_responses(401, 403), summary="The subscriptions you reach")
def list_subscriptions(services: ServicesDep, principal: OrgManager) -> Any:
    with services.db.read() as conn:
        rows = conn.execute(select(subscription_t).where(
            reach(principal, subscription_t.c.org_path), subscription_t.c.deleted_at.is_(None))
            .order_by(subscription_t.c.id)).all()
        calendar = services.registry.calendar(conn)
    return [_public(r, principal, now=services.now(), calendar=calendar) for r in rows]


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionPublic,
              responses=problem_responses(401, 403, 404, 422),
              summary="Change how a subscription's messages go out: at once or as a digest, "
                      "and its rate limit")
def update_subscription(subscription_id: SubscriptionId, body: SubscriptionUpdate,
                        services: ServicesDep, principal: ChannelManager) -> Any:
    now = services.now()
    values: dict[str, Any] = {}
    if body.delivery is not None:
        values["delivery"] = _delivery_settings(body.delivery)
    if "rate_limit" in body.model_fields_set:
        values["rate_limit"] = _rate_limit(body.rate_limit)
    if body.lang is not None:
        values["lang"] = body.lang
    with services.db.write() as conn:
        row = _subscription(conn, principal, subscription_id)
        released = 0
        if values:
            conn.execute(update(subscription_t).where(subscription_t.c.id == subscription_id)
                         .values(**values))
            if "delivery" in values and not values["delivery"]:
                # back to immediate: what waited for a digest goes out now, one by one
                released = release(conn, subscription_id, now)
            audit.append(conn, stream=f"subscription:{subscription_id}", at=now,
                         actor=principal.actor, role=None, action="update",
                         data={**values, "released": released})
            row = _subscription(conn, principal, subscription_id)
        calendar = services.registry.calendar(conn)
    return _public(row, principal, now=now, calendar=calendar)


@router.delete("/subscriptions/{subscription_id}", status_code=204,
               responses=problem_responses(401, 403, 404), summary="Stop a subscription")
def delete_subscription(subscription_id: SubscriptionId, services: ServicesDep,
                        principal: ChannelManager) -> Response:
    now = services.now()
    with services.db.write() as conn:
        row = _subscription(conn, principal, subscription_id)
        # Marked, not removed: its id is never handed out again, so nothing bound to it can
        # reach a later subscription. Its secrets are dropped; nothing will be sent with them.
        conn.execute(update(subscription_t).where(subscription_t.c.id == subscription_id)
                     .values(deleted_at=now, config=public_config(row.config, full=False)))
        # what was still waiting for it (dead letters too) goes nowhere now: say so rather
        # than retry in vain, and a redrive cannot bring it back
        deliveries.cancel(conn, delivery_t.c.subscription_id == subscription_id,
                          deliveries.DELETED)
        audit.append(conn, stream=f"subscription:{subscription_id}", at=now,
                     actor=principal.actor, role=None, action="delete")
    return Response(status_code=204)


@router.post("/subscriptions/{subscription_id}/rotate-secret",
             response_model=SubscriptionPublic, responses=problem_responses(401, 403, 404, 422),
             summary="Give a webhook a new signing secret (shown once)")
def rotate_secret(subscription_id: SubscriptionId, services: ServicesDep,
                  principal: ChannelManager) -> Any:
    with services.db.write() as conn:
        row = _subscription(conn, principal, subscription_id)
        if row.channel != "webhook":
            raise Forbidden(t("api.action.rotate_secret"), t("api.needs.webhook"))
        secret = "whsec_" + secrets.token_urlsafe(32)
        conn.execute(update(subscription_t).where(subscription_t.c.id == subscription_id)
                     .values(config={**row.config, "secret": secret}))
        audit.append(conn, stream=f"subscription:{subscription_id}", at=services.now(),
                     actor=principal.actor, role=None, action="rotate_secret")
        row = _subscription(conn, principal, subscription_id)
        calendar = services.registry.calendar(conn)
    return _public(row, principal, secret, now=services.now(), calendar=calendar)
