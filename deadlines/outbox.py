"""The outbox: deliveries written in the sweep's transaction, then sent by the deliverer.

Sending happens outside any transaction (it waits on the network), so a delivery is first
leased (`sending`, `lease_until`) in a short transaction, then sent, then marked delivered,
retried with backoff, or dead after the policy's last attempt. A deliverer that dies while
sending leaves the lease to run out, and the delivery is sent again under the same idempotency
key, which receivers use to drop the repeat.

A delivery is bound to the subscription it was queued for (storage.deliveries): just before
sending, the deliverer reads that subscription, and a delivery whose subscription was deleted
or no longer reaches it is cancelled instead of sent. Channels are built with the outbound
policy, which decides where a message may go at all (deadlines.outbound).

A subscription in digest mode gets its messages `held`; at its digest times they go out as one
message (deadlines.digests). A robot's rate limit (deadlines.pacing) is taken just before each
attempt: when it bites, the delivery waits for the next free slot without an attempt counted.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, or_, select, update

from deadlines import pacing
from deadlines.channels import Channel, ChannelConfigInvalid, Message, build_channel
from deadlines.channels.base import DeliveryResult
from deadlines.digests import Digests
from deadlines.messages import Outgoing
from deadlines.outbound import PUBLIC_ONLY, OutboundPolicy
from deadlines.recipients import LOG, Destination
from deadlines.retry import RetryPolicy
from storage import deliveries, metrics
from storage.audit import canonical
from storage.calendars import CalendarCache
from storage.db import Database
from storage.prepared import InsertNew
from storage.tables import Delivery, Subscription

log = logging.getLogger("paicha.outbox")

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]

PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"
CANCELLED, HELD, DIGESTED = deliveries.CANCELLED, deliveries.HELD, deliveries.DIGESTED
# an attempt's outcome in the metrics, by the status it left the delivery in
OUTCOMES = {DELIVERED: "delivered", PENDING: "retry", DEAD: "dead"}


def delivery_row(message: Outgoing, destination: Destination, *,
                 timer_id: int | None, now: dt.datetime) -> dict[str, Any]:
    """The outbox row of `message` for `destination`; its key is what receivers see."""
    key = f"{message.key}->{destination.label}"
    return {"key": key, "timer_id": timer_id, "subscription_id": destination.subscription_id,
            "channel": destination.channel, "kind": message.kind, "subject": message.subject,
            "campaign_id": message.campaign, "org_path": message.org_path,
            "message": message.body(key), "late": message.late,
            "status": HELD if destination.digest else PENDING,
            "attempts": 0, "next_attempt_at": now, "created_at": now,
            "lease_until": None, "last_error": None, "delivered_at": None,
            "rate_limited_count": 0, "delayed_until": None, "digest_id": None}


_COLUMNS = ("key", "timer_id", "subscription_id", "channel", "kind", "subject", "campaign_id",
            "org_path", "message", "late", "status", "attempts", "next_attempt_at", "created_at",
            "lease_until", "last_error", "delivered_at", "rate_limited_count", "delayed_until",
            "digest_id")  # every key of delivery_row's rows
# On SQLite through the driver (storage.prepared): the sweep queues every message of a batch
# here, and Core's binding cost more than SQLite's work.
_ENQUEUE = InsertNew(delivery_t, key="key", columns=_COLUMNS)


def enqueue(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Queue outbox rows (of `delivery_row`) in one statement; a key queued before is left
    alone. Returns how many went in."""
    return _ENQUEUE.many(conn, rows)


@dataclass
class DeliveryRun:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    delayed: int = 0  # held back by a robot's rate limit (not failures)
    digests: int = 0  # digest messages queued
    errors: list[str] = field(default_factory=list)


