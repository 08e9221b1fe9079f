"""What changed between two versions of a campaign, in the terms a migration of its deployments
and open cases is planned in: phases re-dated, checks added, removed or re-timed, case states
and transitions added or removed, sign-off chains changed, clocks re-timed.

Pure: two built campaigns in, a plain structure out (GET /campaigns/{id}/versions/diff shows
it). A change not listed here (a title, a report's wording) moves nothing that runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from engine.model import Campaign, CaseType, Check, Clock, Phase, Transition


class Named(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=Named)

# What of a check decides when its duties fall due and whom they bind: a change to any of these
# re-dates or re-assigns obligations.
CHECK_TIMING = ("who", "audience", "phase", "every", "times", "start", "end", "deadlines",
                "period_due", "stricter")
# What of a transition decides who may fire it, from where, to where, and with what.
TRANSITION_TERMS = ("sources", "target", "who", "requires", "sets", "when", "signoffs",
                    "same_signer", "steps")
CLOCK_TERMS = ("due", "runs_in", "starts_on", "stops_on", "remind", "overdue", "when")


def diff(old: Campaign, new: Campaign) -> dict[str, Any]:
    """The changes from `old` to `new` (two versions of one campaign)."""
    phases = _phases(old.phases, new.phases)
    moved = {p["id"] for p in phases["redated"]}

    def check_changes(was: Check, now: Check) -> list[str]:
        found = _check_changes(was, now)
        # a deadline counted from a re-dated phase falls on another day, the check unchanged
        if "deadlines" not in found and any(ref.phase in moved for ref in now.deadlines):
            found.append("phase_redated")
        return found

    return {
        "period": _period(old, new),
        "phases": phases,
        "checks": _keyed(old.checks, new.checks, check_changes,
                         lambda c: {"id": c.id, "name": c.name}),
        "cases": {type_id: _case_type(old.cases.get(type_id), new.cases.get(type_id))
                  for type_id in _union(old.cases, new.cases)
                  if old.cases.get(type_id) != new.cases.get(type_id)},
        "reports": {"added": sorted(set(new.reports) - set(old.reports)),
                    "removed": sorted(set(old.reports) - set(new.reports)),
                    "changed": sorted(r for r in set(old.reports) & set(new.reports)
                                      if old.reports[r] != new.reports[r])},
    }


def _union(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [*old, *(k for k in new if k not in old)]


def _period(old: Campaign, new: Campaign) -> dict[str, Any] | None:
    if (old.period_start, old.period_end, old.timezone) == (
            new.period_start, new.period_end, new.timezone):
        return None
    return {"from": {"start": old.period_start.isoformat(), "end": old.period_end.isoformat(),
                     "timezone": old.timezone},
            "to": {"start": new.period_start.isoformat(), "end": new.period_end.isoformat(),
                   "timezone": new.timezone}}


def _phases(old: Iterable[Phase], new: Iterable[Phase]) -> dict[str, list[dict[str, Any]]]:
    before, after = {p.id: p for p in old}, {p.id: p for p in new}
    redated = []
    for phase_id in before.keys() & after.keys():
        was, now = before[phase_id], after[phase_id]
        if (was.due, was.start) != (now.due, now.start):
            redated.append({"id": phase_id, "name": now.name,
                            "from": {"due": was.due.isoformat(), "start": _day(was.start)},
                            "to": {"due": now.due.isoformat(), "start": _day(now.start)}})
    return {"added": [_phase(after[i]) for i in after if i not in before],
            "removed": [_phase(before[i]) for i in before if i not in after],
            "redated": sorted(redated, key=lambda p: p["id"])}


def _phase(phase: Phase) -> dict[str, Any]:
    return {"id": phase.id, "name": phase.name, "due": phase.due.isoformat(),
            "start": _day(phase.start)}


def _day(day: Any) -> str | None:
    return None if day is None else str(day.isoformat())


def _keyed(old: Iterable[T], new: Iterable[T], changes: Callable[[T, T], list[str]],
           shown: Callable[[T], dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Items with an `id` added, removed, and changed (with the names of what changed)."""
    before = {item.id: item for item in old}
    after = {item.id: item for item in new}
    changed = []
    for key in [k for k in before if k in after]:
        terms = changes(before[key], after[key])
        if terms:
            changed.append({**shown(after[key]), "changed": terms})
    return {"added": [shown(after[k]) for k in after if k not in before],
            "removed": [shown(before[k]) for k in before if k not in after],
            "changed": changed}


def _terms(old: Any, new: Any, names: Iterable[str]) -> list[str]:
    return [name for name in names if getattr(old, name) != getattr(new, name)]


def _check_changes(old: Check, new: Check) -> list[str]:
    found = _terms(old, new, CHECK_TIMING)
    if old.evidence != new.evidence:
        found.append("evidence")
    return found


def _case_type(old: CaseType | None, new: CaseType | None) -> dict[str, Any]:
    if old is None or new is None:
        return {"added": old is None, "removed": new is None}
    return {
        "states": {"added": [s for s in new.states if s not in old.states],
                   "removed": [s for s in old.states if s not in new.states]},
        "fields": {"added": [f for f in new.fields if f not in old.fields],
                   "removed": [f for f in old.fields if f not in new.fields],
                   "changed": [f for f in new.fields
                               if f in old.fields and old.fields[f] != new.fields[f]]},
        "transitions": _keyed(old.transitions, new.transitions, _transition_changes,
                              _transition),
        "signoffs": [{"transition": t.id, "from": list(was.signoffs), "to": list(t.signoffs)}
                     for t in new.transitions
                     if (was := _find(old.transitions, t.id)) is not None
                     and (was.signoffs, was.steps) != (t.signoffs, t.steps)],
        "clocks": _keyed(old.clocks, new.clocks, _clock_changes,
                         lambda c: {"id": c.id, "name": c.name}),
    }


def _find(items: Iterable[Transition], transition_id: str) -> Transition | None:
    return next((t for t in items if t.id == transition_id), None)


def _transition(transition: Transition) -> dict[str, Any]:
    return {"id": transition.id, "trigger": transition.trigger, "name": transition.name}


def _transition_changes(old: Transition, new: Transition) -> list[str]:
    return _terms(old, new, TRANSITION_TERMS)


def _clock_changes(old: Clock, new: Clock) -> list[str]:
    return _terms(old, new, CLOCK_TERMS)
