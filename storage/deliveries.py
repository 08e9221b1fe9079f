"""A delivery's binding to its destination: which outbox rows may still be sent, and
cancelling those whose destination went away.

A delivery is queued for one subscription (or the log channel) and is only ever sent there.
It may be sent while that subscription is live and still reaches the delivery's org: a deleted
subscription, or one left behind when a unit or an org moved to another street, cancels it
rather than sending a street's reminder to another street's destination. The same rule is
written twice, once in SQL (for redrives and moves, many rows at a time) and once in Python
(for the deliverer, one row just before it sends), and `tests/deadlines` holds them to it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, exists, func, not_, or_, update
from sqlalchemy.sql.elements import ColumnElement

from storage.tables import Delivery, Subscription

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]

LOG = "log"  # the channel of deliveries bound to no subscription
CANCELLED = "cancelled"
HELD = "held"  # waiting for its subscription's next digest (deadlines.digests)
DIGESTED = "digested"  # sent as part of the digest delivery `digest_id`
UNSENT = ("pending", "sending", "dead", HELD)

# The fixed reasons a cancelled delivery records.
DELETED = "the subscription was deleted"
OUT_OF_REACH = "the subscription no longer reaches the delivery's org (the unit or org moved)"
UNBOUND = "the delivery is bound to no subscription"


def _reaches(subscription_path: Any, delivery_path: Any) -> ColumnElement[bool]:
    """The delivery's org path lies in the subscription's subtree (paths end in '/')."""
    within: ColumnElement[bool] = (
        func.substr(delivery_path, 1, func.length(subscription_path)) == subscription_path)
    return within


def bound() -> ColumnElement[bool]:
    """Deliveries whose destination is still there: the log channel's, and those of a live
    subscription that reaches the delivery's org."""
    d, s = delivery_t.c, subscription_t.c
    live = exists().where(s.id == d.subscription_id, s.deleted_at.is_(None),
                          s.channel == d.channel, _reaches(s.org_path, d.org_path))
    condition: ColumnElement[bool] = or_(
        and_(d.subscription_id.is_(None), d.channel == LOG), live)
    return condition


def problem(delivery: Any, subscription: Any | None) -> str | None:
    """Why `delivery` may not be sent to `subscription` (its bound subscription's row, None if
    missing), or None: `bound()` for one row."""
    if delivery.subscription_id is None:
        return None if delivery.channel == LOG else UNBOUND
    if subscription is None or subscription.deleted_at is not None:
        return DELETED
    if subscription.channel != delivery.channel:
        return UNBOUND
    if not delivery.org_path.startswith(subscription.org_path):
        return OUT_OF_REACH
    return None


def cancel(conn: Connection, where: ColumnElement[bool], reason: str) -> int:
    """Cancel the unsent deliveries (pending, sending, dead or held for a digest) `where`
    selects; how many."""
    result = conn.execute(update(delivery_t).where(where, delivery_t.c.status.in_(UNSENT))
                          .values(status=CANCELLED, lease_until=None, last_error=reason))
    return int(result.rowcount)


def cancel_unbound(conn: Connection, where: ColumnElement[bool]) -> int:
    """Cancel the unsent deliveries `where` selects whose destination is gone or no longer
    reaches them (after a move); how many."""
    return cancel(conn, and_(where, not_(bound())), OUT_OF_REACH)
