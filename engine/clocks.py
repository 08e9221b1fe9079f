"""Case clocks: when a clock starts, stops or restarts, the timers it arms, and what a due timer
decides (remind, declare overdue, escalate). No I/O: adapters store and sweep the timers.

A clock whose dates needed a year no statutory schedule covers is armed all the same, by the
weekend rule, and says so: `ArmClock.provisional` is the first such day. `redate` recomputes it
once the year is known.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine import texts
from engine.conditions import UnitTest, holds
from engine.dates import REMINDER_TIME, Deadlines, end_of_day, local_date, local_instant
from engine.model import Campaign, CaseType, Clock, ClockEvent, Duration
from engine.notices import counts_working_days, due_text, overdue_text

TimerKind = Literal["remind", "overdue", "overdue_repeat", "escalate"]

# A timer handled more than this after its time is marked late (after downtime).
LATE_AFTER = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Timer:
    """One moment at which a clock needs attention; `key` is stable, for idempotent delivery."""

    case_id: str
    clock_id: str
    kind: TimerKind
    at: dt.datetime
    due_date: dt.date
    label: str
    step: int = 0

    @property
    def key(self) -> str:
        return f"{self.case_id}/{self.clock_id}/{self.due_date}/{self.kind}/{self.label}"


@dataclass(frozen=True)
class ArmClock:
    """Start a clock: store these timers."""

    case_id: str
    clock_id: str
    due_date: dt.date
    due_at: dt.datetime
    timers: tuple[Timer, ...]
    # The first day of a year no statutory schedule covers that the deadline or the timers
    # were counted over (by the weekend rule): the clock is provisional until it is known.
    provisional: dt.date | None = None
    base: dt.date | None = None  # the day the deadline counts from (a date field, the start)


@dataclass(frozen=True)
class StopClock:
    """Stop a clock: cancel its pending timers. Why, for people (engine.simulation says it in
    their language): its deadline `moved` (it restarts), the case `left` the state `via` it
    ran in, its condition `lapsed`, or the `event` `via` (a trigger) stopped it."""

    case_id: str
    clock_id: str
    reason: Literal["moved", "left", "lapsed", "event"]
    via: str = ""


@dataclass(frozen=True)
class ClockUnarmed:
    """A clock should start but its due date cannot be known: its date `field` is empty."""

    case_id: str
    clock_id: str
    field: str


ClockEffect = ArmClock | StopClock | ClockUnarmed


@dataclass(frozen=True)
class Notify:
    """A message for the holders of some roles about a case's clock."""

    case_id: str
    clock_id: str
    kind: TimerKind
    roles: tuple[str, ...]
    message: str
    due_date: dt.date
    key: str
    late: bool = False
    provisional: bool = False  # the deadline rests on a year nobody covers yet


@dataclass(frozen=True)
class TimerDecision:
    """What a due timer leads to: messages, an automatic event, the next timer to store."""

    notifications: tuple[Notify, ...] = ()
    fire: str | None = None
    next_timer: Timer | None = None
    stale: bool = False


def _matches(event: ClockEvent | None, before: str | None, after: str, trigger: str) -> bool:
    if event is None:
        return False
    entered = after in event.enter and after != before
    return entered or trigger in event.triggers


def running_in(clock: Clock, state: str) -> bool | None:
    """Whether a state-bound clock runs in `state`; None for event-bound clocks (history)."""
    return state in clock.runs_in if clock.runs_in else None


def base_day(clock: Clock, facts: Mapping[str, Any], started: dt.date) -> dt.date | None:
    """The day a clock's deadline counts from: its date field as entered (None while empty),
    or the day it started."""
    if clock.due.field is None:
        return started if clock.due.after is not None else None
    raw = facts.get(clock.due.field)
    return dt.date.fromisoformat(str(raw)[:10]) if raw else None


def due_from(clock: Clock, base: dt.date, deadlines: Deadlines) -> dt.date:
    """The deadline counted from `base`: the day itself or `after` it, rolled if due."""
    if clock.due.after is None:
        return deadlines.finish(base, clock.due.roll)
    return deadlines.after(base, clock.due.after, clock.due.roll)


