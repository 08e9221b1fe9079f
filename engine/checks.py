"""Check expansion: the dated obligations a campaign's checks put on each unit and org.

A check applies to a subject through its audience (`for:`); a recurring check yields one
obligation per calendar period overlapping its window, a one-off check one per deadline. The
dates depend only on the check and the variant applied, never on the subject, so an `Expander`
computes each schedule once and stamps it with subject ids: expanding a province's units is a
stream, not a list. A deadline rolled over a day of a year nobody covers yet is `provisional`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from engine.dates import Deadlines, periods
from engine.model import Campaign, Check, Every, PeriodDue, Stricter, roles_of
from engine.orgs import Org, Unit, matches, matches_any

SubjectKind = Literal["unit", "org"]
Subject = Unit | Org

# Months in one period of each recurrence (a week has no months to name).
_MONTHS: dict[Every, int] = {"week": 0, "month": 1, "quarter": 3, "half_year": 6, "year": 12,
                             "once": 0}

# The period label of a `once` obligation: one per subject, its window is `first`..`last`.
ONCE = "once"

# (check index, variant index or -1, variant label or None): one check as it applies to a subject.
_Entry = tuple[int, int, str | None]
Profile = tuple[_Entry, ...]


@dataclass(frozen=True)
class Obligation:
    """One dated duty of a role for a unit or an org: one period of a check, or one deadline."""

    check: str
    name: str
    role: str  # the check's `who`: one role id, or several joined (any of their holders)
    subject_kind: SubjectKind
    subject: str
    period: str | None  # label such as 2023-05 or 2023Q2; None for a one-off deadline
    first: dt.date | None  # first day of the period; None for a one-off deadline
    last: dt.date | None  # last day of the period; None for a one-off deadline
    due: dt.date  # the deadline as it applies, rolled off rest days per the campaign rule
    nominal: dt.date  # the deadline as written, before rolling
    times: int = 1
    variant: str | None = None  # 'stricter: high_risk' when a stricter variant applied
    report: str | None = None
    # the first day of a year nobody covers that the deadline was counted over (weekend rule)
    provisional: dt.date | None = None

    def of(self, subject: str) -> Obligation:
        """The same obligation for another subject (faster than dataclasses.replace)."""
        return Obligation(
            self.check, self.name, self.role, self.subject_kind, subject, self.period,
            self.first, self.last, self.due, self.nominal, self.times, self.variant, self.report,
            self.provisional,
        )  # fmt: skip

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles whose holders (reaching the subject) fulfil the obligation."""
        return roles_of(self.role)

    @property
    def rolled(self) -> bool:
        """Whether the deadline was moved off a rest day."""
        return self.due != self.nominal


def applies(campaign: Campaign, check: Check, subject: Subject) -> bool:
    """Whether a check's audience (`for:`) includes the unit or org."""
    audience = check.audience
    if audience.kind == "orgs":
        return isinstance(subject, Org) and (
            not audience.levels or subject.level in audience.levels
        )
    return isinstance(subject, Unit) and (
        not audience.selectors or matches_any(campaign, audience.selectors, subject)
    )


def variant_for(
    campaign: Campaign, check: Check, subject: Subject
) -> tuple[int, Stricter, str] | None:
    """The first stricter variant whose selectors match: (index, variant, label), or None."""
    for index, variant in enumerate(check.stricter):
        matched = [s for s in variant.selectors if matches(campaign, s, subject)]
        if matched:
            return index, variant, "stricter: " + ", ".join(matched)
    return None


def _fitted(due: PeriodDue | None, every: Every) -> PeriodDue | None:
    """A check's day-of-period due carried over to a variant's recurrence, if it still fits."""
    if due is not None and (due.weekday is not None) != (every == "week"):
        return None  # a weekday means nothing in a month, a day of the month nothing in a week
    if due is None or not isinstance(due.month, int) or due.month <= _MONTHS[every]:
        return due
    # month 6 of a half-year has no counterpart in a quarter: take the period's last month
    return dataclasses.replace(due, month="last")


