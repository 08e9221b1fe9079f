"""Timers: the clock effects of an event, armed and cancelled in the event's own transaction.

A timer row carries what the core's `Timer` holds, so the sweep rebuilds it and asks
`engine.clocks.decide` what it means now. Keys carry the clock's arm generation: a clock that
stops and starts again with the same deadline arms new timers, not the old ones again.

A running case clock keeps one pending timer, its next: the event that starts it stores the
first of its schedule (`engine.clocks.arm`), and the sweep that handles one stores the one after
it (`engine.clocks.following`). Five rows per armed clock, each in four indexes at its own place
in time, were most of what a lifecycle event wrote; and a stopped clock has one row to cancel.

A clock armed provisionally (a day it needed is in a year nobody covers yet) also stores a
watch: a row of status 'watch', never claimed by the sweep, dated by that day, by which
deadlines.recompute finds the clock when the year is added. Its timers carry `provisional` in
their payload, for the lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, literal_column, update
from sqlalchemy.sql.elements import ColumnClause

from engine.clocks import ArmClock, StopClock, Timer
from engine.dates import REMINDER_TIME, local_instant
from engine.lifecycle import Outcome
from engine.model import CaseType, roles_of
from engine.reminders import PhaseDeadline, check_reminders, phase_deadline
from storage.campaigns import Published
from storage.prepared import InsertNew, Prepared
from storage.tables import Timer as TimerRow

timer_t = TimerRow.__table__  # type: ignore[attr-defined]

PENDING, DONE, CANCELLED, FAILED = "pending", "done", "cancelled", "failed"
WATCH = "watch"  # waits for a year's statutory schedule; the sweep never claims it
# 'watch' as a literal in queries, so that a prepared (generic) plan still matches the partial
# index's predicate (ix_timer_watch)
WATCHING: ColumnClause[Any] = literal_column("'watch'")


def timer_key(timer: Timer, generation: int) -> str:
    return f"{timer.key}#{generation}"


def payload(timer: Timer, generation: int, provisional: bool = False) -> dict[str, Any]:
    """What a case timer's columns do not already hold (arming is a hot path: keep it small)."""
    found: dict[str, Any] = {"label": timer.label, "step": timer.step, "gen": generation}
    if provisional:
        found["provisional"] = True
    return found


def from_row(row: Any) -> tuple[Timer, int]:
    """The core timer a case timer row holds, and its arm generation."""
    data: Mapping[str, Any] = row.payload
    return Timer(case_id=row.subject, clock_id=row.clock_id, kind=row.kind, at=row.due_at,
                 due_date=row.due_date, label=data["label"],
                 step=int(data.get("step", 0))), int(data.get("gen", 1))


@dataclass(frozen=True)
class Owner:
    """Where a case's timers belong: for filtering upcoming deadlines by org, unit and role."""

    campaign_id: str
    org_path: str
    unit_id: str | None
    case_type: CaseType


def rows_for(timers: Iterable[Timer], generation: int, owner: Owner, *,
             provisional: bool = False) -> list[dict[str, Any]]:
    clocks = {c.id: c for c in owner.case_type.clocks}
    rows: list[dict[str, Any]] = []
    for t in timers:
        clock = clocks.get(t.clock_id)
        roles = list(clock.who) if clock else []
        rows.append({"key": timer_key(t, generation), "subject": t.case_id,
                     "clock_id": t.clock_id, "kind": t.kind, "campaign_id": owner.campaign_id,
                     "org_path": owner.org_path, "unit_id": owner.unit_id, "roles": roles,
                     "due_date": t.due_date, "due_at": t.at, "status": PENDING, "attempts": 0,
                     "payload": payload(t, generation, provisional)})
    return rows


def watch_row(armed: ArmClock, generation: int, owner: Owner) -> dict[str, Any]:
    """The watch of a provisional clock: found by the day it needs (`due_date`), and by its
    key's prefix like the clock's timers."""
    day = armed.provisional
    assert day is not None
    return {"key": f"{armed.case_id}/{armed.clock_id}/{armed.due_date}/calendar/{day}"
                   f"#{generation}",
            "subject": armed.case_id, "clock_id": armed.clock_id, "kind": "calendar",
            "campaign_id": owner.campaign_id, "org_path": owner.org_path,
            "unit_id": owner.unit_id, "roles": [], "due_date": day,
            "due_at": dt.datetime.combine(day, dt.time(), dt.UTC), "status": WATCH,
            "attempts": 0, "payload": {"gen": generation, "due": armed.due_date.isoformat()}}


# Built once and run on SQLite's driver (storage.prepared): an event that arms a clock, and every
# expansion, is on a hot path.
COLUMNS = ("key", "subject", "clock_id", "kind", "campaign_id", "org_path", "unit_id", "roles",
           "due_date", "due_at", "status", "attempts", "payload")
INSERT = Prepared(insert(timer_t), columns=COLUMNS)
# the sweep stores clocks' next timers this way, a batch at a time, and expansions theirs
_INSERT_NEW = InsertNew(timer_t, key="key", columns=COLUMNS)


