"""Random events at a hazard stay within its declared lifecycle; conditions obey their logic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from engine.conditions import holds
from engine.errors import Refused
from engine.lifecycle import SYSTEM, Actor, Case, Lifecycle, lifecycles
from engine.model import Field
from engine.schema import format_checker
from paicha.files import loader_for

CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"
STATEFUL = settings(max_examples=50, stateful_step_count=30, deadline=None)
STARTS = {
    "special-action-2023": dt.datetime(2023, 6, 1, 2, tzinfo=dt.UTC),
    "three-year-plan-2024-2026": dt.datetime(2024, 6, 3, 2, tzinfo=dt.UTC),
}
# Dates every statutory calendar of the package covers, so clocks can always be armed.
DATES = ("2023-06-30", "2024-07-12", "2025-01-02")
INVALID: tuple[tuple[str, Any], ...] = (("deadline", "月底前"), ("undeclared_field", 1),
                                         ("grade", "serious"))


@cache
def hazard(name: str) -> Lifecycle:
    path = CAMPAIGNS / f"{name}.yaml"
    campaign = loader_for([path]).load(path.read_text(encoding="utf-8"), str(path)).campaign
    return lifecycles(campaign)["hazard"]


def valid_values(field: Field) -> list[Any]:
    """A few values each field accepts, empty text included (it counts as missing)."""
    if field.enum:
        return list(field.enum)
    match field.type:
        case "date":
            return list(DATES)
        case "datetime":
            return ["2023-06-30T10:00:00+08:00"]
        case "number":
            return [0, 12.5]
        case "integer":
            return [0, 3]
        case "boolean":
            return [True, False]
        case _:
            return ["已落实", ""]


def snapshot(case: Case) -> tuple[Any, ...]:
    return (case.id, case.type, case.state, dict(case.data), case.version, case.signatures)


def hazard_machine(name: str) -> type[RuleBasedStateMachine]:
    """A state machine test firing random events at one hazard of campaign `name`."""
    lifecycle = hazard(name)
    case_type = lifecycle.type
    finals = case_type.finals
    by_id = {t.id: t for t in case_type.transitions}
    roles = sorted({r for t in case_type.transitions for r in (*t.who, *t.signoffs)})
    everyone = Actor("everyone", frozenset(roles))
    triggers = [*sorted({t.trigger for t in case_type.transitions}), "no_such_trigger"]
    registration = set(case_type.required)
    pairs = [(f.name, v) for f in case_type.fields.values() for v in valid_values(f)]
    # everything a person might fill in later, with a usable value each (the grade stays)
    full = {f.name: valid_values(f)[0] for f in case_type.fields.values()
            if f.name not in registration}
    validator = jsonschema.Draft202012Validator(
        dict(case_type.data_schema(), additionalProperties=False), format_checker=format_checker()
    )

    actors = st.one_of(
        st.just(SYSTEM),
        st.just(everyone),
        st.frozensets(st.sampled_from(roles), max_size=3).map(
            lambda held: Actor("+".join(sorted(held)) or "nobody", held)),
    )
    event_data = st.one_of(
        st.just(full),
        st.lists(st.sampled_from(pairs), max_size=8).map(dict),
        st.tuples(st.lists(st.sampled_from(pairs), max_size=4),
                  st.sampled_from(INVALID)).map(lambda p: dict([*p[0], p[1]])),
    )

    class HazardEvents(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.now = STARTS[name]
            self.case: Case | None = None
            self.final_state: str | None = None

        @initialize(grade=st.sampled_from(["general", "major"]))
        def open_hazard(self, grade: str) -> None:
            data = {f: valid_values(case_type.fields[f])[0] for f in case_type.required}
            data["grade"] = grade
            outcome = lifecycle.open("h1", data, everyone, self.now)
            assert (outcome.case.state, outcome.case.version) == (case_type.initial, 1)
            self.case = outcome.case

        def attempt(self, trigger: str, data: Mapping[str, Any], actor: Actor) -> None:
            before = self.case
            assert before is not None
            kept = snapshot(before)
            self.now += dt.timedelta(hours=7)
            try:
                outcome = lifecycle.fire(before, trigger, data, actor, self.now)
            except Refused:
                assert snapshot(before) == kept
                assert self.case is before
                return
            assert snapshot(before) == kept, "fire changed the case passed in"
            after = outcome.case
            assert after.version == before.version + 1
            assert (outcome.source, outcome.target) == (before.state, after.state)
            if before.state in finals:
                assert by_id[outcome.transition].target is None, (
                    f"{outcome.transition} changed a case in final state {before.state}")
            event(f"reached {after.state}" + (" (signed)" if after.signatures else ""))
            self.case = after

        @rule(trigger=st.sampled_from(triggers), data=event_data, actor=actors)
        def fire_anything(self, trigger: str, data: dict[str, Any], actor: Actor) -> None:
            self.attempt(trigger, data, actor)

        @rule(choice=st.data())
        def fire_what_is_allowed(self, choice: st.DataObject) -> None:
            """Move the case on: an allowed trigger, fired by someone holding every role."""
            assert self.case is not None
            allowed = lifecycle.allowed_triggers(self.case)
            assert allowed, f"state {self.case.state} has no way on"
            self.attempt(choice.draw(st.sampled_from(allowed)), full, everyone)

        @invariant()
        def state_is_declared(self) -> None:
            if self.case is not None:
                assert self.case.state in case_type.states

        @invariant()
        def a_final_state_is_never_left(self) -> None:
            if self.case is None:
                return
            if self.final_state is not None:
                assert self.case.state == self.final_state
            elif self.case.state in finals:
                self.final_state = self.case.state

        @invariant()
        def signatures_exist_only_in_the_sign_off_source_state(self) -> None:
            if self.case is None:
                return
            for signature in self.case.signatures:
                transition = by_id[signature.transition]
                assert transition.signoffs, signature
                assert self.case.state in transition.sources, (signature, self.case.state)

        @invariant()
        def signatures_follow_the_chain_in_order(self) -> None:
            if self.case is None:
                return
            for transition in case_type.transitions:
                signed = [s.role for s in self.case.signatures if s.transition == transition.id]
                assert len(signed) < max(len(transition.signoffs), 1)
                assert signed == list(transition.signoffs[: len(signed)]), signed

        @invariant()
        def data_fits_the_field_schema(self) -> None:
            if self.case is not None:
                assert not list(validator.iter_errors(dict(self.case.data)))

        @invariant()
        def the_machine_keeps_no_case(self) -> None:
            assert len(lifecycle.machine.models) == 0

    HazardEvents.__name__ = f"HazardEvents[{name}]"
    return HazardEvents


@pytest.mark.parametrize("name", sorted(STARTS))
def test_random_events_keep_the_hazard_lifecycle_invariants(name: str) -> None:
    run_state_machine_as_test(hazard_machine(name), settings=STATEFUL)  # type: ignore[no-untyped-call]


# -- conditions ----------------------------------------------------------------------------

FIELDS = ("grade", "count", "note")
scalars = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from(["general", "major", ""]))
facts_st = st.dictionaries(st.sampled_from(FIELDS), scalars)


@st.composite
def leaves(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(FIELDS))
    form = draw(st.sampled_from(["value", "list", "op"]))
    if form == "value":
        return {field: draw(scalars)}
    if form == "list":
        return {field: draw(st.lists(scalars, max_size=3))}
    op = draw(st.sampled_from(["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "present"]))
    if op in ("in", "not_in"):
        operand: Any = draw(st.lists(scalars, max_size=3))
    elif op == "present":
        operand = draw(st.booleans())
    else:
        operand = draw(scalars)
    return {field: {op: operand}}


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda part: {"not": part}, inner),
        st.builds(lambda parts: {"all": parts}, st.lists(inner, max_size=3)),
        st.builds(lambda parts: {"any": parts}, st.lists(inner, max_size=3)),
    ),
    max_leaves=8,
)

_ABSENT = object()


def expected_leaf(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """An independent reading of one field test, written from the language brief."""
    [(field, operand)] = condition.items()
    value = facts.get(field, _ABSENT)
    if isinstance(operand, list):
        return value is not _ABSENT and value in operand
    if not isinstance(operand, dict):
        return value is not _ABSENT and value == operand
    [(op, arg)] = operand.items()
    if op == "present":
        filled = value is not _ABSENT and value is not None and value != "" and value != []
        return filled == bool(arg)
    if op in ("eq", "in"):
        return value is not _ABSENT and (value == arg if op == "eq" else value in arg)
    if op in ("ne", "not_in"):
        return value is _ABSENT or (value != arg if op == "ne" else value not in arg)
    if value is _ABSENT or value is None or arg is None or type(value) is not type(arg):
        return False  # ordering text against numbers (or nothing) never holds
    return bool({"gt": value > arg, "gte": value >= arg, "lt": value < arg,
                 "lte": value <= arg}[op])


def expected(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    if "not" in condition:
        return not expected(condition["not"], facts)
    if "all" in condition:
        return all(expected(part, facts) for part in condition["all"])
    if "any" in condition:
        return any(expected(part, facts) for part in condition["any"])
    return expected_leaf(condition, facts)


@settings(max_examples=300, deadline=None)
@given(condition=conditions, facts=facts_st)
def test_holds_agrees_with_an_independent_reading(
    condition: dict[str, Any], facts: dict[str, Any]
) -> None:
    assert holds(condition, facts) == expected(condition, facts)


@settings(max_examples=200, deadline=None)
@given(condition=conditions, facts=facts_st)
def test_not_inverts(condition: dict[str, Any], facts: dict[str, Any]) -> None:
    assert holds({"not": condition}, facts) is (not holds(condition, facts))
    assert holds({"not": {"not": condition}}, facts) is holds(condition, facts)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(conditions, max_size=4), facts=facts_st)
def test_all_and_any_agree_with_python(parts: list[dict[str, Any]], facts: dict[str, Any]) -> None:
    each = [holds(part, facts) for part in parts]
    assert holds({"all": parts}, facts) is all(each)
    assert holds({"any": parts}, facts) is any(each)
    if parts:  # several keys in one mapping must all hold
        assert holds({"all": parts[:1], "any": parts}, facts) is (each[0] and any(each))


@given(facts=facts_st)
def test_an_empty_condition_always_holds(facts: dict[str, Any]) -> None:
    assert holds(None, facts) and holds({}, facts) and holds({"all": []}, facts)
    assert not holds({"any": []}, facts)


JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                 st.text(max_size=5), st.lists(st.integers(), max_size=2),
                 st.sampled_from(["2023-02-30", "2023-06-30T25:00:00", "2023-06-30"]))


@pytest.mark.parametrize("name", sorted(STARTS))
def test_checking_the_fields_sent_decides_as_the_whole_data_schema(name: str) -> None:
    # Events are validated field by field (the fields sent, not every field of the type); the
    # verdict must be the whole schema's.
    lifecycle = hazard(name)
    case_type = lifecycle.type
    whole = jsonschema.Draft202012Validator(
        dict(case_type.data_schema(), additionalProperties=False), format_checker=format_checker())
    names = st.sampled_from([*case_type.fields, "undeclared_field"])
    good = st.sampled_from([(f.name, v) for f in case_type.fields.values()
                            for v in valid_values(f)])

    @settings(max_examples=300, deadline=None)
    @given(data=st.lists(st.one_of(good, st.tuples(names, JUNK)), max_size=5).map(dict))
    def agree(data: dict[str, Any]) -> None:
        expected_valid = whole.is_valid(data)
        event("valid" if expected_valid else "invalid")
        try:
            lifecycle._validate("h1", data)
        except Refused:
            assert not expected_valid, data
        else:
            assert expected_valid, data

    agree()
