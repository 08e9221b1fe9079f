"""The sweep: claim due timers in batches, ask the core what each means now, and write the
result — outbox rows, an escalation's transition, the clock's next timer or repeat — in the
claim's transaction.

A running case clock keeps one pending timer (storage.timers): handling it arms the one after it
in the clock's schedule, so after downtime a clock's missed timers come one batch after another,
each marked late, and the sweep goes on while it armed timers that are already due.

A batch is claimed and handled in one transaction, so a sweeper killed mid-batch leaves every
timer of it pending for the next sweep, and the outbox rows it wrote vanish with it: nothing is
lost and nothing is queued twice. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several sweepers
share the due timers; on SQLite `BEGIN IMMEDIATE` makes one sweeper run at a time. The query
walks the partial index of pending due times, so its cost follows what is due, not what waits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Connection, literal_column, select, text, update

from deadlines import messages
from deadlines.context import Directory, Links
from deadlines.outbox import delivery_row, enqueue
from deadlines.recipients import Subscriptions
from deadlines.recompute import Recompute
from engine import targets as core_targets
from engine import texts
from engine.access import Principal
from engine.clocks import Timer, decide, following, schedule
from engine.dates import local_date
from engine.errors import NotFound, Refused
from engine.lifecycle import SYSTEM
from storage import metrics, targets, timers
from storage.campaigns import CampaignRegistry
from storage.cases import CaseStore, StoredCase, case_t, stored_case
from storage.db import Database
from storage.tables import Obligation
from storage.tables import Timer as TimerRow

log = logging.getLogger("paicha.sweep")

timer_t = TimerRow.__table__  # type: ignore[attr-defined]
obligation_t = Obligation.__table__  # type: ignore[attr-defined]

# A timer whose handling fails this often is marked failed (and logged) instead of retried.
FAILED_AFTER = 5

# The sweep acts for the system: it reaches every case, holds no role, signs nothing.
SWEEPER = Principal(0, "system", frozenset(), "admin")


@dataclass
class SweepResult:
    claimed: int = 0
    notified: int = 0
    queued: int = 0
    fired: int = 0
    stale: int = 0
    late: int = 0
    batches: int = 0
    failed: int = 0
    armed: int = 0  # case clocks' next timers
    armed_due: int = 0  # … of them due already (after downtime): the sweep goes on
    redated: int = 0  # provisional dates recomputed on a year now covered (deadlines.recompute)
    calendar_notices: int = 0  # … and the notices of them
    refusals: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def database_now(conn: Connection) -> dt.datetime:
    """The database server's clock, so that sweepers on several machines agree on what is due."""
    if conn.dialect.name == "postgresql":
        value = conn.execute(text("SELECT now()")).scalar_one()
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC)
    raw = conn.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return dt.datetime.fromisoformat(str(raw)).replace(tzinfo=dt.UTC)


class Sweeper:
    """Handles due timers; `clock` overrides the database's clock (tests, simulation)."""

    def __init__(self, db: Database, registry: CampaignRegistry, *, batch: int = 500,
                 clock: Callable[[], dt.datetime] | None = None,
                 links: Links | None = None) -> None:
        self.db = db
        # where messages link to (PAICHA_PUBLIC_URL), read once, when the sweeper is made
        self.links = Links.from_env() if links is None else links
        self.registry = registry
        self.cases = CaseStore(registry)
        self.batch = batch
        self.clock = clock
        self.recompute = Recompute(db, registry, clock=self._now, links=self.links)

    def _now(self, conn: Connection) -> dt.datetime:
        return self.clock() if self.clock else database_now(conn)

    def sweep(self, *, max_batches: int = 1000) -> SweepResult:
        """Handle every timer due now, batch by batch (bounded, so one call always ends)."""
        result = SweepResult()
        for _ in range(max_batches):
            due_before = result.armed_due
            with self.db.write() as conn:
                now = self.clock() if self.clock else database_now(conn)
                claimed = self._claim(conn, now)
                if claimed:
                    self._run(conn, claimed, now, result)
            result.claimed += len(claimed)
            metrics.timers_claimed(len(claimed))
            result.batches += 1
            if len(claimed) < self.batch and result.armed_due == due_before:
                break
        # Provisional dates whose year is known now (a few index reads when there are none),
        # a bounded share per sweep so reminders are not held up.
        recomputed = self.recompute.run(max_batches=10)
        result.redated += recomputed.total
        result.calendar_notices += recomputed.told
        if result.claimed:
            log.info("sweep", extra={"action": "sweep", **result.as_dict()})
        return result

    def _run(self, conn: Connection, claimed: list[Any], now: dt.datetime,
             result: SweepResult) -> None:
        """Handle a batch in one go; if anything in it fails, handle its timers one by one so
        that one bad timer is set aside and does not hold back the rest."""
        try:
            with conn.begin_nested():
                _Batch(self, conn, now, result).run(claimed)
            return
        except Exception:
            log.warning("batch failed; handling its timers one by one",
                        extra={"action": "sweep_batch_failed", "timers": len(claimed)})
        for row in claimed:
            try:
                with conn.begin_nested():
                    _Batch(self, conn, now, result).run([row])
            except Exception as exc:
                self._set_aside(conn, row, now, exc, result)

    def _set_aside(self, conn: Connection, row: Any, now: dt.datetime, exc: Exception,
                   result: SweepResult) -> None:
        """A timer that failed: tried again later with backoff, then marked failed."""
        attempts = row.attempts + 1
        result.failed += 1
        log.error("timer failed", extra={"action": "timer_failed", "timer": row.key,
                                         "attempts": attempts, "error": repr(exc)})
        if attempts >= FAILED_AFTER:
            values: dict[str, Any] = {"status": timers.FAILED, "handled_at": now}
        else:
            values = {"due_at": now + dt.timedelta(minutes=2 ** attempts)}
        conn.execute(update(timer_t).where(timer_t.c.id == row.id)
                     .values(attempts=attempts, **values))

    def _claim(self, conn: Connection, now: dt.datetime) -> list[Any]:
        # 'pending' as a literal, so that a prepared (generic) plan still matches the partial
        # index's predicate
        query = (select(timer_t).where(timer_t.c.status == literal_column("'pending'"),
                                       timer_t.c.due_at <= now)
                 .order_by(timer_t.c.due_at, timer_t.c.id).limit(self.batch))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(conn.execute(query).all())