class Expander:
    """Expands a campaign's checks for any number of subjects, computing each schedule once."""

    def __init__(
        self,
        campaign: Campaign,
        deadlines: Deadlines,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> None:
        self.campaign = campaign
        self.deadlines = deadlines
        self.start = start
        self.end = end
        self._as_written = Deadlines(deadlines.calendar, roll=False)
        self._schedules: dict[_Entry, tuple[Obligation, ...]] = {}
        self._plans: dict[Profile, tuple[Obligation, ...]] = {}

    def profile(self, subject: Subject) -> Profile:
        """Which checks apply to a subject, and which variant of each."""
        entries: list[_Entry] = []
        for index, check in enumerate(self.campaign.checks):
            if applies(self.campaign, check, subject):
                found = variant_for(self.campaign, check, subject)
                entries.append((index, -1, None) if found is None else (index, found[0], found[2]))
        return tuple(entries)

    def for_subject(self, subject: Subject) -> Iterator[Obligation]:
        """The subject's obligations, by due date, then check order, then period."""
        for template in self._plan(self.profile(subject)):
            yield template.of(subject.id)

    def for_subjects(self, subjects: Iterable[Subject]) -> Iterator[Obligation]:
        """Every subject's obligations, one subject after the other, each sorted."""
        for subject in subjects:
            yield from self.for_subject(subject)

    def by_date(self, subjects: Iterable[Subject]) -> Iterator[Obligation]:
        """Every obligation sorted by due date, then orgs before units, then subject id.

        Holds the subjects' ids grouped by profile, never the obligations themselves.
        """
        groups: dict[Profile, list[str]] = defaultdict(list)
        for subject in subjects:
            groups[self.profile(subject)].append(subject.id)
        due_on: dict[Profile, dict[dt.date, list[Obligation]]] = {}
        for profile, ids in groups.items():
            ids.sort()
            days: dict[dt.date, list[Obligation]] = defaultdict(list)
            for template in self._plan(profile):
                days[template.due].append(template)
            due_on[profile] = days
        for day in sorted({d for days in due_on.values() for d in days}):
            streams = [
                _stamped(groups[profile], days[day])
                for profile, days in due_on.items()
                if day in days
            ]
            for _, obligation in heapq.merge(*streams, key=lambda item: item[0]):
                yield obligation

    def _plan(self, profile: Profile) -> tuple[Obligation, ...]:
        plan = self._plans.get(profile)
        if plan is None:
            keyed = [
                (o.due, entry[0], o.first or o.due, o)
                for entry in profile
                for o in self._schedule(entry)
            ]
            keyed.sort(key=lambda item: item[:3])
            plan = self._plans[profile] = tuple(item[3] for item in keyed)
        return plan

    def _schedule(self, entry: _Entry) -> tuple[Obligation, ...]:
        schedule = self._schedules.get(entry)
        if schedule is None:
            check_index, variant_index, label = entry
            check = self.campaign.checks[check_index]
            variant = check.stricter[variant_index] if variant_index >= 0 else None
            schedule = self._schedules[entry] = tuple(
                o for o in self._expand(check, variant, label) if self._within(o.due)
            )
        return schedule

    def _within(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def _expand(
        self, check: Check, variant: Stricter | None, label: str | None
    ) -> Iterator[Obligation]:
        every = (variant.every if variant else None) or check.every
        template = Obligation(
            check=check.id,
            name=check.name,
            role=check.who,
            subject_kind="org" if check.audience.kind == "orgs" else "unit",
            subject="",
            period=None,
            first=None,
            last=None,
            due=self.campaign.period_start,
            nominal=self.campaign.period_start,
            times=(variant.times if variant else None) or check.times,
            variant=label,
            report=check.report,
        )
        if every is None:
            for ref in (variant.deadlines if variant and variant.deadlines else check.deadlines):
                written = dataclasses.replace(ref, roll=False)
                resolved = self.deadlines.resolve(ref, self.campaign)
                written_due = self._as_written.resolve(written, self.campaign)
                base = ref.date or self.campaign.phase(ref.phase or "").due
                yield dataclasses.replace(
                    template, due=resolved, nominal=written_due,
                    provisional=self._guessed(
                        lambda d: d.resolve(ref, self.campaign),  # noqa: B023 (run at once)
                        base, written_due, resolved),
                )
            return
        window_start, window_end = window(self.campaign, check)
        if every == "once":
            # 一次: done any day of the window, due on its last day
            deadline = self.deadlines.finish(window_end)
            yield dataclasses.replace(
                template, period=ONCE, first=window_start, last=window_end, due=deadline,
                nominal=window_end,
                provisional=self._guessed(lambda d: d.finish(window_end), window_end, deadline))
            return
        due = variant.due if variant and variant.due else _fitted(check.period_due, every)
        due_written = dataclasses.replace(due, roll=False) if due else None
        for period in periods(every, window_start, window_end):
            nominal = self._as_written.in_period(period, due_written)
            if due is not None and due.weekday is not None and nominal < window_start:
                continue  # the chosen day of a week the window starts after
            deadline = self.deadlines.in_period(period, due)
            yield dataclasses.replace(
                template,
                period=period.label,
                first=period.first,
                last=period.last,
                due=deadline,
                nominal=nominal,
                provisional=self._guessed(
                    lambda d: d.in_period(period, due), nominal, deadline),  # noqa: B023
            )

    def _guessed(self, compute: Callable[[Deadlines], object], *days: dt.date
                 ) -> dt.date | None:
        """The first uncovered day `compute` rested on; computed again on a probe only when
        the span of its days reaches a year nobody covers."""
        if self.deadlines.uncovered(*days) is None:
            return None
        return self.deadlines.provisional_day(compute)[1]

    def redated(self, check_id: str, variant: str | None, period: str | None, due: dt.date,
                before: Deadlines) -> Obligation | None:
        """The obligation of `check_id` (its variant's label, its period's label) that was due
        on `due` when computed with `before`, as these deadlines put it; None if none was.
        Recurring obligations are found by period; one-off ones by their place among the
        check's deadlines, which `before` tells."""
        index = next((i for i, c in enumerate(self.campaign.checks) if c.id == check_id), None)
        if index is None:
            return None
        entry = (index, *_variant_of(self.campaign.checks[index], variant))
        now = self._schedule(entry)
        if period:
            return next((o for o in now if o.period == period), None)
        then = Expander(self.campaign, before)._schedule(entry)
        return next((o for o, old in zip(now, then, strict=False) if old.due == due), None)


def window(campaign: Campaign, check: Check) -> tuple[dt.date, dt.date]:
    """The days a recurring or `once` check applies: its `start`/`end`, else (for `once` in a
    phase) the phase's days, else the campaign period."""
    start, end = campaign.period_start, campaign.period_end
    if check.every == ONCE and check.phase is not None:
        phases = list(campaign.phases)
        index = next(i for i, p in enumerate(phases) if p.id == check.phase)
        end = phases[index].due
        start = phases[index].start or (
            phases[index - 1].due + dt.timedelta(days=1) if index else start)
    return check.start or start, check.end or end


def _variant_of(check: Check, label: str | None) -> tuple[int, str | None]:
    """The variant index and label of an obligation's `variant` label ('stricter: a, b'
    names the selectors that matched, all of one variant): the first variant holding them."""
    if not label:
        return -1, None
    names = set(label.removeprefix("stricter: ").split(", "))
    for index, variant in enumerate(check.stricter):
        if names <= set(variant.selectors):
            return index, label
    return -1, None


def _stamped(
    ids: list[str], templates: list[Obligation]
) -> Iterator[tuple[tuple[int, str], Obligation]]:
    order = 0 if templates[0].subject_kind == "org" else 1
    for subject_id in ids:
        for template in templates:
            yield (order, subject_id), template.of(subject_id)


def obligations_for(
    campaign: Campaign,
    subject: Subject,
    deadlines: Deadlines,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Iterator[Obligation]:
    """The obligations of one unit or org, sorted by due date; `start`/`end` bound the due dates."""
    return Expander(campaign, deadlines, start=start, end=end).for_subject(subject)


def obligations_of_all(
    campaign: Campaign,
    subjects: Iterable[Subject],
    deadlines: Deadlines,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Iterator[Obligation]:
    """The obligations of many subjects, lazily, subject by subject, each subject's sorted."""
    return Expander(campaign, deadlines, start=start, end=end).for_subjects(subjects)