class Deliverer:
    """Sends due deliveries through their channels."""

    def __init__(self, db: Database, *, clock: Callable[[], dt.datetime],
                 policy: RetryPolicy | None = None, batch: int = 100,
                 lease: dt.timedelta = dt.timedelta(minutes=10),
                 rng: random.Random | None = None,
                 outbound: OutboundPolicy = PUBLIC_ONLY,
                 calendars: CalendarCache | None = None) -> None:
        self.db = db
        self.outbound = outbound
        self.clock = clock
        # Twelve attempts span about 14 hours: a robot's outage of an afternoon is ridden out.
        self.policy = policy or RetryPolicy(max_attempts=12)
        self.batch = batch
        self.lease = lease
        self.rng = rng or random.Random()
        # Channels built once per subscription config (HTTP clients are reused).
        self._channels: dict[str, Channel] = {}
        self.digests = Digests(db, calendars or CalendarCache())
        # Robots whose limit bit in this run, and until when: their other deliveries wait
        # without asking the database again.
        self._blocked: dict[str, dt.datetime] = {}

    def _claim(self) -> tuple[list[Any], dt.datetime]:
        now = self.clock()
        lease = self._lease_from(now)
        with self.db.write() as conn:
            query = (select(delivery_t).where(
                or_(delivery_t.c.status == PENDING,
                    (delivery_t.c.status == SENDING) & (delivery_t.c.lease_until < now)),
                delivery_t.c.next_attempt_at <= now)
                .order_by(delivery_t.c.next_attempt_at, delivery_t.c.id).limit(self.batch))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(conn.execute(query).all())
            if rows:
                conn.execute(update(delivery_t).where(delivery_t.c.id.in_([r.id for r in rows]))
                             .values(status=SENDING, lease_until=lease))
            return rows, lease

    def channel_for(self, row: Any) -> Channel | str:
        """The channel of the subscription a delivery is bound to, as it is configured now (a
        rotated secret applies from the next attempt); or why the delivery may not be sent
        (storage.deliveries.problem)."""
        return self._bound(row)[0]

    def _bound(self, row: Any) -> tuple[Channel | str, Any]:
        """channel_for, and the subscription's row (None for the log channel)."""
        sub = None
        if row.subscription_id is not None:
            with self.db.read() as conn:
                sub = conn.execute(select(subscription_t).where(
                    subscription_t.c.id == row.subscription_id)).one_or_none()
        problem = deliveries.problem(row, sub)
        if problem is not None:
            return problem, sub
        if sub is None:
            return self._cached(LOG, lambda: build_channel(LOG, {})), None
        label = f"sub{sub.id}:{canonical(sub.config)}"
        return self._cached(label, lambda: build_channel(sub.channel, sub.config,
                                                         outbound=self.outbound)), sub

    def _cached(self, label: str, build: Callable[[], Channel]) -> Channel:
        found = self._channels.get(label)
        if found is None:
            found = self._channels[label] = build()
        return found

    def close(self) -> None:
        """Release the channels' connections."""
        for channel in self._channels.values():
            close = getattr(channel, "close", None)
            if callable(close):
                close()
        self._channels.clear()

    def deliver(self, *, max_batches: int = 100) -> DeliveryRun:
        """Queue the digests due now, then send every delivery due now, batch by batch
        (bounded)."""
        run = DeliveryRun()
        run.digests = self.digests.build(self.clock())
        self._blocked.clear()
        for _ in range(max_batches):
            rows, lease = self._claim()
            for row in rows:
                self._send(row, lease, run)
            if len(rows) < self.batch:
                break
        return run

    def _lease_from(self, now: dt.datetime) -> dt.datetime:
        # The lease's end doubles as this deliverer's mark on the row: the microseconds make
        # two deliverers' leases differ, so each update below touches only rows it still holds.
        return now + self.lease + dt.timedelta(microseconds=self.rng.randrange(1, 999_999))

    def _renew(self, row: Any, lease: dt.datetime) -> dt.datetime | None:
        """Extend the lease of one row just before sending it; None if it was taken over (its
        lease ran out while earlier rows of the batch were being sent)."""
        mine = self._lease_from(self.clock())
        with self.db.write() as conn:
            held = conn.execute(update(delivery_t).where(
                delivery_t.c.id == row.id, delivery_t.c.status == SENDING,
                delivery_t.c.lease_until == lease).values(lease_until=mine))
        return mine if held.rowcount == 1 else None

    def _send(self, row: Any, lease: dt.datetime, run: DeliveryRun) -> None:
        mine = self._renew(row, lease)
        if mine is None:
            return
        try:
            channel, sub = self._bound(row)
            if isinstance(channel, str):
                self._cancel(row, mine, channel)
                return
            free = self._slot(sub)
            if free is not None:
                self._postpone(row, mine, free)
                run.delayed += 1
                metrics.delivery(row.channel, "delayed")  # the robot's rate limit: not an attempt
                return
            result = channel.send(Message.from_dict(row.message), now=self.clock())
        except ChannelConfigInvalid as exc:
            result = DeliveryResult.failed(f"channel unusable: {exc}", retryable=False)
        except Exception as exc:  # a channel must not raise; if one does, the row still moves on
            log.exception("channel raised", extra={"action": "channel_raised", "key": row.key})
            result = DeliveryResult.failed(f"channel failed ({type(exc).__name__})",
                                           retryable=False)
        now = self.clock()
        attempts = row.attempts + 1
        if result.ok:
            values: dict[str, Any] = {"status": DELIVERED, "delivered_at": now,
                                      "lease_until": None, "last_error": None}
            run.sent += 1
        else:
            retry = (self.policy.next_attempt(attempts, now, self.rng,
                                              retry_after=result.retry_after)
                     if result.retryable else None)
            values = {"status": PENDING if retry else DEAD, "lease_until": None,
                      "last_error": result.detail[:2000]}
            if retry:
                values["next_attempt_at"] = retry
                run.failed += 1
            else:
                run.dead += 1
                log.warning("dead letter", extra={"action": "dead_letter", "key": row.key,
                                                  "detail": result.detail})
            run.errors.append(f"{row.key}: {result.detail}")
        with self.db.write() as conn:
            conn.execute(update(delivery_t).where(delivery_t.c.id == row.id,
                                                  delivery_t.c.lease_until == mine)
                         .values(attempts=attempts, **values))
        metrics.delivery(row.channel, OUTCOMES[values["status"]])

    def _slot(self, sub: Any) -> dt.datetime | None:
        """Take a slot of the subscription's robot to send now: None when taken (or when it
        has no limit), else when the next slot frees (deadlines.pacing)."""
        limit = None if sub is None else pacing.limit_for(sub.channel, sub.rate_limit)
        if limit is None:
            return None
        key = pacing.robot_key(sub.channel, sub.config)
        now = self.clock()
        blocked = self._blocked.get(key)
        if blocked is not None and now < blocked:
            return blocked
        with self.db.write() as conn:
            free = pacing.take(conn, key, limit, now)
        if free is not None:
            self._blocked[key] = free
        return free

    def _postpone(self, row: Any, mine: dt.datetime, free: dt.datetime) -> None:
        """Held back by the robot's limit: due again when a slot frees, no attempt counted."""
        with self.db.write() as conn:
            conn.execute(update(delivery_t).where(delivery_t.c.id == row.id,
                                                  delivery_t.c.lease_until == mine)
                         .values(status=PENDING, lease_until=None, next_attempt_at=free,
                                 delayed_until=free,
                                 rate_limited_count=delivery_t.c.rate_limited_count + 1))

    def _cancel(self, row: Any, mine: dt.datetime, reason: str) -> None:
        log.info("delivery cancelled", extra={"action": "delivery_cancelled", "key": row.key,
                                              "reason": reason})
        with self.db.write() as conn:
            conn.execute(update(delivery_t).where(delivery_t.c.id == row.id,
                                                  delivery_t.c.lease_until == mine)
                         .values(status=CANCELLED, lease_until=None, last_error=reason))
        metrics.delivery(row.channel, "cancelled")


def redrive(conn: Connection, delivery_ids: list[int] | None, *, now: dt.datetime,
            where: Any = None) -> int:
    """Send dead letters again (all, or the given ones, within `where`) with a fresh count of
    attempts; the number sent again. A dead letter whose subscription is gone, or no longer
    reaches it, is not redriven (it is cancelled when that happens; this is the backstop)."""
    query = update(delivery_t).where(delivery_t.c.status == DEAD, deliveries.bound())
    if where is not None:
        query = query.where(where)
    if delivery_ids is not None:
        query = query.where(delivery_t.c.id.in_(delivery_ids))
    result = conn.execute(query.values(status=PENDING, attempts=0, next_attempt_at=now,
                                       last_error=None))
    return int(result.rowcount)
