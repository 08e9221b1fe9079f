"""The campaign model: immutable values built from a validated campaign document."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from dataclasses import field as _field
from typing import Any, Literal

Recurrence = Literal["week", "month", "quarter", "half_year", "year"]
# `due: {weekday: …}` of a weekly check, Monday first as in an ISO week (周一 … 周日).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# A check's `every`: a calendar recurrence, or `once` (一次): one obligation over its window.
Every = Recurrence | Literal["once"]
Scope = Literal["unit", "org"]


@dataclass(frozen=True)
class Duration:
    """A span of calendar days (`3d`) or working days (`3wd`); negative means before."""

    days: int
    working: bool = False

    @classmethod
    def parse(cls, text: str) -> Duration:
        working = text.endswith("wd")
        return cls(int(text[:-2] if working else text[:-1]), working)

    def __str__(self) -> str:
        return f"{self.days}{'wd' if self.working else 'd'}"


# A duty of several roles (`who: [community, regulator]`, 各社区和各有关部门) keeps one text
# wherever one role is kept (an obligation, its stored row): the ids joined by this separator,
# which an id (lower case letters, digits, _) never contains.
ROLE_SEPARATOR = ","
# The longest such text an obligation keeps (its stored `role` column).
ROLE_TEXT_MAX = 64


def roles_of(who: str) -> tuple[str, ...]:
    """The role ids of a duty's `who` text: one, or several joined by ROLE_SEPARATOR."""
    return tuple(who.split(ROLE_SEPARATOR))


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    scope: Scope


@dataclass(frozen=True)
class Selector:
    """A named predicate over units and orgs; all given parts must match."""

    id: str
    industries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    negated: str | None = None


@dataclass(frozen=True)
class Phase:
    id: str
    name: str
    due: dt.date
    start: dt.date | None = None


@dataclass(frozen=True)
class DateRef:
    """A one-off deadline: a date or a phase end, optionally shifted by a duration."""

    date: dt.date | None = None
    phase: str | None = None
    after: Duration | None = None
    roll: bool | None = None


@dataclass(frozen=True)
class PeriodDue:
    """A deadline inside each period: day N (or last) of month M (1-based, last, or next)."""

    day: int | Literal["last"] = "last"
    month: int | Literal["last", "next"] = "last"
    roll: bool | None = None
    weekday: int | None = None  # weekly checks: 0 is Monday … 6 Sunday (周统计 on a chosen day)
    next_week: bool = False  # weekly checks: the chosen day of the week after (每周一报上周)


@dataclass(frozen=True)
class Audience:
    """Who a check applies to: units (optionally by selector) or orgs (optionally by level)."""

    kind: Literal["units", "orgs"]
    selectors: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stricter:
    selectors: tuple[str, ...]
    every: Recurrence | None = None
    times: int | None = None
    due: PeriodDue | None = None
    deadlines: tuple[DateRef, ...] = ()  # a one-off check's variant: its own deadline(s)


@dataclass(frozen=True)
class Check:
    """An obligation of a role: one-off (`deadlines`) or recurring (`every`)."""

    id: str
    name: str
    who: str  # a role id, or several joined by ROLE_SEPARATOR: any of their holders does it
    audience: Audience
    phase: str | None = None
    every: Every | None = None
    times: int = 1
    start: dt.date | None = None
    end: dt.date | None = None
    deadlines: tuple[DateRef, ...] = ()
    period_due: PeriodDue | None = None
    stricter: tuple[Stricter, ...] = ()
    evidence: dict[str, Any] | None = _field(default=None, hash=False)
    report: str | None = None
    basis: str | None = None
    remind: tuple[Duration, ...] = ()

    @property
    def recurring(self) -> bool:
        return self.every is not None


@dataclass(frozen=True)
class Field:
    """A case field; `schema` is the JSON Schema fragment its values must satisfy."""

    name: str
    title: str
    type: str | None
    schema: dict[str, Any] = _field(hash=False)
    enum: tuple[Any, ...] = ()
    labels: dict[str, str] = _field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class State:
    id: str
    name: str
    final: bool = False


