"""Digests: a subscription's messages held and sent together, at set local times.

A subscription in digest mode (`delivery: {"mode": "digest", "at": ["09:00"]}`) gets each
message as an outbox row of status `held` (deadlines.outbox.delivery_row). At each of its times
— on working days of the statutory calendar (engine.workdays, with the years offices added) unless
it says `"days": "every"` — the deliverer turns everything held for it into one message grouped
by kind and due date, and marks each held row `digested` with the digest's id, in one
transaction: a row is in exactly one digest, and one that arrives after the digest's time (or
after it was built) waits for the next time. A digest too long for a robot (WeCom takes 4,096
bytes) goes out in parts.

Reminders are due at 09:00 like the default digest, so a digest waits until the sweep has
handled every timer due by its time (at most `SWEEP_GRACE`): the morning's reminders are in the
morning's digest, not the next day's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, literal_column, select, update

from engine import texts
from engine.dates import local_date, local_instant
from engine.notices import day_text, kind_name
from engine.workdays import EveryDayCalendar, WorkCalendar
from storage import deliveries
from storage.calendars import CalendarCache
from storage.db import Database
from storage.tables import Delivery, Subscription
from storage.tables import Timer as TimerRow

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]
timer_t = TimerRow.__table__  # type: ignore[attr-defined]

DIGEST = "digest"  # the digest message's kind
DEFAULT_AT = ("09:00",)
DEFAULT_TIMEZONE = "Asia/Shanghai"
Days = Literal["working", "every"]
SWEEP_GRACE = dt.timedelta(minutes=10)
# How far back the last digest time is looked for: the longest run of rest days (春节, 国庆
# with their weekends) is 9 days.
LOOK_BACK_DAYS = 31
# A part's items and text: WeCom refuses markdown over 4,096 bytes, and the title and the
# facts lines come on top.
PART_ITEMS = 40
PART_BYTES = 3000


@dataclass(frozen=True)
class DigestSettings:
    """When a subscription's digest goes out: local times, on working days or every day."""

    at: tuple[dt.time, ...]
    timezone: str = DEFAULT_TIMEZONE
    days: Days = "working"


