"""Calendar notices through the outbox: what the safety office hears of a date that moved
(deadlines.recompute), and the administrator's one notice of a year nobody has added.

The administrator is told once per year, 60 days before the first uncovered day that a running
clock, a deployed phase or an open obligation needs: kind `calendar_missing`, idempotency key
`calendar:<year>:missing`, roles `admin`, org path `/` — the log channel, and any subscription
that names the kind in its `kinds` (deadlines.recipients.DEPLOYMENT_WIDE).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, select, update

from deadlines.messages import Outgoing, calendar_context, in_languages
from deadlines.outbox import delivery_row, enqueue
from deadlines.recipients import Subscriptions
from engine import texts
from engine.dates import local_date
from engine.notices import kind_name
from storage import timers
from storage.cases import case_t
from storage.db import Database
from storage.tables import Delivery, Obligation
from storage.tables import Timer as TimerRow
from storage.timers import WATCHING

timer_t = TimerRow.__table__  # type: ignore[attr-defined]
obligation_t = Obligation.__table__  # type: ignore[attr-defined]
delivery_t = Delivery.__table__  # type: ignore[attr-defined]

NOTICE_AHEAD = dt.timedelta(days=60)
# "today" for the administrator's notice, which concerns every campaign alike
NOTICE_TIMEZONE = "Asia/Shanghai"


def prefixed(column: Any, prefix: str) -> Any:
    """`column` starts with `prefix`, as a range the unique key index serves (LIKE is not
    served on SQLite, and `_` would match any character)."""
    return (column >= prefix) & (column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def finish(conn: Connection, ids: list[int]) -> None:
    """Watches done with (recomputed, or stale)."""
    if ids:
        conn.execute(update(timer_t).where(timer_t.c.id.in_(ids))
                     .values(status=timers.CANCELLED))


def send(conn: Connection, build: Callable[[], Outgoing], now: dt.datetime) -> int:
    """Queue a message for every destination it has, in each one's language (`build` makes
    it in the current one); a key queued before is left alone."""
    worded = in_languages(build)
    message = worded(texts.default())
    rows = [delivery_row(worded(destination.lang), destination, timer_id=None, now=now)
            for destination in Subscriptions(conn).destinations(
                org_path=message.org_path, campaign_id=message.campaign, kind=message.kind,
                roles=message.roles)]
    enqueue(conn, rows)
    return 1


def missing_key(year: int) -> str:
    """The idempotency key of the administrator's notice of a missing year."""
    return f"calendar:{year}:missing"


def tell_missing_year(db: Database, clock: Callable[[Connection], dt.datetime]
                      ) -> tuple[int, int]:
    """Queue the administrator's notice if it is due and not sent yet; (notices queued,
    stale watches dropped). Two index reads when there is nothing to say."""
    with db.read() as conn:
        now = clock(conn)
        day = _first_watched(conn)
        due = (day is not None and local_date(now, NOTICE_TIMEZONE) >= day - NOTICE_AHEAD
               and not _told(conn, day.year))
    if not due:
        return 0, 0
    with db.write() as conn:  # only now: on SQLite a write waits for the lock
        now = clock(conn)
        day, stale = _first_needed(conn)
        if day is None or local_date(now, NOTICE_TIMEZONE) < day - NOTICE_AHEAD or _told(
                conn, day.year):
            return 0, stale
        return send(conn, lambda: _missing(day, now), now), stale


def _missing(day: dt.date, now: dt.datetime) -> Outgoing:
    """The administrator's notice of the year of `day`, in the current language."""
    text = texts.t("deadlines.calendar.missing", year=day.year, day=day)
    return Outgoing(key=missing_key(day.year), kind="calendar_missing",
                    title=kind_name("calendar_missing"), text=text, campaign="",
                    subject=f"calendar:{day.year}", roles=("admin",), due_date=day,
                    late=False, at=now, org_path="/",
                    extra={"year": day.year, "first_day": day.isoformat()},
                    context=calendar_context(
                        "calendar_missing", text, campaign=None, roles=("admin",),
                        org={"id": "", "name": ""}, due=day,
                        today=local_date(now, NOTICE_TIMEZONE),
                        calendar={"year": day.year, "first_day": day.isoformat()}))


def _told(conn: Connection, year: int) -> bool:
    return conn.execute(select(delivery_t.c.id).where(
        prefixed(delivery_t.c.key, f"{missing_key(year)}->")).limit(1)).first() is not None


def _open_obligations_day(conn: Connection) -> dt.date | None:
    day: dt.date | None = conn.execute(select(func.min(obligation_t.c.provisional_day)).where(
        obligation_t.c.provisional_day.is_not(None),
        obligation_t.c.done < obligation_t.c.times)).scalar()
    return day


def _first_watched(conn: Connection) -> dt.date | None:
    """The earliest uncovered day anything waits for (stale watches included): whether the
    administrator's notice may be due."""
    watched = conn.execute(select(func.min(timer_t.c.due_date)).where(
        timer_t.c.status == WATCHING)).scalar()
    days = [d for d in (watched, _open_obligations_day(conn)) if d is not None]
    return min(days) if days else None


def _first_needed(conn: Connection) -> tuple[dt.date | None, int]:
    """The first uncovered day that a running clock, a deployed phase or an open obligation
    needs; watches of clocks that stopped meanwhile are dropped on the way (and counted)."""
    found: dt.date | None = None
    stale = 0
    for _ in range(20):  # stale watches are few; the next run goes on
        row = conn.execute(select(timer_t).where(timer_t.c.status == WATCHING)
                           .order_by(timer_t.c.due_date, timer_t.c.id).limit(1)).first()
        if row is None or row.subject.startswith("phase:") or _live(conn, row):
            found = None if row is None else row.due_date
            break
        finish(conn, [row.id])
        stale += 1
    days = [d for d in (found, _open_obligations_day(conn)) if d is not None]
    return (min(days) if days else None), stale


def _live(conn: Connection, watch: Any) -> bool:
    """Whether a case clock's watch still stands for the clock as it runs."""
    row = conn.execute(select(case_t.c.clocks).where(case_t.c.id == watch.subject)).first()
    running = (row.clocks if row else {}).get(watch.clock_id) or {}
    return bool(running.get("due") and running.get("gen") == watch.payload.get("gen")
                and running.get("provisional"))