@dataclass(frozen=True)
class SignoffStep:
    """One signature of a sign-off chain: the role that signs, the condition under which the
    step belongs to a case's chain (市直部门直管企业 skip the county's two), and the signer's own
    fields (意见), kept with the signature and never in the case's data."""

    role: str
    when: dict[str, Any] | None = _field(default=None, hash=False)
    fields: dict[str, Field] = _field(default_factory=dict, hash=False)
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transition:
    """A lifecycle transition; `target` None means internal (records data, state unchanged).

    Its event may set the fields it `requires` and those it `sets` (optional ones), nothing
    else; in a sign-off chain each signature is another actor's unless `same_signer`."""

    id: str
    trigger: str
    name: str
    sources: tuple[str, ...]
    target: str | None
    who: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    when: dict[str, Any] | None = _field(default=None, hash=False)
    signoffs: tuple[str, ...] = ()  # the roles of `steps`, in order
    sets: tuple[str, ...] = ()
    same_signer: bool = False
    steps: tuple[SignoffStep, ...] = ()

    @property
    def settable(self) -> frozenset[str]:
        """The fields its event's data may hold (a chain's signers also their own)."""
        return frozenset((*self.requires, *self.sets))

    @property
    def chain(self) -> tuple[SignoffStep, ...]:
        """The sign-off steps (each a bare role when built from roles alone)."""
        return self.steps or tuple(SignoffStep(role) for role in self.signoffs)


@dataclass(frozen=True)
class ClockEvent:
    enter: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClockDue:
    field: str | None = None
    after: Duration | None = None
    roll: bool | None = None


@dataclass(frozen=True)
class Escalation:
    after: Duration
    notify: tuple[str, ...] = ()
    fire: str | None = None


@dataclass(frozen=True)
class Overdue:
    remind_every: Duration | None = None
    notify: tuple[str, ...] = ()
    fire: str | None = None
    escalate: tuple[Escalation, ...] = ()


@dataclass(frozen=True)
class Clock:
    """A deadline that runs while a case is in some states (or between two events)."""

    id: str
    name: str
    due: ClockDue
    runs_in: tuple[str, ...] = ()
    starts_on: ClockEvent | None = None
    stops_on: ClockEvent | None = None
    who: tuple[str, ...] = ()
    remind: tuple[Duration, ...] = ()
    overdue: Overdue | None = None
    # runs only for cases (and units) this condition holds for: `{grade: major}`
    when: dict[str, Any] | None = _field(default=None, hash=False)


@dataclass(frozen=True)
class CaseType:
    id: str
    name: str
    fields: dict[str, Field] = _field(hash=False)
    required: tuple[str, ...]
    initial: str
    states: dict[str, State] = _field(hash=False)
    transitions: tuple[Transition, ...]
    clocks: tuple[Clock, ...] = ()
    opened_by: tuple[str, ...] = ()  # roles that may open a case; empty: any role of the campaign

    @property
    def finals(self) -> frozenset[str]:
        return frozenset(s.id for s in self.states.values() if s.final)

    def data_schema(self) -> dict[str, Any]:
        """JSON Schema of a case's data (every field optional; `required` checked on open)."""
        return {"type": "object", "properties": {name: f.schema for name, f in self.fields.items()}}


@dataclass(frozen=True)
class Measure:
    """What a figure counts. `attribute` says whose figure a case is: `unit` (块, the org
    subtree the case's unit lies in) or `finder` (条, the org whose member registered the case,
    e.g. a department's inspection). `within` is `campaign` (cumulative from the campaign's
    start) or `period` (only cases registered, or obligations due, in the report's period)."""

    kind: Literal["count", "sum", "count_units", "count_checks"]
    case: str | None = None
    field: str | None = None
    check: str | None = None
    status: str = "all"
    where: dict[str, Any] | None = _field(default=None, hash=False)
    attribute: Literal["unit", "finder"] = "unit"
    within: Literal["campaign", "period"] = "campaign"


