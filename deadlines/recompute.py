"""Provisional dates, once their year is known: recomputed with their timers, and notices.

A date that needed a year no statutory schedule covered was computed by the weekend rule and
marked provisional (engine.workdays): case clocks and phase deadlines left a watch row (status
'watch', storage.timers), obligations their `provisional_day`. When a year is covered (added
with `paicha calendar add` or PUT /calendar/{year}, or brought by a newer chinesecalendar), each
is computed again, batch by batch, in the sweep (or at once by `paicha calendar add`):

* a case clock whose deadline or next timer moved is armed again as a new generation from now
  (its old timers are cancelled); one whose guessed deadline had already passed keeps running
  as it was declared (its overdue notices are not sent twice); the row and its audit stream
  record the recomputation;
* an obligation gets its new due date, and its pending reminders their new times;
* a phase deadline that moved gets a new timer in place of the old one.

The safety office (role `safety_office`) of the subtree is told once of every date that moved
(kind `calendar_redated`; the idempotency key names the item and both dates).

Before that, the administrator is told once that the year is missing
(deadlines.calendar_notices).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from deadlines.calendar_notices import finish, prefixed, send, tell_missing_year
from deadlines.context import Links, org_of
from deadlines.messages import Outgoing, calendar_context, title
from engine import texts
from engine.checks import Expander
from engine.clocks import redate
from engine.dates import Deadlines, local_date
from engine.model import Campaign
from engine.reminders import phase_deadline
from engine.workdays import PACKAGE_YEARS, StatutoryCalendar
from storage import audit, timers
from storage.campaigns import CampaignRegistry, Published
from storage.cases import case_t, clock_state, rewrite_clocks, stored_case
from storage.db import Database
from storage.prepared import InsertNew
from storage.tables import Obligation, Org, Unit
from storage.tables import Timer as TimerRow
from storage.timers import WATCHING

log = logging.getLogger("paicha.recompute")

timer_t = TimerRow.__table__  # type: ignore[attr-defined]
obligation_t = Obligation.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]

OFFICE = "safety_office"  # who hears of a date that moved
ACTOR = "system (calendar)"
_INSERT_TIMERS = InsertNew(timer_t, key="key", columns=timers.COLUMNS)


@dataclass
class RecomputeResult:
    clocks: int = 0  # provisional case clocks looked at
    moved: int = 0  # … whose deadline or next timer moved
    obligations: int = 0
    phases: int = 0
    told: int = 0  # notices queued (to the safety office, or the administrator)
    stale: int = 0  # watches of clocks that had stopped meanwhile
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "details"}

    @property
    def total(self) -> int:
        return self.clocks + self.obligations + self.phases + self.stale


def covered_ranges(calendar: StatutoryCalendar) -> list[tuple[dt.date, dt.date]]:
    """The runs of consecutive years the calendar covers, as date ranges."""
    years = sorted(y for y in PACKAGE_YEARS | set(calendar.added) if calendar.covers(y))
    runs: list[tuple[dt.date, dt.date]] = []
    for year in years:
        if runs and runs[-1][1].year == year - 1:
            runs[-1] = (runs[-1][0], dt.date(year, 12, 31))
        else:
            runs.append((dt.date(year, 1, 1), dt.date(year, 12, 31)))
    return runs


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Recompute:
    """Recomputes provisional dates whose year is now covered, and sends the notices."""

    def __init__(self, db: Database, registry: CampaignRegistry, *, batch: int = 200,
                 clock: Callable[[Connection], dt.datetime], links: Links | None = None) -> None:
        self.db = db
        self.links = links or Links()
        self.registry = registry
        self.batch = batch
        self.clock = clock

    def run(self, *, max_batches: int = 50) -> RecomputeResult:
        """Up to `max_batches` batches of recomputation, then the administrator's notice."""
        result = RecomputeResult()
        for _ in range(max_batches):
            with self.db.read() as conn:
                calendar = self.registry.calendar(conn)
                ranges = covered_ranges(calendar)
                waiting = self._waiting(conn, ranges)
            if not waiting:
                break
            with self.db.write() as conn:
                now = self.clock(conn)
                before = result.total
                _Batch(self, conn, now, result, calendar).run(ranges)
                if result.total == before:
                    break  # what waits is locked by others (PostgreSQL): the next run takes it
        told, stale = tell_missing_year(self.db, self.clock)
        result.told += told
        result.stale += stale
        if result.total or result.told:
            log.info("recompute", extra={"action": "calendar_recompute", **result.as_dict()})
        return result

    def _waiting(self, conn: Connection, ranges: list[tuple[dt.date, dt.date]]) -> bool:
        for first, last in ranges:
            if conn.execute(select(timer_t.c.id).where(
                    timer_t.c.status == WATCHING, timer_t.c.due_date >= first,
                    timer_t.c.due_date <= last).limit(1)).first():
                return True
            if conn.execute(select(obligation_t.c.id).where(
                    obligation_t.c.provisional_day.is_not(None),
                    obligation_t.c.provisional_day >= first,
                    obligation_t.c.provisional_day <= last).limit(1)).first():
                return True
        return False


