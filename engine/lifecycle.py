"""Case lifecycles: one `transitions` machine per case type and campaign version, fired per call
with a light cursor as the model, returning what happened and what must follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from types import MappingProxyType
from typing import Any

import jsonschema
from transitions import EventData, Machine

from engine import texts
from engine.clocks import ArmClock, ClockEffect, StopClock, clock_effects
from engine.conditions import UnitTest, describe, holds, tests_unit
from engine.dates import Deadlines
from engine.errors import (
    ConditionFailed,
    FieldsNotSettable,
    InvalidData,
    MissingFields,
    RoleNotAllowed,
    SameSigner,
    TransitionNotAllowed,
)
from engine.limits import DateRange
from engine.limits import problems as limit_problems
from engine.model import Campaign, CaseType, SignoffStep, Transition
from engine.model import Field as FieldModel
from engine.orgs import Unit, unit_test
from engine.schema import did_you_mean, format_checker
from engine.signoffs import Signature, SignerFields, Step, next_step, pending


@dataclass(frozen=True)
class Actor:
    """Who fires an event: the roles they hold *for this case* (scope already checked).

    `id` is stable and unique (`token:<id>`; people signed in, `user:<id>`): two signatures
    of one chain are compared by it. `name` is what people read."""

    id: str
    roles: frozenset[str]
    system: bool = False
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


SYSTEM = Actor("system", frozenset(), system=True)


@dataclass(frozen=True)
class Case:
    """What the core needs to know of a case; adapters load and store it."""

    id: str
    type: str
    state: str
    data: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1
    signatures: tuple[Signature, ...] = ()
    running: frozenset[str] = frozenset()  # the clocks running (armed) on the case

    def moved(self, state: str, data: Mapping[str, Any],
              signatures: tuple[Signature, ...],
              effects: Sequence[ClockEffect] = ()) -> Case:
        """The next version, as an event leaves it (built directly, not with
        `dataclasses.replace`, which costs several times more on every event)."""
        return Case(self.id, self.type, state, data, self.version + 1, signatures,
                    _running(self.running, effects))


@dataclass(frozen=True)
class Outcome:
    """The decision for one event: the case after it, and the effects adapters must apply."""

    case: Case
    trigger: str
    transition: str
    source: str | None
    target: str
    actor: Actor
    role: str | None
    at: dt.datetime
    completed: bool
    data: Mapping[str, Any]
    effects: tuple[ClockEffect, ...] = ()
    # of `data`, the signer's own fields (each level's 意见): with the signature, not the case
    own: Mapping[str, Any] = field(default_factory=dict)

    @property
    def changed_state(self) -> bool:
        return self.source != self.target


class _Cursor:
    """The per-call model the shared machine moves; holds nothing but the state."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class _Chosen:
    """Machine condition: only the transition the core has already chosen may execute."""

    def __init__(self, transition_id: str) -> None:
        self.transition_id = transition_id

    def __call__(self, event: EventData) -> bool:
        return bool(event.kwargs.get("transition_id") == self.transition_id)


def _running(before: frozenset[str], effects: Sequence[ClockEffect]) -> frozenset[str]:
    """The clocks running once `effects` are applied."""
    if not effects:
        return before
    running = set(before)
    for effect in effects:
        if isinstance(effect, StopClock):
            running.discard(effect.clock_id)
        elif isinstance(effect, ArmClock):
            running.add(effect.clock_id)
    return frozenset(running)


def _absent(value: Any) -> bool:
    return value is None or value == "" or value == []


def _signed_by(pending: Sequence[Signature], actor: Actor) -> Signature | None:
    """The signature `actor` already gave to a pending chain, if any."""
    for signed in pending:
        # A signature stored before actors had stable ids names its signer instead.
        if signed.actor == actor.id or (":" not in signed.actor and signed.actor == actor.name):
            return signed
    return None


@dataclass(frozen=True)
class EventForm:
    """A trigger's form for one person and case (Lifecycle.form): the transition it takes, its
    fields in order, the names of those required, the role it is fired in and, in a sign-off
    chain, the step's index."""

    transition: Transition
    fields: tuple[FieldModel, ...]
    required: frozenset[str]
    role: str | None
    step: int | None = None


