"""A dry run of a campaign on a fake clock: every deadline, reminder and escalation, in order.

Case clocks go through `engine.clocks.decide`, the same decision the live sweep makes, so what
the dry run prints is what the scheduler will do. A date that needs a year nobody covers is
counted by the weekend rule and printed as provisional (暂定), as the live system marks it.

What it prints is for people: states, transitions, clocks and reports by their campaign names,
the words around them from the catalogue (engine.texts), Chinese unless English is asked for.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.checks import Expander, Obligation, Subject
from engine.clocks import ArmClock, ClockUnarmed, StopClock, Timer, decide
from engine.dates import REMINDER_TIME, Deadlines, local_date, local_instant
from engine.errors import (
    CampaignEnded,
    MissingFields,
    Refused,
    RoleNotAllowed,
    TransitionNotAllowed,
)
from engine.lifecycle import SYSTEM, Actor, Case, Lifecycle, Outcome
from engine.model import Campaign
from engine.openings import FOUND_ON, check_open, found_on_of
from engine.orgs import Unit
from engine.reminders import check_counts_working_days, check_reminders, check_text, phase_deadline
from engine.texts import listed, t

HappeningKind = Literal[
    "phase_due", "check_reminder", "check_due", "opened", "fired", "signed", "refused",
    "clock_started", "clock_stopped", "clock_unarmed", "remind", "overdue", "overdue_repeat",
    "escalate", "auto_fired", "report_due",
]


@dataclass(frozen=True)
class ScriptedEvent:
    """One line of an events file: open a case or fire a trigger at a given moment."""

    at: dt.datetime
    case: str
    action: Literal["open", "fire"]
    roles: frozenset[str]
    case_type: str | None = None
    trigger: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    actor: str = ""  # who acts; by default one simulated person per set of roles
    unit: str | None = None  # the unit the case belongs to (its attributes decide conditions)
    found_on: dt.date | None = None  # recorded late: found on this day (engine.openings)


@dataclass(frozen=True)
class SimulatedCase:
    """A simulated case as the record would hold it at a moment (for the reports due)."""

    case: Case
    opened_at: dt.datetime
    next_due: dt.date | None
    unit: str | None = None  # the unit the events file named, if any


@dataclass(frozen=True)
class Happening:
    """Something the engine would do at a moment: remind, declare overdue, escalate …"""

    at: dt.datetime
    kind: HappeningKind
    subject: str
    text: str
    roles: tuple[str, ...] = ()


class Simulation:
    """Walks a campaign from `start` to `end` for some subjects and scripted case events."""

    def __init__(self, campaign: Campaign, start: dt.date, end: dt.date, *,
                 deadlines: Deadlines | None = None) -> None:
        self.campaign = campaign
        self.start, self.end = start, end
        # `deadlines` carries the statutory calendar with the years an office added
        self.deadlines = deadlines or Deadlines.for_campaign(campaign)
        self.lifecycles: dict[str, Lifecycle] = {
            name: Lifecycle(campaign, case_type, self.deadlines)
            for name, case_type in campaign.cases.items()}
        self.cases: dict[str, Case] = {}
        self.opened_at: dict[str, dt.datetime] = {}
        self.units_of: dict[str, str] = {}  # case -> the unit its events file named
        self.units: dict[str, Unit] = {}  # the units of the run, by id
        self.dues: dict[str, dict[str, dt.date]] = {}  # running clocks' due dates by case
        # every obligation expanded (a report's duties count them), read after `run` begins
        self.obligations: list[Obligation] = []
        self._generation: dict[tuple[str, str], int] = {}
        self._provisional: set[tuple[str, str]] = set()  # clocks running on a guessed year
        self._queue: list[tuple[dt.datetime, int, Any]] = []
        self._order = itertools.count()
        self._limit = local_instant(end + dt.timedelta(days=1), dt.time(0), campaign.timezone)
        self._begin = local_instant(start, dt.time(0), campaign.timezone)

    def _push(self, at: dt.datetime, item: Any) -> None:
        if self._begin <= at < self._limit:
            heapq.heappush(self._queue, (at, next(self._order), item))

    def _at_nine(self, day: dt.date) -> dt.datetime:
        return local_instant(day, REMINDER_TIME, self.campaign.timezone)

    def run(
        self, subjects: Iterable[Subject], events: Sequence[ScriptedEvent] = ()
    ) -> Iterator[Happening]:
        """Every happening between start and end, in time order."""
        for phase in self.campaign.phases:
            notice = phase_deadline(phase, self.deadlines, self.campaign.timezone)
            self._push(notice.at, Happening(notice.at, "phase_due", phase.id, notice.text))
        subjects = list(subjects)
        # the units cases name (`unit:`): the case's unit, with its industry and tags
        self.units = {s.id: s for s in subjects if isinstance(s, Unit)}
        self._obligations(subjects)
        for event in events:
            self._push(event.at, event)
        while self._queue:
            _, _, item = heapq.heappop(self._queue)
            if isinstance(item, Happening):
                yield item
            elif isinstance(item, ScriptedEvent):
                yield from self._event(item)
            elif isinstance(item, tuple):
                yield from self._timer(*item)

    def unit_of(self, case_id: str) -> Unit | None:
        """The unit a case belongs to (named by its events file), with its attributes."""
        unit = self.units_of.get(case_id)
        return self.units.get(unit) if unit is not None else None

    def snapshot(self) -> list[SimulatedCase]:
        """Every case as it is now, with when it was opened and its earliest running deadline."""
        return [SimulatedCase(case, self.opened_at[case_id],
                              min(self.dues.get(case_id, {}).values(), default=None),
                              self.units_of.get(case_id))
                for case_id, case in self.cases.items()]

    def _obligations(self, subjects: Iterable[Subject]) -> None:
        # Obligations due up to a month after the window still send reminders inside it.
        expander = Expander(self.campaign, self.deadlines, start=self.start,
                            end=self.end + dt.timedelta(days=31))
        checks = {c.id: c for c in self.campaign.checks}
        reports_due: set[tuple[str, dt.date]] = set()
        for obligation in expander.for_subjects(subjects):
            self.obligations.append(obligation)
            if obligation.report is not None and self.start <= obligation.due <= self.end:
                reports_due.add((obligation.report, obligation.due))
            check = checks[obligation.check]
            for reminder in check_reminders(check, obligation.due, self.deadlines,
                                            self.campaign.timezone):
                text = check_text(obligation.name, obligation.period, obligation.due,
                                  today=local_date(reminder.at, self.campaign.timezone),
                                  deadlines=self.deadlines,
                                  working=check_counts_working_days(check),
                                  times=obligation.times,
                                  provisional=obligation.provisional is not None)
                self._push(reminder.at, Happening(reminder.at, reminder.kind,
                                                  obligation.subject, text, obligation.roles))
        # the report as it stands when its day ends (a moment before midnight, local time)
        for report, due in sorted(reports_due):
            moment = local_instant(due + dt.timedelta(days=1), dt.time(0),
                                   self.campaign.timezone) - dt.timedelta(microseconds=1)
            name = self.campaign.reports[report].name if report in self.campaign.reports \
                else report
            self._push(moment, Happening(moment, "report_due", report,
                                         t("simulate.report_due", report=name, due=due)))

    def _event(self, event: ScriptedEvent) -> Iterator[Happening]:
        # Each signature of a chain is another person's: a script that names nobody gets one
        # simulated person per set of roles.
        actor = Actor(event.actor or "simulated:" + "+".join(sorted(event.roles)), event.roles)
        try:
            if event.action == "open":
                lifecycle = self.lifecycles[event.case_type or ""]
                unit = self.units.get(event.unit) if event.unit else None
                if event.unit and unit is None:
                    yield Happening(event.at, "refused", event.case,
                                    t("simulate.unknown_unit", unit=event.unit),
                                    tuple(sorted(event.roles)))
                    return
                data = dict(event.data)
                if event.found_on is not None and FOUND_ON in lifecycle.type.fields:
                    data.setdefault(FOUND_ON, event.found_on.isoformat())
                check_open(self.campaign, today=local_date(event.at, self.campaign.timezone),
                           found_on=found_on_of(lifecycle.type, data, event.found_on))
                outcome = lifecycle.open(event.case, data, actor, event.at, unit=unit)
                self.opened_at[event.case] = event.at
                if event.unit is not None:
                    self.units_of[event.case] = event.unit
                yield Happening(event.at, "opened", event.case,
                                t("simulate.opened", case_type=lifecycle.type.name,
                                  state=self._state(outcome)))
            else:
                case = self.cases[event.case]
                outcome = self.lifecycles[case.type].fire(
                    case, event.trigger or "", event.data, actor, event.at,
                    unit=self.unit_of(event.case))
                kind: HappeningKind = "fired" if outcome.completed else "signed"
                yield Happening(event.at, kind, event.case,
                                t("simulate.fired", **self._step(outcome)),
                                tuple(sorted(event.roles)))
        except (Refused, CampaignEnded, KeyError) as exc:
            reason = self._refusal(exc, self.cases[event.case].type
                                   if event.case in self.cases else event.case_type or "")
            yield Happening(event.at, "refused", event.case, reason, tuple(sorted(event.roles)))
            return
        yield from self._apply(outcome)

    def _state(self, outcome: Outcome) -> str:
        return self._state_name(outcome.case.type, outcome.case.state)

    def _state_name(self, case_type: str, state: str | None) -> str:
        states = self.campaign.cases[case_type].states
        return states[state].name if state in states else state or ""

    def _transition_name(self, case_type: str, *, id_: str = "", trigger: str = "") -> str:
        """A transition's name, found by its id or its trigger (the id when it has none)."""
        for transition in self.campaign.cases[case_type].transitions:
            if (id_ and transition.id == id_) or (trigger and transition.trigger == trigger):
                return transition.name
        return id_ or trigger

    def _step(self, outcome: Outcome) -> dict[str, str]:
        """A transition and the states it went from and to, by their names."""
        case_type = outcome.case.type
        return {"transition": self._transition_name(case_type, id_=outcome.transition),
                "source": self._state_name(case_type, outcome.source),
                "target": self._state(outcome)}

    def _refusal(self, error: Exception, case_type: str) -> str:
        """Why an event was refused, for people: the common refusals by the names of the
        transitions, states and roles, the others as the engine says them."""
        if isinstance(error, KeyError) or case_type not in self.campaign.cases:
            return t("simulate.unknown_case", name=error)
        if isinstance(error, TransitionNotAllowed):
            allowed = listed(
                dict.fromkeys(self._transition_name(case_type, trigger=trigger)
                              for trigger in error.allowed))
            return t("simulate.refused.transition_not_allowed",
                     transition=self._transition_name(case_type, trigger=error.trigger),
                     state=self._state_name(case_type, error.state),
                     allowed=allowed or t("simulate.refused.closed"))
        if isinstance(error, RoleNotAllowed):
            roles = self.campaign.roles
            return t("simulate.refused.role_not_allowed",
                     transition=self._transition_name(case_type, trigger=error.trigger),
                     required=listed(
                         roles[r].name if r in roles else r for r in error.required))
        if isinstance(error, MissingFields):
            fields = self.campaign.cases[case_type].fields
            return t("simulate.refused.missing_fields",
                     transition=self._transition_name(case_type, trigger=error.trigger),
                     fields=listed(
                         fields[f].title if f in fields else f for f in error.fields))
        return str(error)

    def _stopped(self, case_type: str, clock: str, stop: StopClock) -> str:
        """Why a clock stopped, in words: the state it left or the transition that stopped it
        by their names."""
        if stop.reason == "left":
            return t("simulate.clock_stopped.left", clock=clock,
                     state=self._state_name(case_type, stop.via))
        if stop.reason == "event":
            return t("simulate.clock_stopped.event", clock=clock,
                     transition=self._transition_name(case_type, trigger=stop.via))
        return t(f"simulate.clock_stopped.{stop.reason}", clock=clock)

    def _apply(self, outcome: Outcome) -> Iterator[Happening]:
        self.cases[outcome.case.id] = outcome.case
        clocks = {c.id: c for c in self.campaign.cases[outcome.case.type].clocks}
        for effect in outcome.effects:
            key = (effect.case_id, effect.clock_id)
            name = clocks[effect.clock_id].name
            if isinstance(effect, StopClock):
                self.dues.get(effect.case_id, {}).pop(effect.clock_id, None)
                self._generation[key] = self._generation.get(key, 0) + 1
                yield Happening(outcome.at, "clock_stopped", effect.case_id,
                                self._stopped(outcome.case.type, name, effect))
            elif isinstance(effect, ClockUnarmed):
                fields = self.campaign.cases[outcome.case.type].fields
                field_name = fields[effect.field].title if effect.field in fields \
                    else effect.field
                yield Happening(outcome.at, "clock_unarmed", effect.case_id,
                                t("simulate.clock_unarmed", clock=name, field=field_name))
            elif isinstance(effect, ArmClock):
                self.dues.setdefault(effect.case_id, {})[effect.clock_id] = effect.due_date
                generation = self._generation.setdefault(key, 0)
                mark = ""
                if effect.provisional is not None:
                    self._provisional.add(key)
                    mark = provisional_note(effect.provisional)
                else:
                    self._provisional.discard(key)
                yield Happening(outcome.at, "clock_started", effect.case_id,
                                t("simulate.clock_started", clock=name, due=effect.due_date,
                                  mark=mark))
                for timer in effect.timers:
                    self._push(timer.at, (timer, generation))

    def _timer(self, timer: Timer, generation: int) -> Iterator[Happening]:
        if self._generation.get((timer.case_id, timer.clock_id), 0) != generation:
            return  # cancelled: the clock stopped or restarted after this timer was armed
        case = self.cases[timer.case_id]
        case_type = self.campaign.cases[case.type]
        decision = decide(self.campaign, case_type, timer, case.state, timer.at, self.deadlines,
                          provisional=(timer.case_id, timer.clock_id) in self._provisional)
        if decision.stale:
            return
        for note in decision.notifications:
            yield Happening(timer.at, note.kind, timer.case_id, note.message, note.roles)
        if decision.next_timer is not None:
            self._push(decision.next_timer.at, (decision.next_timer, generation))
        if decision.fire:
            try:
                outcome = self.lifecycles[case.type].fire(case, decision.fire, {}, SYSTEM,
                                                          timer.at,
                                                          unit=self.unit_of(case.id))
            except Refused as exc:
                named = self._transition_name(case.type, trigger=decision.fire)
                yield Happening(timer.at, "refused", timer.case_id,
                                t("simulate.auto_refused", transition=named,
                                  reason=self._refusal(exc, case.type)))
                return
            yield Happening(timer.at, "auto_fired", timer.case_id,
                            t("simulate.auto_fired", **self._step(outcome)))
            yield from self._apply(outcome)


def provisional_note(day: dt.date) -> str:
    """What a provisional date says: the year not yet published and the rule used instead."""
    return t("simulate.provisional", year=day.year)