@dataclass(frozen=True)
class Figure:
    """One number (or text) of a row: computed by `measure`, or entered by the org (`manual`
    is then its type: integer, number, boolean or text)."""

    name: str
    measure: Measure | None = None
    manual: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Row:
    id: str
    name: str
    unit: str | None = None
    measure: Measure | None = None
    manual: str | None = None
    parts: tuple[str, ...] = ()
    # a row of several figures (`行政处罚（次，万元）`); empty: the row is its one measure or
    # manual value (with `parts`, several manual values of one type)
    figures: tuple[Figure, ...] = ()

    @property
    def values(self) -> tuple[Figure, ...]:
        """The row's figures, whichever way it was written."""
        if self.figures:
            return self.figures
        if self.manual is not None:
            names = self.parts or (self.name,)
            return tuple(Figure(name, manual=self.manual, unit=self.unit) for name in names)
        return (Figure(self.name, measure=self.measure, unit=self.unit),)


@dataclass(frozen=True)
class Section:
    id: str
    name: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Variant:
    """Another form of a report for some org levels (a town's 调度表 for its departments)."""

    levels: tuple[str, ...]
    name: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    id: str
    name: str
    sections: tuple[Section, ...]
    cumulative: bool = False
    group_by: Literal["org", "unit"] = "org"
    notes: tuple[str, ...] = ()
    # the reporting period a submission is for, and the one `within: period` counts in
    period: Recurrence = "month"  # a check's recurrence (week, month, quarter, half_year, year)
    variants: tuple[Variant, ...] = ()
    # `pairs`: the paper form prints two numbered items per line (1 … 2 …)
    layout: Literal["list", "pairs"] = "list"

    @property
    def rows(self) -> tuple[Row, ...]:
        return tuple(row for section in self.sections for row in section.rows)

    def form_for(self, level: str | None) -> Report:
        """The report as the org of `level` files it: its variant for that level, if any."""
        for variant in self.variants:
            if level in variant.levels:
                return replace(self, name=variant.name, sections=variant.sections,
                               notes=variant.notes or self.notes, variants=())
        return self


@dataclass(frozen=True)
class Target:
    """A goal on a measured figure by a date. With `per` the value is the percentage
    measure / per × 100; with `compare` the goal is `measure <op> compare` (`lt`, `lte`,
    `gt`, `gte`) instead of a bound. `warn` (days) before `by` a target not met is at risk
    and the safety office is told."""

    id: str
    name: str
    by: dt.date
    measure: Measure
    goal_max: float | None = None
    goal_min: float | None = None
    per: Measure | None = None
    compare: Measure | None = None
    compare_op: Literal["lt", "lte", "gt", "gte"] | None = None
    warn_days: int = 30


@dataclass(frozen=True)
class Campaign:
    """A resolved, validated campaign (its parent, if any, already merged in)."""

    id: str
    title: str
    period_start: dt.date
    period_end: dt.date
    issuer: str | None = None
    document: str | None = None
    extends: str | None = None
    timezone: str = "Asia/Shanghai"
    calendar: Literal["cn", "none"] = "cn"
    roll_to_working_day: bool = True
    reminders_before_rest_days: bool = True
    # the local time at which a passed deadline is declared overdue, on working days
    overdue_at: dt.time = dt.time(9, 0)
    org_levels: dict[str, str] = _field(default_factory=dict, hash=False)
    industries: dict[str, str] = _field(default_factory=dict, hash=False)
    tags: dict[str, str] = _field(default_factory=dict, hash=False)
    roles: dict[str, Role] = _field(default_factory=dict, hash=False)
    selectors: dict[str, Selector] = _field(default_factory=dict, hash=False)
    phases: tuple[Phase, ...] = ()
    checks: tuple[Check, ...] = ()
    cases: dict[str, CaseType] = _field(default_factory=dict, hash=False)
    reports: dict[str, Report] = _field(default_factory=dict, hash=False)
    targets: tuple[Target, ...] = ()
    # a kind of notice -> the campaign's own template of it (engine.templates)
    messages: dict[str, str] = _field(default_factory=dict, hash=False)

    def phase(self, phase_id: str) -> Phase:
        return next(p for p in self.phases if p.id == phase_id)