def arm(conn: Connection, timers: Iterable[Timer], generation: int, owner: Owner) -> int:
    rows = rows_for(timers, generation, owner)
    INSERT.many(conn, rows)
    return len(rows)


# A clock's timers are found by their keys, `<case>/<clock>/<due>/…` (timer_key): the unique
# key index is already ordered by case and clock, so stopping a clock needs no index of its own
# (one more index to write for every timer armed), and knowing the deadline it ran to, the walk
# sees only the timers armed for that deadline, not every one the clock ever had.
CANCEL = Prepared(update(timer_t)
                   .where(timer_t.c.key >= bindparam("b_from"),
                          timer_t.c.key < bindparam("b_to"),
                          timer_t.c.subject == bindparam("b_subject"),
                          timer_t.c.clock_id == bindparam("b_clock"),
                          timer_t.c.status == PENDING)
                   .values(status=CANCELLED))


def cancel_obligation_timers(conn: Connection, obligation_ids: Iterable[int]) -> None:
    """Cancel the pending reminders of obligations withdrawn (keys `obligation:<id>/…`: the
    unique key index finds each one's range)."""
    for obligation_id in obligation_ids:
        conn.execute(update(timer_t)
                     .where(timer_t.c.key >= f"obligation:{obligation_id}/",
                            timer_t.c.key < f"obligation:{obligation_id}0",  # '0' follows '/'
                            timer_t.c.status == PENDING)
                     .values(status=CANCELLED))


def cancel_params(case_id: str, clock_id: str, due: str | None) -> dict[str, str]:
    """CANCEL's parameters for a clock's pending timers: those of deadline `due` (ISO) when it
    is known, else every one of the clock's. The subject and clock are matched as well, so a
    key that merely starts alike is never touched."""
    prefix = f"{case_id}/{clock_id}/" + (f"{due}/" if due else "")
    return {"b_from": prefix, "b_to": prefix[:-1] + "0",  # "0" is the character after "/"
            "b_subject": case_id, "b_clock": clock_id}