class Lifecycle:
    """The lifecycle of one case type of one campaign version."""

    def __init__(self, campaign: Campaign, case_type: CaseType, deadlines: Deadlines) -> None:
        self.campaign = campaign
        self.type = case_type
        self.deadlines = deadlines
        self.by_trigger: dict[str, list[Transition]] = {}
        for transition in case_type.transitions:
            self.by_trigger.setdefault(transition.trigger, []).append(transition)
        self.machine = Machine(
            model=None,
            states=list(case_type.states),
            initial=case_type.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for transition in case_type.transitions:
            self.machine.add_transition(
                transition.trigger,
                source=list(transition.sources),
                dest=transition.target,  # None: internal, the state stays
                conditions=[_Chosen(transition.id)],
            )
        schema = dict(case_type.data_schema(), additionalProperties=False)
        checker = format_checker()
        self._validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
        # The data schema is an object of named fields and nothing else, so checking each field
        # sent against its own schema decides the same: on every event that costs the fields
        # sent, not every field the case type has. The whole schema still words the errors.
        self._field_validators = {
            name: jsonschema.Draft202012Validator(field.schema, format_checker=checker)
            for name, field in case_type.fields.items()
        }
        # whether a condition looks at the unit: only then need adapters read it
        self.needs_unit = any(
            tests_unit(t.when) or any(tests_unit(s.when) for s in t.steps)
            for t in case_type.transitions) or any(tests_unit(c.when) for c in case_type.clocks)
        # what each transition's event may set, and where each field may be set from (for
        # the refusal's hint)
        self._settable = {t.id: t.settable for t in case_type.transitions}
        self._set_by: dict[str, list[str]] = {}
        for transition in case_type.transitions:
            for name in sorted(transition.settable):
                if transition.trigger not in self._set_by.setdefault(name, []):
                    self._set_by[name].append(transition.trigger)
        self.dates = DateRange.for_campaign(campaign)
        self.signer_fields = SignerFields(case_type, self.dates)  # each signer's 意见
        self._date_fields = {
            name: field.schema.get("format") == "date-time"
            for name, field in case_type.fields.items()
            if field.schema.get("format") in ("date", "date-time")
        }

    # -- queries ---------------------------------------------------------------------------

    def allowed_triggers(self, case: Case, actor: Actor | None = None, *,
                         unit: Unit | None = None) -> list[str]:
        """Triggers that can fire from the case's state (for this actor, if given, with the
        case's unit deciding conditions on it), in order."""
        found: list[str] = []
        facts = case.data
        test = unit_test(self.campaign, unit)
        for transition in self.type.transitions:
            if case.state not in transition.sources or transition.trigger in found:
                continue
            if actor is not None and not (
                holds(transition.when, facts, test)
                and self._may_fire(transition, case, actor, test)
            ):
                continue
            found.append(transition.trigger)
        return found

    def form(self, case: Case, trigger: str, actor: Actor, *, unit: Unit | None = None
             ) -> EventForm | None:
        """What a person fills in to fire `trigger` now: the transition `fire` would take for
        this actor, its fields (the case's, and a signer's own for a sign-off step) and which
        of them are required; None when the actor may not fire it now. The screens build a
        trigger's form from it (web/pages/hazards.py); `fire` still decides."""
        test = unit_test(self.campaign, unit)
        passing = [t for t in self.by_trigger.get(trigger, ())
                   if case.state in t.sources and holds(t.when, case.data, test)]
        chosen = next((t for t in passing if self._may_fire(t, case, actor, test)), None)
        if chosen is None:
            return None
        step = self._next_step(chosen, case, test) if chosen.signoffs else None
        names = [*chosen.requires, *(n for n in chosen.sets if n not in chosen.requires)]
        fields = [self.type.fields[n] for n in names if n in self.type.fields]
        required = set(chosen.requires)
        if step is not None:
            fields += list(step[1].fields.values())
            required |= set(step[1].required)
        return EventForm(chosen, tuple(fields), frozenset(required),
                         step[1].role if step else self._role_for(chosen, case, actor, test),
                         step[0] if step else None)

    # -- decisions -------------------------------------------------------------------------

    def open(
        self,
        case_id: str,
        data: Mapping[str, Any],
        actor: Actor,
        now: dt.datetime,
        *,
        unit: Unit | None = None,
    ) -> Outcome:
        """Open a case in the initial state; refuse missing required fields or bad data."""
        if self.type.opened_by and not actor.system and not actor.roles & set(self.type.opened_by):
            raise RoleNotAllowed(case_id, "open", self.type.opened_by, actor.roles)
        self._check_data(case_id, data, None)
        missing = [f for f in self.type.required if _absent(data.get(f))]
        if missing:
            raise MissingFields(case_id, "open", missing)
        case = Case(case_id, self.type.id, self.type.initial, MappingProxyType(dict(data)))
        role = next(iter(sorted(actor.roles & set(self.type.opened_by or actor.roles))), None)
        effects = clock_effects(self.campaign, self.type, case_id, None, case.state, "open",
                                case.data, {}, now, self.deadlines,
                                unit=unit_test(self.campaign, unit))
        case = Case(case.id, case.type, case.state, case.data, 1, (),
                    _running(frozenset(), effects))
        return Outcome(case, "open", "open", None, case.state, actor, role, now, True,
                       MappingProxyType(dict(data)), tuple(effects))

    def fire(
        self,
        case: Case,
        trigger: str,
        data: Mapping[str, Any],
        actor: Actor,
        now: dt.datetime,
        *,
        unit: Unit | None = None,
    ) -> Outcome:
        """Fire `trigger` on `case` (of `unit`, whose industry and tags decide conditions on
        the unit); returns the outcome or raises a Refused error saying why."""
        test = unit_test(self.campaign, unit)
        candidates = [t for t in self.by_trigger.get(trigger, ()) if case.state in t.sources]
        if not candidates:
            raise TransitionNotAllowed(case.id, case.state, trigger,
                                       self.allowed_triggers(case))
        # Conditions judge what is on record, not what the event sends: otherwise an event
        # could re-grade a major hazard as general to take the general path.
        passing = [t for t in candidates if holds(t.when, case.data, test)]
        if not passing:
            raise ConditionFailed(case.id, trigger, [describe(t.when or {}) for t in candidates])
        chosen, role = self._choose(case, trigger, passing, actor, test)
        waiting_for = pending(case.signatures, chosen)
        if chosen.signoffs and not chosen.same_signer:
            self._distinct_signer(case, trigger, role or "", waiting_for, actor)
        step = self._next_step(chosen, case, test) if chosen.signoffs else None
        # A signer's own fields (their 意见) stay with their signature, not in the case.
        own = {k: v for k, v in data.items() if k in step[1].fields} if step else {}
        sent_case = {k: v for k, v in data.items() if k not in own} if own else data
        # An event changes only what its transition declares: a principal's plan cannot
        # re-grade the hazard it plans for, whatever the data's schema would let through.
        if not sent_case.keys() <= self._settable[chosen.id]:
            raise self._not_settable(case.id, trigger, chosen, sent_case,
                                     step[1] if step else None)
        self._check_data(case.id, sent_case, case.data)
        if own and step:
            self.signer_fields.check(case.id, chosen, step, own)
        facts = {**case.data, **sent_case}
        if not actor.system:
            # Transitions the system fires (a clock's escalation) cannot fill in fields a person
            # must provide, so `requires` binds people only. Each signer of a chain gives the
            # fields it requires themselves: a signature is not the one before it repeated.
            given = data if chosen.signoffs else facts
            missing = [f for f in chosen.requires if _absent(given.get(f))]
            if step:
                missing += [f for f in step[1].required if _absent(own.get(f))]
            if missing:
                raise MissingFields(case.id, trigger, missing)
        merged = MappingProxyType(facts)
        sent = MappingProxyType(dict(data))

        if step:
            index = step[0]
            signature = Signature(chosen.id, role or "", actor.id, now, actor.label, sent,
                                  step=index)
            if self._next_step(chosen, case, test, after=index) is not None:
                waiting = case.moved(case.state, merged, (*case.signatures, signature))
                return Outcome(waiting, trigger, chosen.id, case.state, case.state, actor, role,
                               now, False, sent, own=own)

        cursor = _Cursor(case.state)
        if not self.machine.events[trigger].trigger(cursor, transition_id=chosen.id):
            raise RuntimeError(f"machine refused {chosen.id!r} after the core accepted it")
        target = cursor.state
        signatures = case.signatures
        if step:
            # The chain is complete: its signatures stay on the case, the record of who
            # signed; signatures of chains still pending elsewhere are void.
            signatures = (*(s for s in case.signatures if s.completed),
                          *(s.done() for s in waiting_for), signature.done())
        elif target != case.state and signatures:
            # Leaving the state voids a chain not complete (a rejection resets it).
            signatures = tuple(s for s in signatures if s.completed)
        effects = clock_effects(self.campaign, self.type, case.id, case.state, target, trigger,
                                merged, sent_case, now, self.deadlines, previous=case.data,
                                unit=test, running=case.running)
        after = case.moved(target, merged, signatures, effects)
        return Outcome(after, trigger, chosen.id, case.state, target, actor, role, now, True,
                       sent, tuple(effects), own)

    def _distinct_signer(self, case: Case, trigger: str, role: str,
                         pending: Sequence[Signature], actor: Actor) -> None:
        signed = _signed_by(pending, actor)
        if signed is not None:
            raise SameSigner(case.id, trigger, role, signer=actor.label, signed_as=signed.role)

    def _not_settable(self, case_id: str, trigger: str, transition: Transition,
                      data: Mapping[str, Any], step: SignoffStep | None = None
                      ) -> FieldsNotSettable:
        own = set(step.fields) if step else set()
        settable = sorted(self._settable[transition.id] | own)
        refused = [name for name in data if name not in self._settable[transition.id]]
        hints = []
        for name in refused[:3]:
            setters = [t for t in self._set_by.get(name, []) if t != trigger]
            if setters:
                hints.append(texts.t("semantics.refused.set_by", field=name,
                                     setters=texts.listed(map(repr, setters))))
            elif name not in self.type.fields:
                # the did-you-mean only when a field is close (not the list of all fields)
                close = get_close_matches(name[:60], settable, n=1, cutoff=0.6)
                hints.append(texts.t("semantics.refused.no_field", field=name[:60],
                                     case_type=self.type.id)
                             + (texts.t("semantics.refused.no_field.close",
                                        close=did_you_mean(name[:60], settable))
                                if close else ""))
        return FieldsNotSettable(case_id, trigger, refused, settable, hints=hints)

    def _choose(
        self, case: Case, trigger: str, passing: Sequence[Transition], actor: Actor,
        test: UnitTest | None,
    ) -> tuple[Transition, str | None]:
        chains = [t for t in passing if t.signoffs]
        if chains and len(chains) == len(passing) and all(
                self._next_step(t, case, test) is None for t in chains):
            # every step's condition fails for this case and unit: nobody could sign
            raise ConditionFailed(case.id, trigger, [describe(s.when) for t in chains
                                                     for s in t.chain if s.when])
        if actor.system:
            # The system may fire escalations, never sign in a person's place.
            unsigned = [t for t in passing if not t.signoffs]
            if unsigned:
                return unsigned[0], None
            expected = self._next_signer(passing[0], case, test)
            raise RoleNotAllowed(case.id, trigger, [expected], actor.roles, signoff=True)
        for transition in passing:
            role = self._role_for(transition, case, actor, test)
            if role:
                return transition, role
        first = passing[0]
        if first.signoffs:
            expected = self._next_signer(first, case, test)
            raise RoleNotAllowed(case.id, trigger, [expected], actor.roles, signoff=True)
        required = sorted({r for t in passing for r in t.who})
        raise RoleNotAllowed(case.id, trigger, required, actor.roles)

    def _next_step(self, transition: Transition, case: Case, test: UnitTest | None, *,
                   after: int | None = None) -> Step | None:
        return next_step(transition, case.signatures, case.data, test, after=after)

    def _next_signer(self, transition: Transition, case: Case, test: UnitTest | None) -> str:
        step = self._next_step(transition, case, test)
        return step[1].role if step else "nobody"

    def _may_fire(self, transition: Transition, case: Case, actor: Actor,
                  test: UnitTest | None) -> bool:
        if actor.system:
            return not transition.signoffs
        if self._role_for(transition, case, actor, test) is None:
            return False
        if transition.signoffs and not transition.same_signer:
            return _signed_by(pending(case.signatures, transition), actor) is None
        return True

    def _role_for(self, transition: Transition, case: Case, actor: Actor,
                  test: UnitTest | None) -> str | None:
        if actor.system:
            return None
        if transition.signoffs:
            step = self._next_step(transition, case, test)
            return step[1].role if step and step[1].role in actor.roles else None
        held = [r for r in transition.who if r in actor.roles]
        return held[0] if held else None

    def _check_data(self, case_id: str, data: Mapping[str, Any],
                    stored: Mapping[str, Any] | None) -> None:
        """The data's bounds (engine.limits), then its fields' schemas, then its dates."""
        breaches = limit_problems(data, stored)
        if breaches:
            raise InvalidData(case_id, [str(b) for b in breaches])
        self._validate(case_id, data)
        dates = self._date_fields
        if dates:
            problems = [str(found) for name, value in data.items() if name in dates
                        if (found := self.dates.problem(name, value, datetime=dates[name]))]
            if problems:
                raise InvalidData(case_id, problems)

    def _validate(self, case_id: str, data: Mapping[str, Any]) -> None:
        fields = self._field_validators
        if all(name in fields and fields[name].is_valid(value) for name, value in data.items()):
            return
        errors = sorted(self._validator.iter_errors(dict(data)), key=lambda e: list(e.path))
        if errors:
            problems = []
            for error in errors:
                where = ".".join(str(p) for p in error.absolute_path)
                if error.validator == "additionalProperties":
                    known = texts.listed(self.type.fields)
                    problems.append(texts.t("semantics.data.unknown_field", error=error.message,
                                            case_type=self.type.id, fields=known))
                else:
                    problems.append(texts.t("semantics.data.invalid",
                                            where=where or texts.t("semantics.data.whole"),
                                            error=error.message))
            raise InvalidData(case_id, problems)


def lifecycles(campaign: Campaign) -> dict[str, Lifecycle]:
    """One lifecycle per case type of a campaign version; build once and reuse for every case."""
    deadlines = Deadlines.for_campaign(campaign)
    return {name: Lifecycle(campaign, case_type, deadlines)
            for name, case_type in campaign.cases.items()}