class _Batch:
    """One batch of watches and obligations in one transaction."""

    def __init__(self, owner: Recompute, conn: Connection, now: dt.datetime,
                 result: RecomputeResult, calendar: StatutoryCalendar) -> None:
        self.owner = owner
        self.conn = conn
        self.now = now
        self.result = result
        self.calendar = calendar
        self.postgres = conn.dialect.name == "postgresql"
        self._expanders: dict[tuple[int, int], tuple[Expander, Deadlines]] = {}
        self._orgs: dict[str, str] = {}

    def run(self, ranges: list[tuple[dt.date, dt.date]]) -> None:
        for first, last in ranges:
            self._watches(first, last)
            self._obligations(first, last)

    def _locked(self, query: Any) -> Any:
        return query.with_for_update(skip_locked=True) if self.postgres else query

    # -- case clocks and phases --------------------------------------------------------------

    def _watches(self, first: dt.date, last: dt.date) -> None:
        rows = self.conn.execute(self._locked(
            select(timer_t).where(timer_t.c.status == WATCHING, timer_t.c.due_date >= first,
                                  timer_t.c.due_date <= last)
            .order_by(timer_t.c.due_date, timer_t.c.id).limit(self.owner.batch))).all()
        done: list[int] = []
        for row in rows:
            try:
                with self.conn.begin_nested():
                    if row.subject.startswith("phase:"):
                        self._phase(row)
                        done.append(row.id)
                    elif self._clock(row):
                        done.append(row.id)
            except Exception as exc:  # one bad watch must not hold back the others
                log.error("recompute failed", extra={"action": "calendar_recompute_failed",
                                                     "watch": row.key, "error": repr(exc)})
                self.conn.execute(update(timer_t).where(timer_t.c.id == row.id)
                                  .values(status=timers.FAILED, handled_at=self.now))
        finish(self.conn, done)

    def _clock(self, watch: Any) -> bool:
        """Recompute the clock a watch stands for; False if its case is busy (left waiting)."""
        found = self.conn.execute(self._locked(
            select(case_t).where(case_t.c.id == watch.subject))).first()
        if found is None:
            if self.postgres and self.conn.execute(select(case_t.c.id).where(
                    case_t.c.id == watch.subject)).first() is not None:
                return False  # an event holds the case: its watch waits for the next run
            self.result.stale += 1
            return True
        stored = stored_case(found)
        running = stored.clocks.get(watch.clock_id) or {}
        generation = watch.payload.get("gen")
        if not (running.get("due") and running.get("gen") == generation
                and running.get("provisional") and running.get("from")):
            self.result.stale += 1  # stopped or restarted since: its own watch, if any, waits
            return True
        published = self.owner.registry.get(self.conn, stored.campaign_version_id)
        if not published.deadlines.calendar.covers(watch.due_date.year):
            return False  # this process's calendar was read before the year: the next run
        campaign = published.loaded.campaign
        case_type = campaign.cases[stored.type]
        clock = next(c for c in case_type.clocks if c.id == watch.clock_id)
        old_due = dt.date.fromisoformat(running["due"])
        pending_rows = self.conn.execute(select(timer_t).where(
            timer_t.c.subject == stored.id, timer_t.c.clock_id == clock.id,
            timer_t.c.status == timers.PENDING,
            prefixed(timer_t.c.key, f"{stored.id}/{clock.id}/{old_due}/"))
            .order_by(timer_t.c.due_at)).all()
        pending = timers.from_row(pending_rows[0])[0] if pending_rows else None
        redated = redate(campaign, clock, stored.id, base=dt.date.fromisoformat(running["from"]),
                         due=old_due, pending=pending, now=self.now,
                         deadlines=published.deadlines)
        armed = redated.clock
        owner = timers.Owner(stored.campaign_id, stored.org_path, stored.unit_id, case_type)
        new_rows: list[dict[str, Any]] = []
        if redated.kept:
            state = {"due": old_due.isoformat(), "gen": generation}
            if armed.provisional is not None:
                state["provisional"] = armed.provisional.isoformat()
                state["from"] = running["from"]
            for row in pending_rows:  # their text no longer says 暂定 unless still so
                self._mark(row, provisional=armed.provisional is not None)
        elif not redated.moved:
            state = clock_state(armed, generation)
            for row in pending_rows:
                self._mark(row, provisional=armed.provisional is not None)
        else:
            generation += 1
            timers.CANCEL.rowcount(self.conn, timers.cancel_params(stored.id, clock.id,
                                                                   old_due.isoformat()))
            new_rows.extend(timers.rows_for(armed.timers[:1], generation, owner,
                                            provisional=armed.provisional is not None))
            state = clock_state(armed, generation)
            self.result.moved += 1
        if armed.provisional is not None:
            new_rows.append(timers.watch_row(armed, generation, owner))
        timers.insert_new(self.conn, new_rows)
        # the case is locked (PostgreSQL) or the database is (SQLite): a stale version cannot
        # happen here, and if it did the whole batch would roll back for the next run
        rewrite_clocks(self.conn, stored, {**stored.clocks, clock.id: state}, now=self.now,
                       actor=ACTOR, action=audit.CLOCK_REDATE,
                       data={"clock": clock.id, "due": old_due.isoformat(),
                             "now_due": armed.due_date.isoformat(), "kept": redated.kept,
                             "provisional": armed.provisional is not None})
        self.result.clocks += 1
        if armed.due_date != old_due:
            unit = self.conn.execute(select(unit_t.c.name).where(
                unit_t.c.id == stored.unit_id)).scalar() or stored.unit_id
            year = dt.date.fromisoformat(running["provisional"]).year
            words = "deadlines.calendar.case_overdue" if redated.kept else \
                "deadlines.calendar.case_redated"

            def text(unit: str = unit, clock: Any = clock, new: dt.date = armed.due_date,
                     words: str = words, year: int = year) -> str:
                return texts.t(words, name=texts.t("deadlines.calendar.case_name", unit=unit,
                                                   type=case_type.name),
                               clock=clock.name, old=old_due, new=new, year=year)
            self._tell(f"calendar:{stored.id}/{clock.id}/{old_due}->{armed.due_date}#"
                       f"{watch.payload.get('gen')}", text, stored.campaign_id, stored.id,
                       stored.org_path, armed.due_date,
                       {"case_type": stored.type, "unit": stored.unit_id, "clock": clock.id,
                        "from_due": old_due.isoformat(), "kept": redated.kept},
                       campaign=campaign, link=self.owner.links.case(stored.id),
                       calendar={"year": year, "from_due": old_due.isoformat(),
                                 "check": clock.name})
        return True

    def _mark(self, row: Any, *, provisional: bool) -> None:
        data = {k: v for k, v in row.payload.items() if k != "provisional"}
        if provisional:
            data["provisional"] = True
        if data != row.payload:
            self.conn.execute(update(timer_t).where(timer_t.c.id == row.id).values(payload=data))

    def _phase(self, watch: Any) -> None:
        data = watch.payload
        published = self.owner.registry.get(self.conn, int(data["version"]))
        campaign = published.loaded.campaign
        phase = campaign.phase(watch.clock_id)
        old_due = dt.date.fromisoformat(data["due"])
        notice = phase_deadline(phase, published.deadlines, campaign.timezone)
        old_key = timers.phase_key(campaign.id, phase.id, data["org"], old_due)
        self.result.phases += 1
        new_rows: list[dict[str, Any]] = []
        if notice.due == old_due:
            for row in self.conn.execute(select(timer_t).where(
                    timer_t.c.key == old_key, timer_t.c.status == timers.PENDING)).all():
                self._mark(row, provisional=notice.provisional is not None)
        else:
            self.conn.execute(update(timer_t).where(
                timer_t.c.key == old_key, timer_t.c.status == timers.PENDING)
                .values(status=timers.CANCELLED))
            if notice.at >= self.now:
                new_rows.append(timers.phase_timer_row(published, notice, data["org"],
                                                       watch.org_path))
            self._tell(f"calendar:{old_key}->{notice.due}",
                       lambda: texts.t("deadlines.calendar.phase_redated",
                                       campaign=campaign.title, phase=phase.name,
                                       year=watch.due_date.year, old=old_due, new=notice.due),
                       campaign.id, watch.subject, watch.org_path,
                       notice.due, {"phase": phase.id, "from_due": old_due.isoformat()},
                       campaign=campaign, link=self.owner.links.campaign(campaign.id),
                       calendar={"year": watch.due_date.year, "from_due": old_due.isoformat(),
                                 "check": phase.name})
        if notice.provisional is not None:
            new_rows.append(timers.phase_watch_row(published, notice, data["org"],
                                                   watch.org_path))
        _INSERT_TIMERS.many(self.conn, new_rows)

    # -- obligations -------------------------------------------------------------------------

    def _obligations(self, first: dt.date, last: dt.date) -> None:
        rows = self.conn.execute(self._locked(
            select(obligation_t).where(obligation_t.c.provisional_day.is_not(None),
                                       obligation_t.c.provisional_day >= first,
                                       obligation_t.c.provisional_day <= last)
            .order_by(obligation_t.c.provisional_day, obligation_t.c.id)
            .limit(self.owner.batch))).all()
        told: set[str] = set()
        for row in rows:
            try:
                with self.conn.begin_nested():
                    self._obligation(row, told)
            except Exception as exc:
                # left as computed, no longer waiting: it would hold back every later batch
                log.error("recompute failed", extra={"action": "calendar_recompute_failed",
                                                     "obligation": row.id, "error": repr(exc)})
                self.conn.execute(update(obligation_t).where(obligation_t.c.id == row.id)
                                  .values(provisional_day=None))

    def _expander(self, published: Published, year: int) -> tuple[Expander, Deadlines]:
        key = (published.row.id, year)
        if key not in self._expanders:
            campaign = published.loaded.campaign
            before = Deadlines.for_campaign(campaign, self.calendar.omitting([year]))
            self._expanders[key] = (Expander(campaign, published.deadlines), before)
        return self._expanders[key]

    def _obligation(self, row: Any, told: set[str]) -> None:
        published = self.owner.registry.get(self.conn, row.campaign_version_id)
        expander, before = self._expander(published, row.provisional_day.year)
        found = expander.redated(row.check_id, row.variant, row.period or None, row.due, before)
        self.result.obligations += 1
        due = found.due if found is not None else row.due
        day = found.provisional if found is not None else None
        self.conn.execute(update(obligation_t).where(obligation_t.c.id == row.id)
                          .values(due=due, provisional_day=day))
        self._rearm(published, row, due, day)
        if due != row.due:
            key = (f"calendar:obligations:{row.campaign_id}/{row.check_id}/{row.period}/"
                   f"{row.due}->{due}@{_digest(row.org_path)}")
            if key not in told:
                told.add(key)
                org = self._org_name(row.org_path)
                self._tell(key, lambda: texts.t(
                    "deadlines.calendar.check_redated", org=org, check=row.name,
                    period=texts.t("deadlines.matter.period", period=row.period)
                    if row.period else "", year=row.provisional_day.year, old=row.due,
                    new=due), row.campaign_id,
                           f"obligation:{row.id}", row.org_path, due,
                           {"check": row.check_id, "period": row.period or None,
                            "from_due": row.due.isoformat()},
                           campaign=published.loaded.campaign,
                           link=self.owner.links.obligation(row.id),
                           calendar={"year": row.provisional_day.year,
                                     "from_due": row.due.isoformat(), "check": row.name,
                                     "period": row.period or ""})

    def _org_name(self, path: str) -> str:
        org_id = path.rstrip("/").rsplit("/", 1)[-1]
        if org_id not in self._orgs:
            self._orgs[org_id] = self.conn.execute(select(org_t.c.name).where(
                org_t.c.id == org_id)).scalar() or org_id
        return self._orgs[org_id]

    def _rearm(self, published: Published, row: Any, due: dt.date, day: dt.date | None) -> None:
        """An obligation's pending reminders at their new times; ones now past are dropped,
        ones already sent stay sent."""
        moved = _Row(row, due, day)
        wanted = {r["key"]: r for r in timers.obligation_timer_rows(published, [moved],
                                                                    now=self.now)}
        prefix = f"obligation:{row.id}/"
        for pending in self.conn.execute(select(timer_t).where(
                prefixed(timer_t.c.key, prefix), timer_t.c.status == timers.PENDING)).all():
            new = wanted.pop(pending.key, None)
            values = ({"status": timers.CANCELLED} if new is None else
                      {"due_at": new["due_at"], "due_date": new["due_date"],
                       "payload": new["payload"]})
            self.conn.execute(update(timer_t).where(timer_t.c.id == pending.id).values(**values))
        _INSERT_TIMERS.many(self.conn, list(wanted.values()))  # a key sent before stays sent

    def _tell(self, key: str, text: Callable[[], str], campaign_id: str, subject: str,
              org_path: str, due: dt.date, extra: dict[str, Any], *, campaign: Campaign,
              link: str, calendar: dict[str, Any]) -> None:
        """Queue a calendar notice; `text` words it in the current language (once for each
        language its destinations speak)."""
        org_id = org_of(org_path)
        org = {"id": org_id, "name": self._org_name(org_path) if org_id else ""}

        def build() -> Outgoing:
            said = text()
            context = calendar_context(
                "calendar_redated", said, campaign=campaign, roles=(OFFICE,), org=org,
                due=due, today=local_date(self.now, campaign.timezone), calendar=calendar,
                link=link)
            return Outgoing(key=key, kind="calendar_redated",
                            title=title("calendar_redated", org["name"] or campaign.title),
                            text=said, campaign=campaign_id, subject=subject,
                            roles=(OFFICE,), due_date=due, late=False, at=self.now,
                            org_path=org_path, extra=extra, context=context,
                            template=campaign.messages.get("calendar_redated"))
        self.result.told += send(self.conn, build, self.now)


class _Row:
    """An obligation row with its new due date, as timers.obligation_timer_rows reads one."""

    def __init__(self, row: Any, due: dt.date, day: dt.date | None) -> None:
        self._row = row
        self.due = due
        self.provisional_day = day

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)