def clock_writes(outcome: Outcome, generations: Mapping[str, int], owner: Owner,
                 clocks: Mapping[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """What an event's clock effects write: CANCEL parameters of the stopped clocks and the
    first timer of each started one, given the case's clocks before the event ({id: {"due": ISO or
    None, "gen": n}}). Running every cancel before every insert keeps the effects' meaning: a
    clock that restarts stops first (engine.clocks.clock_effects); one started again while it
    runs has its old timers cancelled too."""
    running = {clock_id: state.get("due") for clock_id, state in clocks.items()}
    stops: list[dict[str, str]] = []
    rows: list[dict[str, Any]] = []
    for effect in outcome.effects:
        if isinstance(effect, StopClock):
            stops.append(cancel_params(effect.case_id, effect.clock_id,
                                       running.get(effect.clock_id)))
            running[effect.clock_id] = None
        elif isinstance(effect, ArmClock):
            if running.get(effect.clock_id):
                stops.append(cancel_params(effect.case_id, effect.clock_id,
                                           running[effect.clock_id]))
            # its first timer only: the sweep arms each next one as it handles the one before
            generation = generations.get(effect.clock_id, 1)
            rows.extend(rows_for(effect.timers[:1], generation, owner,
                                 provisional=effect.provisional is not None))
            if effect.provisional is not None:
                rows.append(watch_row(effect, generation, owner))
            running[effect.clock_id] = effect.due_date.isoformat()
    return stops, rows


def write_clock_writes(conn: Connection, stops: Iterable[Mapping[str, str]],
                       rows: Iterable[Mapping[str, Any]]) -> None:
    """Write what `clock_writes` decided, cancels first."""
    for stop in stops:
        CANCEL.rowcount(conn, stop)
    INSERT.many(conn, rows)


def apply_clock_effects(conn: Connection, outcome: Outcome, generations: Mapping[str, int],
                        owner: Owner, clocks: Mapping[str, Any]) -> None:
    """Store what an event's clock effects say: cancel stopped clocks, arm started ones."""
    write_clock_writes(conn, *clock_writes(outcome, generations, owner, clocks))


def obligation_timer_rows(published: Published, obligations: Iterable[Any], *,
                          now: dt.datetime | None) -> list[dict[str, Any]]:
    """Timers of newly stored obligations (rows with id, check_id, due, role …): the check's
    reminders, those already past at `now` left out (nobody is reminded of 2023 in 2026)."""
    campaign = published.loaded.campaign
    checks = {c.id: c for c in campaign.checks}
    deadlines = published.deadlines
    rows: list[dict[str, Any]] = []
    for o in obligations:
        data: dict[str, Any] = {}
        if getattr(o, "provisional_day", None) is not None:
            data["provisional"] = True
        for reminder in check_reminders(checks[o.check_id], o.due, deadlines, campaign.timezone):
            if now is not None and reminder.at < now:
                continue
            rows.append({
                "key": f"obligation:{o.id}/{reminder.kind}/{reminder.label}",
                "subject": f"obligation:{o.id}", "clock_id": o.check_id, "kind": reminder.kind,
                "campaign_id": campaign.id, "org_path": o.org_path,
                "unit_id": o.subject_id if o.subject_kind == "unit" else None,
                "roles": list(roles_of(o.role)), "due_date": o.due, "due_at": reminder.at,
                "status": PENDING, "attempts": 0, "payload": {"label": reminder.label, **data}})
    return rows


def phase_timer_rows(published: Published, org_id: str, org_path: str, *,
                     now: dt.datetime | None) -> list[dict[str, Any]]:
    """One timer per phase deadline of a campaign deployed to an org (future ones only); a
    provisional one (rolled over a year nobody covers yet) with its watch."""
    campaign = published.loaded.campaign
    rows: list[dict[str, Any]] = []
    for phase in campaign.phases:
        notice = phase_deadline(phase, published.deadlines, campaign.timezone)
        if now is not None and notice.at < now:
            continue
        rows.append(phase_timer_row(published, notice, org_id, org_path))
        if notice.provisional is not None:
            rows.append(phase_watch_row(published, notice, org_id, org_path))
    return rows


def target_timer_rows(published: Published, org_id: str, org_path: str, *,
                      now: dt.datetime | None) -> list[dict[str, Any]]:
    """One timer per target of a campaign deployed to an org, `warn` days before its date (at
    the reminders' hour): the sweep measures the target then and tells the safety office if it
    is not met (deadlines.sweep). Past ones are not armed."""
    campaign = published.loaded.campaign
    roles = ["safety_office"] if "safety_office" in campaign.roles else []
    rows: list[dict[str, Any]] = []
    for target in campaign.targets:
        day = target.by - dt.timedelta(days=target.warn_days)
        at = local_instant(day, REMINDER_TIME, campaign.timezone)
        if now is not None and at < now:
            continue
        rows.append({
            "key": f"{TARGET_PREFIX}{campaign.id}/{target.id}/{org_id}/{target.by}",
            "subject": f"{TARGET_PREFIX}{campaign.id}/{target.id}", "clock_id": target.id,
            "kind": "target_at_risk", "campaign_id": campaign.id, "org_path": org_path,
            "unit_id": None, "roles": roles, "due_date": target.by, "due_at": at,
            "status": PENDING, "attempts": 0,
            "payload": {"name": target.name, "target": target.id, "org": org_id}})
    return rows


TARGET_PREFIX = "target:"


def phase_key(campaign_id: str, phase_id: str, org_id: str, due: dt.date) -> str:
    return f"phase:{campaign_id}/{phase_id}/{org_id}/{due}"


def phase_moment(campaign_id: str, phase_id: str, due: dt.date) -> str:
    """A phase deadline's notice, whichever deployment's timer announces it: a campaign
    deployed at a district and at one of its streets arms a timer for each, and a recipient
    that both reach (the district's group, the log) is told once (its deliveries' keys are
    this and the recipient, deadlines.outbox)."""
    return f"phase:{campaign_id}/{phase_id}/{due}"


def phase_timer_row(published: Published, notice: PhaseDeadline, org_id: str,
                    org_path: str) -> dict[str, Any]:
    campaign, phase = published.loaded.campaign, notice.phase
    data: dict[str, Any] = {"name": phase.name, "phase": phase.id, "due": notice.due.isoformat(),
                            "nominal": phase.due.isoformat()}
    if notice.provisional is not None:
        data["provisional"] = True
    return {"key": phase_key(campaign.id, phase.id, org_id, notice.due),
            "subject": f"phase:{campaign.id}/{phase.id}", "clock_id": phase.id,
            "kind": "phase_due", "campaign_id": campaign.id, "org_path": org_path,
            "unit_id": None, "roles": [], "due_date": notice.due, "due_at": notice.at,
            "status": PENDING, "attempts": 0, "payload": data}


def phase_watch_row(published: Published, notice: PhaseDeadline, org_id: str,
                    org_path: str) -> dict[str, Any]:
    """The watch of a provisional phase deadline of one deployment."""
    campaign, phase, day = published.loaded.campaign, notice.phase, notice.provisional
    assert day is not None
    return {"key": f"{phase_key(campaign.id, phase.id, org_id, notice.due)}/calendar/{day}",
            "subject": f"phase:{campaign.id}/{phase.id}", "clock_id": phase.id,
            "kind": "calendar", "campaign_id": campaign.id, "org_path": org_path,
            "unit_id": None, "roles": [], "due_date": day,
            "due_at": dt.datetime.combine(day, dt.time(), dt.UTC), "status": WATCH,
            "attempts": 0, "payload": {"org": org_id, "version": published.row.id,
                                       "due": notice.due.isoformat()}}


def insert_new(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert timers, leaving alone any whose key exists (re-expansion, a retried request)."""
    _INSERT_NEW.many(conn, rows)
    return len(rows)