def due_date(
    clock: Clock, facts: Mapping[str, Any], started: dt.date, deadlines: Deadlines
) -> dt.date | None:
    """The clock's deadline: a date field, `after` its start (or the field), rolled if due."""
    base = base_day(clock, facts, started)
    return None if base is None else due_from(clock, base, deadlines)


def reminder_day(due: dt.date, offset: Duration, deadlines: Deadlines) -> dt.date:
    """Day of a reminder `offset` from the deadline; one on a rest day goes out the working day
    before, so that nobody is reminded on a Sunday of a Monday deadline."""
    day = deadlines.shift(due, offset)
    early = offset.days < 0 and deadlines.early_reminders
    return deadlines.previous_working_day(day) if early else day


def schedule(
    campaign: Campaign, clock: Clock, case_id: str, due: dt.date, deadlines: Deadlines,
) -> tuple[Timer, ...]:
    """Every timer of a clock running to deadline `due`, in the order they come: reminders,
    the deadline itself, escalations (repeated overdue notices follow from `decide`)."""
    tz = campaign.timezone
    due_at = end_of_day(due, tz)
    timers: list[Timer] = []
    reminded: set[dt.datetime] = set()
    for offset in clock.remind:
        at = local_instant(reminder_day(due, offset, deadlines), REMINDER_TIME, tz)
        if offset.days == 0:
            at = min(at, due_at)
        if at in reminded:
            continue  # two offsets moved off rest days onto one day: one reminder, not two
        reminded.add(at)
        timers.append(Timer(case_id, clock.id, "remind", at, due, str(offset)))
    timers.append(Timer(case_id, clock.id, "overdue", overdue_moment(campaign, due, deadlines),
                        due, "due"))
    if clock.overdue is not None:
        for step, escalation in enumerate(clock.overdue.escalate):
            day = deadlines.shift(due, escalation.after)
            timers.append(Timer(case_id, clock.id, "escalate",
                                overdue_moment(campaign, day, deadlines), due,
                                str(escalation.after), step))
    return tuple(sorted(timers, key=lambda t: t.at))


def overdue_moment(campaign: Campaign, day: dt.date, deadlines: Deadlines) -> dt.datetime:
    """When a deadline that ended with `day` is declared overdue: once a day, at the campaign's
    `overdue_at` (09:00 by default), on the first working day after it — nobody is told on a
    Sunday, nor twice a day."""
    after = deadlines.next_working_day(day + dt.timedelta(days=1))
    return local_instant(after, campaign.overdue_at, campaign.timezone)


def arm(
    campaign: Campaign, clock: Clock, case_id: str, due: dt.date, now: dt.datetime,
    deadlines: Deadlines, *, base: dt.date | None = None,
) -> ArmClock:
    """The timers of a clock that starts now with deadline `due` (counted from `base`, when
    given); past reminders are skipped. Provisional when a day it needed is in a year nobody
    covers."""
    timers = schedule(campaign, clock, case_id, due, deadlines)
    return ArmClock(case_id, clock.id, due, end_of_day(due, campaign.timezone),
                    tuple(t for t in timers if t.kind != "remind" or t.at >= now),
                    _guessed(campaign, clock, due, base, timers, deadlines), base)


_SLACK = dt.timedelta(days=1)  # a timer's UTC date is its local day's, give or take one


def _guessed(campaign: Campaign, clock: Clock, due: dt.date, base: dt.date | None,
             timers: Sequence[Timer], deadlines: Deadlines) -> dt.date | None:
    """The first day of a year nobody covers that the deadline or the timers were counted over.

    Every day a computation of them looks at lies between the earliest and the latest of the
    base, the deadline and the timers' days; only when that span reaches an uncovered year is
    the work done again on a probe, to tell a guess from a day merely passed over (a deadline
    in calendar days that does not roll consults no calendar at all)."""
    days = [due, *(t.at.date() for t in timers)]
    if base is not None:
        days.append(base)
    if deadlines.uncovered(min(days) - _SLACK, max(days) + _SLACK) is None:
        return None

    def again(probed: Deadlines) -> None:
        if base is not None:
            due_from(clock, base, probed)
        schedule(campaign, clock, "", due, probed)

    return deadlines.provisional_day(again)[1]


