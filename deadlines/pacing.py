"""The pace robots allow: a rate limit per robot, shared by every deliverer through the database.

A WeCom group robot takes 20 messages a minute and refuses the rest (errcode 45009); a DingTalk
robot the same (130101). Several subscriptions may name one robot, and several deliverer
processes may send at once, so the limit is kept per robot — by a digest of its address — in
one `rate_window` row holding the instants of its most recent sends: a sliding window, read and
written under the row's lock (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every write
transaction holds the database's one write lock). A send is allowed while fewer than the limit's
number of sends lie within the window; otherwise the answer is when the oldest of them leaves it.

A delivery the limit holds back is not a failed attempt: the deliverer sets its next attempt to
that instant and counts the delay on the row (deadlines.outbox).

pyrate-limiter (installed with schemathesis) was weighed for this and not used: its PostgreSQL
bucket needs a psycopg_pool of its own outside our engine and transactions, creates a table per
bucket at run time (outside the migrations; one per robot here) and reads the database's clock,
so no test can drive it with a fake one; its SQLite bucket keeps its own sqlite3 connection, is
shared between processes only through a file lock (the `filelock` package) and reads the wall
clock. The window below is one row per robot and about thirty lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from deadlines.channels.dingtalk import DEFAULT_BASE_URL as DINGTALK_URL
from deadlines.channels.wecom import DEFAULT_BASE_URL as WECOM_URL
from storage.tables import RateWindow

window_t = RateWindow.__table__  # type: ignore[attr-defined]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICRO = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Limit:
    """At most `messages` sends in any `seconds`-long stretch of time."""

    messages: int
    seconds: int

    @property
    def period(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.seconds)


# The robots' own limits (WeCom: 20 a minute per robot; DingTalk: 20 a minute per robot).
# Webhooks and e-mail have none unless a subscription sets one.
DEFAULT_LIMITS: Mapping[str, Limit] = {"wecom": Limit(20, 60), "dingtalk": Limit(20, 60)}
def limit_for(channel: str, rate_limit: Mapping[str, Any]) -> Limit | None:
    """The limit a subscription's deliveries keep: its own, else its channel kind's, else none."""
    if rate_limit:
        return Limit(int(rate_limit["messages"]), int(rate_limit["seconds"]))
    return DEFAULT_LIMITS.get(channel)


def robot_key(channel: str, config: Mapping[str, Any]) -> str:
    """Which robot a subscription sends to, as a digest (the address holds the robot's secret):
    two subscriptions of one robot share its limit."""
    if channel == "wecom":
        address = f"{config.get('base_url') or WECOM_URL}?key={config.get('key')}"
    elif channel == "dingtalk":
        address = f"{config.get('base_url') or DINGTALK_URL}?access_token=" \
                  f"{config.get('access_token')}"
    elif channel == "email":
        address = f"{config.get('host')}:{config.get('port')}/{config.get('from_address')}"
    else:
        address = str(config.get("url"))
    return hashlib.sha256(f"{channel}|{address}".encode()).hexdigest()


def _micros(instant: dt.datetime) -> int:
    return (instant - EPOCH) // MICRO


def _instant(micros: int) -> dt.datetime:
    return EPOCH + micros * MICRO


def take(conn: Connection, key: str, limit: Limit, now: dt.datetime) -> dt.datetime | None:
    """Take a slot to send to robot `key` now: None when taken, else the instant a slot frees.
    Call in a write transaction of its own (it locks the robot's row until the commit)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(window_t).values(key=key, sent=[], updated_at=now)
                 .on_conflict_do_nothing(index_elements=["key"]))
    query = select(window_t.c.sent).where(window_t.c.key == key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    stamps: list[int] = list(conn.execute(query).scalar_one())
    at = _micros(now)
    start = at - _micros(EPOCH + limit.period)
    # Sorted: deliverers' clocks may differ a little, so instants need not arrive in order.
    recent = sorted(s for s in stamps if start < s)
    if len(recent) >= limit.messages:
        return _instant(recent[len(recent) - limit.messages]) + limit.period
    recent = sorted([*recent, at])[-limit.messages:]
    conn.execute(update(window_t).where(window_t.c.key == key)
                 .values(sent=recent, updated_at=now))
    return None