class _Batch:
    """One claimed batch: reads what its timers need in a few queries, and writes the outbox
    rows and timer states in one statement each."""

    def __init__(self, sweeper: Sweeper, conn: Connection, now: dt.datetime,
                 result: SweepResult) -> None:
        self.sweeper = sweeper
        self.conn = conn
        self.now = now
        self.result = result
        self.subscriptions = Subscriptions(conn)
        self.outbox: list[dict[str, Any]] = []
        self.cases: dict[str, StoredCase] = {}
        self.busy: set[str] = set()
        self.finished: dict[str, list[int]] = {timers.DONE: [], timers.CANCELLED: []}
        self.schedules: dict[tuple[int, str, dt.date], tuple[Timer, ...]] = {}
        self.next_timers: list[dict[str, Any]] = []
        self.directory = Directory()
        self.newest: dict[str, Any] = {}  # campaign id -> its newest version, once per batch

    def run(self, rows: list[Any]) -> None:
        self.cases = self._cases([r for r in rows if _is_case(r)])
        obligations = self._obligations([r for r in rows if r.subject.startswith("obligation:")])
        # the names every message of the batch needs, in three queries
        self.directory = Directory.load(
            self.conn, unit_ids=[c.unit_id for c in self.cases.values()] + [
                o.subject_id for o in obligations.values() if o.subject_kind == "unit"],
            org_paths=[r.org_path for r in rows], now=self.now)
        for row in rows:
            if row.subject.startswith("obligation:"):
                handled = self._obligation(row, obligations.get(row.subject))
            elif row.subject.startswith("phase:"):
                self._queue(partial(messages.for_phase, row, self.now,
                                    self._newest(row.campaign_id), directory=self.directory,
                                    links=self.sweeper.links), row)
                handled = True
            elif row.subject.startswith(timers.TARGET_PREFIX):
                handled = self._target(row)
            elif row.subject in self.busy:
                continue  # its case is being written right now: left pending for the next sweep
            else:
                handled = self._case(row, self.cases.get(row.subject))
            if not handled:
                self.result.stale += 1
            self.finished[timers.DONE if handled else timers.CANCELLED].append(row.id)
        self.result.queued += enqueue(self.conn, self.outbox)
        self._arm(self.next_timers)
        for status, ids in self.finished.items():
            if ids:
                self.conn.execute(update(timer_t).where(timer_t.c.id.in_(ids)).values(
                    status=status, handled_at=self.now, attempts=timer_t.c.attempts + 1))

    def _cases(self, rows: list[Any]) -> dict[str, StoredCase]:
        ids = sorted({r.subject for r in rows})
        if not ids:
            return {}
        query = select(case_t).where(case_t.c.id.in_(ids))
        if self.conn.dialect.name == "postgresql":
            # Lock the batch's cases now, skipping those an event holds: an event locks its case
            # and then cancels its timers, so waiting for the case while holding the timers
            # would deadlock. A skipped case's timers wait for the next sweep.
            query = query.with_for_update(skip_locked=True)
        found = {r.id: stored_case(r) for r in self.conn.execute(query).all()}
        if self.conn.dialect.name == "postgresql":
            self.busy = set(ids) - set(found)
        return found

    def _obligations(self, rows: list[Any]) -> dict[str, Any]:
        ids = sorted({int(r.subject.split(":", 1)[1]) for r in rows})
        if not ids:
            return {}
        found = self.conn.execute(select(obligation_t).where(obligation_t.c.id.in_(ids))).all()
        return {f"obligation:{r.id}": r for r in found}

    def _queue(self, build: Callable[[], messages.Outgoing], row: Any) -> None:
        """Queue a message for its destinations, built in each language they speak (most
        often one: where it goes does not depend on its words)."""
        worded = messages.in_languages(build)
        message = worded(texts.default())
        self.result.notified += 1
        self.result.late += message.late
        for destination in self.subscriptions.destinations(
                org_path=message.org_path, campaign_id=message.campaign, kind=message.kind,
                roles=message.roles):
            self.outbox.append(delivery_row(worded(destination.lang), destination,
                                            timer_id=row.id, now=self.now))

    def _case(self, row: Any, stored: StoredCase | None) -> bool:
        timer, generation = timers.from_row(row)
        if stored is None:
            return False
        running = stored.clocks.get(timer.clock_id)
        if running is None or not running.get("due") or running.get("gen") != generation:
            return False  # the clock stopped or restarted since this timer was armed
        published = self.sweeper.registry.get(self.conn, stored.campaign_version_id)
        campaign = published.loaded.campaign
        case_type = campaign.cases[stored.type]
        deadlines = published.deadlines
        provisional = bool(running.get("provisional"))
        decision = decide(campaign, case_type, timer, stored.state, self.now, deadlines,
                          provisional=provisional)
        if decision.stale:
            return False
        spoken = texts.current()
        for index, note in enumerate(decision.notifications):
            def build(note: Any = note, index: int = index) -> messages.Outgoing:
                if texts.current() != spoken:  # the notice's sentence in this language
                    note = decide(campaign, case_type, timer, stored.state, self.now, deadlines,
                                  provisional=provisional).notifications[index]
                return messages.for_case(note, stored, published, row.due_at, generation,
                                         now=self.now, directory=self.directory,
                                         links=self.sweeper.links)
            self._queue(build, row)
        clock = next(c for c in case_type.clocks if c.id == timer.clock_id)  # decide found it
        place = (stored.campaign_version_id, clock.id, timer.due_date)
        if place not in self.schedules:  # a batch holds many timers of a few deadlines
            self.schedules[place] = schedule(campaign, clock, "", timer.due_date, deadlines)
        after = [t for t in (decision.next_timer, following(self.schedules[place], timer)) if t]
        rows = timers.rows_for(after, generation, timers.Owner(
            stored.campaign_id, stored.org_path, stored.unit_id, case_type),
            provisional=provisional)
        if decision.fire:
            # stored before the escalation's transition, which cancels them if the clock stops
            self._arm(rows)
            self._escalate(stored.id, decision.fire)
        else:
            self.next_timers.extend(rows)
        return True

    def _arm(self, rows: list[dict[str, Any]]) -> None:
        """Store clocks' next timers, once: one armed already (stored by an older release that
        armed a clock's whole schedule at once, or by a sweep that was cut short) stays."""
        if rows:
            timers.insert_new(self.conn, rows)
            self.result.armed += len(rows)
            self.result.armed_due += sum(r["due_at"] <= self.now for r in rows)

    def _escalate(self, case_id: str, trigger: str) -> None:
        try:
            with self.conn.begin_nested():
                after, _ = self.sweeper.cases.fire(self.conn, SWEEPER, case_id, trigger=trigger,
                                                   data={}, expected_version=None,
                                                   now=self.now, actor=SYSTEM)
            self.cases[case_id] = after  # later timers of this batch judge the case as it is
            self.result.fired += 1
        except Refused as exc:
            # e.g. 挂牌督办 that someone already did by hand: the notice still went out
            self.result.refusals.append(f"{case_id}: {trigger}: {exc}")
            log.info("escalation refused", extra={"action": "escalation_refused",
                                                  "case": case_id, "trigger": trigger,
                                                  "reason": str(exc)})

    def _target(self, row: Any) -> bool:
        """Measure the target for the deployment's subtree now; tell the safety office when it
        is not met. A met one, or one the campaign no longer has, needs nobody."""
        published = self._newest(row.campaign_id)
        if published is None:
            return False
        campaign = published.loaded.campaign
        target = next((t for t in campaign.targets if t.id == row.clock_id), None)
        if target is None:
            return False
        today = local_date(self.now, campaign.timezone)
        found = targets.measured(self.conn, campaign, [target], row.org_path, today)[0]
        if core_targets.holds_status(found["status"]):
            return True
        self._queue(lambda: messages.for_target(row, found, today, self.now, published,
                                                directory=self.directory,
                                                links=self.sweeper.links), row)
        return True

    def _newest(self, campaign_id: str) -> Any:
        """The newest version of a campaign, read once per batch (None when it is gone)."""
        if campaign_id not in self.newest:
            try:
                self.newest[campaign_id] = self.sweeper.registry.newest(self.conn, campaign_id)
            except NotFound:
                self.newest[campaign_id] = None
        return self.newest[campaign_id]

    def _obligation(self, row: Any, found: Any) -> bool:
        if found is None or found.done >= found.times:
            return False  # done already: nobody needs reminding
        published = self.sweeper.registry.get(self.conn, found.campaign_version_id)
        self._queue(lambda: messages.for_obligation(found, row, self.now, published,
                                                    directory=self.directory,
                                                    links=self.sweeper.links), row)
        return True


def _is_case(row: Any) -> bool:
    return not row.subject.startswith(("obligation:", "phase:", timers.TARGET_PREFIX))