def delivery_problems(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with a subscription's `delivery` settings ({} = immediate), by field."""
    problems: list[tuple[str, str]] = []
    for name in raw:
        if name not in ("mode", "at", "timezone", "days"):
            problems.append((name, texts.t("deadlines.config.unknown_key",
                                           known="at, days, mode, timezone")))
    mode = raw.get("mode", "immediate")
    if mode not in ("immediate", DIGEST):
        problems.append(("mode", texts.t("deadlines.delivery.mode", value=mode)))
    if mode != DIGEST:
        for name in ("at", "timezone", "days"):
            if name in raw:
                problems.append((name, texts.t("deadlines.delivery.digest_only")))
        return problems
    times = raw.get("at", list(DEFAULT_AT))
    if not isinstance(times, list) or not times or len(times) > 24:
        problems.append(("at", texts.t("deadlines.delivery.times")))
    else:
        for index, value in enumerate(times):
            if _time(value) is None:
                problems.append((f"at[{index}]", texts.t("deadlines.delivery.time",
                                                         value=value)))
        if len({str(t) for t in times}) != len(times):
            problems.append(("at", texts.t("deadlines.delivery.twice")))
    zone = raw.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(zone, str) or not _zone_known(zone):
        problems.append(("timezone", texts.t("deadlines.delivery.timezone", value=zone)))
    if raw.get("days", "working") not in ("working", "every"):
        problems.append(("days", texts.t("deadlines.delivery.days", value=raw.get("days"))))
    return problems


def settings_of(raw: Mapping[str, Any]) -> DigestSettings | None:
    """The digest settings of a (valid) `delivery` mapping; None when it sends at once."""
    if raw.get("mode") != DIGEST:
        return None
    times = sorted(t for t in (_time(v) for v in raw.get("at", DEFAULT_AT)) if t is not None)
    return DigestSettings(tuple(times), raw.get("timezone", DEFAULT_TIMEZONE),
                          "every" if raw.get("days") == "every" else "working")


def _time(value: Any) -> dt.time | None:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        return None


def _zone_known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def last_slot(settings: DigestSettings, now: dt.datetime, calendar: WorkCalendar
              ) -> dt.datetime | None:
    """The latest digest time at or before `now` (UTC), on a working day of `calendar` unless
    the settings say every day; None if there was none in the last month."""
    days = EveryDayCalendar() if settings.days == "every" else calendar
    day = local_date(now, settings.timezone)
    for _ in range(LOOK_BACK_DAYS):
        if days.is_working_day(day):
            for at in reversed(settings.at):
                instant = local_instant(day, at, settings.timezone)
                if instant <= now:
                    return instant
        day -= dt.timedelta(days=1)
    return None


def next_slot(settings: DigestSettings, now: dt.datetime, calendar: WorkCalendar
              ) -> dt.datetime | None:
    """The first digest time after `now` (UTC); None if none in the next month."""
    days = EveryDayCalendar() if settings.days == "every" else calendar
    day = local_date(now, settings.timezone)
    for _ in range(LOOK_BACK_DAYS):
        if days.is_working_day(day):
            for at in settings.at:
                instant = local_instant(day, at, settings.timezone)
                if instant > now:
                    return instant
        day += dt.timedelta(days=1)
    return None


def digest_wording(items: Sequence[Mapping[str, Any]], today: dt.date, *, part: int,
                   parts: int) -> tuple[str, str]:
    """The digest's title and markdown text: one heading per kind and due date, one line per
    item (its own text, as the sweep worded it). The only words of a digest's own, in the
    current language."""
    title = texts.t("deadlines.digest.title", count=len(items)) + (
        texts.t("deadlines.digest.part", part=part, parts=parts) if parts > 1 else "")
    blocks: list[str] = []
    for (kind, due), group in grouped(items):
        when = texts.t("deadlines.digest.due", day=day_text(dt.date.fromisoformat(due), today)
                       ) if due else ""
        lines = [texts.t("deadlines.digest.heading", kind=kind_name(kind), when=when,
                         count=len(group))]
        lines += [f"- {_item_line(item)}" for item in group]
        blocks.append("\n".join(lines))
    return title, "\n\n".join(blocks)


def _item_line(item: Mapping[str, Any]) -> str:
    # A case's title names its type after the kind (到期提醒：重大事故隐患); the kind is the
    # group's heading already.
    title = str(item.get("title", ""))
    about = next((title.split(mark, 1)[1] for mark in ("：", ": ") if mark in title), "")
    text = str(item.get("text", ""))
    return texts.t("deadlines.digest.item", about=about, text=text) \
        if about and not text.startswith(about) else text


def grouped(items: Sequence[Mapping[str, Any]]
            ) -> list[tuple[tuple[str, str], list[Mapping[str, Any]]]]:
    """Items by (kind, due date), soonest due first (undated last), in their order within."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for item in items:
        groups[(str(item["kind"]), str(item.get("due_date") or ""))].append(item)
    return sorted(groups.items(), key=lambda g: (g[0][1] == "", g[0][1], g[0][0]))


def parts_of(items: list[Any]) -> list[list[Any]]:
    """The held rows split into parts a robot takes, each a run of whole groups where it fits."""
    parts: list[list[Any]] = [[]]
    size = 0
    for row in items:
        length = len(str(row.message.get("text", "")).encode("utf-8")) + 40
        if parts[-1] and (len(parts[-1]) >= PART_ITEMS or size + length > PART_BYTES):
            parts.append([])
            size = 0
        parts[-1].append(row)
        size += length
    return parts


class Digests:
    """Queues the digests whose time has come (the deliverer calls it before each run)."""

    def __init__(self, db: Database, calendars: CalendarCache) -> None:
        self.db = db
        self.calendars = calendars

    def build(self, now: dt.datetime) -> int:
        """Queue every digest due at `now`; how many digest messages were queued."""
        with self.db.read() as conn:
            waiting = list(conn.execute(select(delivery_t.c.subscription_id).where(
                delivery_t.c.status == deliveries.HELD).distinct()).scalars())
            if not waiting:  # the common case: one index read
                return 0
            calendar = self.calendars.current(conn)[1]
        queued = 0
        for subscription_id in waiting:
            with self.db.write() as conn:
                queued += self._build_one(conn, subscription_id, now, calendar)
        return queued

    def _build_one(self, conn: Connection, subscription_id: int, now: dt.datetime,
                   calendar: WorkCalendar) -> int:
        sub = conn.execute(select(subscription_t).where(
            subscription_t.c.id == subscription_id)).one_or_none()
        settings = None if sub is None else settings_of(sub.delivery)
        if sub is None or sub.deleted_at is not None or settings is None:
            return 0  # deleting cancels held rows; leaving digest mode releases them
        slot = last_slot(settings, now, calendar)
        if slot is None or (now < slot + SWEEP_GRACE and _sweep_behind(conn, slot)):
            return 0
        base = f"digest:sub{sub.id}@{slot.strftime('%Y-%m-%dT%H:%MZ')}"
        # What was held by its time (and what the sweep queued for it just after): anything
        # later waits for the next time, also when this one's digest is built late.
        query = (select(delivery_t).where(delivery_t.c.subscription_id == sub.id,
                                          delivery_t.c.status == deliveries.HELD,
                                          delivery_t.c.created_at <= slot + SWEEP_GRACE)
                 .order_by(delivery_t.c.id))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # a second deliverer waits, then finds none
        held = list(conn.execute(query).all())
        if not held or _exists(conn, f"{base}#1->sub{sub.id}"):
            return 0  # nothing held, or held since this time's digest: the next one's
        order = {key: n for n, (key, _) in enumerate(grouped([r.message for r in held]))}
        held.sort(key=lambda r: (order[(str(r.message["kind"]),
                                        str(r.message.get("due_date") or ""))], r.id))
        parts = parts_of(held)
        today = local_date(slot, settings.timezone)
        for number, rows in enumerate(parts, start=1):
            digest_id = self._queue(conn, sub, f"{base}#{number}", rows, slot, now, today,
                                    part=number, parts=len(parts))
            conn.execute(update(delivery_t).where(delivery_t.c.id.in_([r.id for r in rows]),
                                                  delivery_t.c.status == deliveries.HELD)
                         .values(status=deliveries.DIGESTED, digest_id=digest_id))
        return len(parts)

    def _queue(self, conn: Connection, sub: Any, key: str, rows: list[Any], slot: dt.datetime,
               now: dt.datetime, today: dt.date, *, part: int, parts: int) -> int:
        # Here, not at the top: the outbox's deliverer builds digests before it sends.
        from deadlines.messages import Outgoing
        from deadlines.outbox import delivery_row, enqueue
        from deadlines.recipients import Destination

        items = [r.message for r in rows]
        lang = sub.lang or texts.DEFAULT
        with texts.use(lang):  # the subscription's language, as its messages were worded
            title, text = digest_wording(items, today, part=part, parts=parts)
        dues = sorted(str(i["due_date"]) for i in items if i.get("due_date"))
        roles = sorted({role for i in items for role in i.get("roles") or ()})
        message = Outgoing(
            key=key, kind=DIGEST, title=title, text=text, campaign=sub.campaign_id or "",
            subject=f"digest:sub{sub.id}", roles=tuple(roles),
            due_date=dt.date.fromisoformat(dues[0]) if dues else None, late=False, at=slot,
            org_path=sub.org_path,
            extra={"count": len(rows), "part": part, "parts": parts,
                   "items": [r.key for r in rows]}, lang=lang)
        row = delivery_row(message, Destination(sub.channel, sub.id), timer_id=None, now=now)
        enqueue(conn, [row])
        found: int = conn.execute(select(delivery_t.c.id).where(delivery_t.c.key == row["key"])
                                  ).scalar_one()
        return found


def _sweep_behind(conn: Connection, slot: dt.datetime) -> bool:
    """Whether a timer due by `slot` is still waiting for the sweep."""
    return conn.execute(select(timer_t.c.id).where(
        timer_t.c.status == literal_column("'pending'"), timer_t.c.due_at <= slot).limit(1)
    ).first() is not None


def _exists(conn: Connection, key: str) -> bool:
    return conn.execute(select(delivery_t.c.id).where(delivery_t.c.key == key)
                        ).first() is not None


def release(conn: Connection, subscription_id: int, now: dt.datetime) -> int:
    """A subscription that left digest mode: what it held goes out at once; how many."""
    result = conn.execute(update(delivery_t).where(
        delivery_t.c.subscription_id == subscription_id,
        delivery_t.c.status == deliveries.HELD).values(status="pending", next_attempt_at=now))
    return int(result.rowcount)
