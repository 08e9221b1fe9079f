"""Migration 0004 on a database that already holds the damage: deliveries bound to a reused or
missing subscription id are untied and cancelled, reply texts are cut from stored failures,
and the migration goes down and up again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alembic import command
from sqlalchemy import column, create_engine, insert, select, table
from sqlalchemy.pool import NullPool

from storage.db import alembic_config
from storage.tables import Delivery, Org, Subscription

org_t = Org.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]
delivery_t = Delivery.__table__  # type: ignore[attr-defined]

T0 = dt.datetime(2023, 6, 1, 1, tzinfo=dt.UTC)


def _org(id: str, path: str) -> dict[str, Any]:
    return {"id": id, "name": id, "level": "street", "parent_id": None, "path": path,
            "version": 1, "created_at": T0, "updated_at": T0}


def _subscription(id: int, org: str, created: dt.datetime) -> dict[str, Any]:
    return {"id": id, "name": f"sub{id}", "channel": "webhook", "org_id": org,
            "org_path": f"/{org}/", "config": {"url": "https://hooks.example.org/x"},
            "campaign_id": None, "kinds": [], "roles": [], "created_by": "t",
            "created_at": created}


def _delivery(key: str, subscription: int | None, status: str, *,
              last_error: str | None = None, channel: str = "webhook") -> dict[str, Any]:
    return {"key": key, "timer_id": None, "subscription_id": subscription, "channel": channel,
            "kind": "remind", "subject": "case-1", "campaign_id": "c", "org_path": "/a/a1/",
            "message": {}, "late": False, "status": status, "attempts": 3,
            "next_attempt_at": T0, "created_at": T0 + dt.timedelta(days=1),
            "lease_until": None, "last_error": last_error, "delivered_at": None}


def test_the_migration_unties_deliveries_bound_to_the_wrong_subscription(
    database_url: str,
) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0003")
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(insert(org_t), [_org("a", "/a/"), _org("b", "/b/")])
            # street a's subscription 1, older than its delivery; street b's subscription 2 got
            # the id of a's deleted one after a's delivery was queued
            # the subscription table as it was at 0003: the columns added since (lang …) left out
            then = table("subscription", *(column(name, subscription_t.c[name].type)
                                            for name in _subscription(0, "a", T0)))
            conn.execute(insert(then), [
                _subscription(1, "a", T0), _subscription(2, "b", T0 + dt.timedelta(days=2))])
            conn.execute(insert(delivery_t), [
                _delivery("bound", 1, "dead", last_error="HTTP 500: <h1>db_password=x</h1>"),
                _delivery("reused", 2, "dead", last_error="HTTP 500: <h1>db_password=x</h1>"),
                _delivery("missing", 9, "pending"),
                _delivery("sent-long-ago", 9, "delivered"),
                _delivery("logged", None, "delivered", channel="log"),
            ])
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = {r.key: (r.subscription_id, r.status, r.last_error)
                    for r in conn.execute(select(delivery_t)).all()}
        moved = "its subscription was deleted before this release"
        assert rows == {
            "bound": (1, "dead", "HTTP 500"),
            "reused": (None, "cancelled", moved),
            "missing": (None, "cancelled", moved),
            "sent-long-ago": (None, "delivered", None),
            "logged": (None, "delivered", None),
        }
        command.downgrade(config, "0003")
        command.upgrade(config, "head")
    finally:
        engine.dispose()