def following(timers: Sequence[Timer], timer: Timer) -> Timer | None:
    """The timer after `timer` in its clock's `schedule` (of any case: matched by kind and
    label), for `timer`'s case; None after the last, and for repeated overdue notices, which
    `decide` follows itself."""
    if timer.kind == "overdue_repeat":
        return None
    for before, after in itertools.pairwise(timers):
        if (before.kind, before.label) == (timer.kind, timer.label):
            return Timer(timer.case_id, after.clock_id, after.kind, after.at, after.due_date,
                         after.label, after.step)
    return None


def clock_effects(
    campaign: Campaign,
    case_type: CaseType,
    case_id: str,
    before: str | None,
    after: str,
    trigger: str,
    facts: Mapping[str, Any],
    changed: Mapping[str, Any],
    now: dt.datetime,
    deadlines: Deadlines,
    *,
    previous: Mapping[str, Any] | None = None,
    unit: UnitTest | None = None,
    running: frozenset[str] = frozenset(),
) -> list[ClockEffect]:
    """Clocks that stop, start or restart because a case went from `before` to `after` (its
    data `previous` before the event, `facts` after it).

    A clock with a `when` runs only while its condition holds for the case and its unit: one
    bound to states starts when the case is in them and the condition comes to hold (a hazard
    re-graded as major), and stops when it ceases to (re-graded as general); one started by an
    event starts only if the condition holds then, and stops, if `running`, when it ceases."""
    effects: list[ClockEffect] = []
    today = local_date(now, campaign.timezone)
    for clock in case_type.clocks:
        held = before is not None and _holds(clock, previous or {}, unit)
        holds_now = _holds(clock, facts, unit)
        was_in = before in clock.runs_in and held
        is_in = after in clock.runs_in and holds_now
        starts = (is_in and not was_in) or (
            holds_now and _matches(clock.starts_on, before, after, trigger))
        lapsed = clock.when is not None and not holds_now and (
            was_in if clock.runs_in else clock.id in running)
        stops = (was_in and not is_in) or _matches(clock.stops_on, before, after, trigger) \
            or lapsed
        # A running clock whose deadline field changed (a new 整改期限) restarts with it.
        moved = bool(was_in and is_in and clock.due.field and clock.due.field in changed)
        if stops or moved:
            left = clock.runs_in and before in clock.runs_in and after not in clock.runs_in
            if moved:
                effects.append(StopClock(case_id, clock.id, "moved"))
            elif left:
                effects.append(StopClock(case_id, clock.id, "left", before or ""))
            elif lapsed:
                effects.append(StopClock(case_id, clock.id, "lapsed"))
            else:
                effects.append(StopClock(case_id, clock.id, "event", trigger))
        if (starts and not stops) or moved or (starts and stops and is_in):
            base = base_day(clock, facts, today)
            if base is None:
                effects.append(ClockUnarmed(case_id, clock.id, clock.due.field or ""))
            else:
                effects.append(arm(campaign, clock, case_id, due_from(clock, base, deadlines),
                                   now, deadlines, base=base))
    return effects


def _holds(clock: Clock, facts: Mapping[str, Any], unit: UnitTest | None) -> bool:
    return clock.when is None or holds(clock.when, facts, unit)


def decide(
    campaign: Campaign,
    case_type: CaseType,
    timer: Timer,
    state: str,
    now: dt.datetime,
    deadlines: Deadlines,
    *,
    provisional: bool = False,
) -> TimerDecision:
    """What a due timer means for a case now in `state`: the one code path for simulate and the
    live sweep. A timer whose clock no longer runs is stale and sends nothing. A `provisional`
    clock's messages say that its deadline rests on a year not yet published."""
    clock = next((c for c in case_type.clocks if c.id == timer.clock_id), None)
    if clock is None or running_in(clock, state) is False:
        return TimerDecision(stale=True)
    late = now - timer.at > LATE_AFTER
    who = clock.who
    overdue = clock.overdue

    def text(passed: bool) -> str:
        # A reminder counts the days left from its own day (sent late after downtime, it is
        # that day's reminder, marked late); an overdue notice counts to the day it is told.
        told = local_date(now if passed else timer.at, campaign.timezone)
        words = overdue_text if passed else due_text
        working = counts_working_days([clock.due.after, *clock.remind])
        return texts.t("notices.clock", clock=clock.name,
                       text=words(timer.due_date, told, deadlines, working=working,
                                  provisional=provisional))

    def notify(roles: tuple[str, ...], message: str) -> Notify:
        return Notify(timer.case_id, clock.id, timer.kind, roles, message, timer.due_date,
                      timer.key, late, provisional)

    if timer.kind == "remind":
        return TimerDecision((notify(who, text(passed=False)),))
    if timer.kind in ("overdue", "overdue_repeat"):
        roles = tuple(dict.fromkeys(who + (overdue.notify if overdue else ())))
        message = text(passed=True)
        repeat = None
        if overdue is not None and overdue.remind_every is not None:
            step = timer.step + 1
            # counted from the day this notice went out, so that no day is told twice
            previous = local_date(timer.at, campaign.timezone)
            if late:
                # After downtime the late notice stands for every missed day: the next repeat
                # comes after today, not once for each day nothing ran.
                previous = max(previous, local_date(now, campaign.timezone))
            # Repeats go out on working days only: nobody is nagged on a Sunday (in a year
            # not yet published, Monday to Friday).
            day = deadlines.next_working_day(deadlines.shift(previous, overdue.remind_every))
            repeat = Timer(timer.case_id, clock.id, "overdue_repeat",
                           local_instant(day, campaign.overdue_at, campaign.timezone),
                           timer.due_date, f"+{step}", step)
        fire = overdue.fire if overdue is not None and timer.kind == "overdue" else None
        return TimerDecision((notify(roles, message),), fire, repeat)
    if overdue is None or timer.step >= len(overdue.escalate):
        return TimerDecision(stale=True)
    escalation = overdue.escalate[timer.step]
    message = texts.t("notices.escalated", text=text(passed=True))
    return TimerDecision((notify(escalation.notify, message),), escalation.fire)


@dataclass(frozen=True)
class Redated:
    """A provisional clock recomputed on the calendar now known."""

    clock: ArmClock  # its deadline and timers now (still provisional if another year is needed)
    moved: bool  # the deadline or the next timer differs from what the case holds
    kept: bool  # the guessed deadline had passed: the overdue path it started keeps running


def redate(
    campaign: Campaign, clock: Clock, case_id: str, *, base: dt.date, due: dt.date,
    pending: Timer | None, now: dt.datetime, deadlines: Deadlines,
) -> Redated:
    """A running clock counted from `base`, whose deadline was `due` and whose next timer is
    `pending`, recomputed with `deadlines` at `now`.

    A clock whose guessed deadline has not passed is armed again from now when its deadline or
    its next timer moved (the adapter starts a new generation); later timers follow from the
    deadline as the sweep arms them, so they use the known calendar anyway. One whose guessed
    deadline has passed was declared overdue: its notices are not sent again."""
    armed = arm(campaign, clock, case_id, due_from(clock, base, deadlines), now, deadlines,
                base=base)
    if end_of_day(due, campaign.timezone) <= now:
        return Redated(armed, armed.due_date != due, kept=True)
    first = armed.timers[0] if armed.timers else None
    same = (armed.due_date == due and pending is not None and first is not None
            and (first.kind, first.label, first.at) == (pending.kind, pending.label, pending.at))
    return Redated(armed, not same, kept=False)
