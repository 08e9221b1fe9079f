"""What a trigger's form holds for one person (Lifecycle.form): the transition `fire` would
take, its fields with the required ones, a signer's own fields; nothing for who may not fire."""

from __future__ import annotations

from engine.lifecycle import Lifecycle
from tests.unit.test_lifecycle import (  # noqa: F401  (fixtures)
    LATER,
    LOCALITY,
    NOW,
    PLAN,
    PRINCIPAL,
    RECTIFIED,
    REGISTRATION,
    SIGNERS,
    campaign,
    hazard,
)


def test_the_plan_form_holds_the_six_parts_required_and_what_it_may_set(
        hazard: Lifecycle) -> None:
    opened = hazard.open("h1", {**REGISTRATION, "grade": "major"}, PRINCIPAL, NOW).case
    form = hazard.form(opened, "plan", PRINCIPAL)
    assert form is not None
    assert form.transition.id == "plan" and form.role == "principal" and form.step is None
    names = [f.name for f in form.fields]
    assert names[:len(form.transition.requires)] == list(form.transition.requires)
    assert form.required == set(form.transition.requires)
    assert set(names) == set(form.transition.requires) | set(form.transition.sets)
    assert "grade" not in names  # a plan never re-grades its hazard


def test_who_may_not_fire_gets_no_form(hazard: Lifecycle) -> None:
    opened = hazard.open("h1", {**REGISTRATION, "grade": "major"}, PRINCIPAL, NOW).case
    assert hazard.form(opened, "plan", LOCALITY) is None
    assert hazard.form(opened, "fix_now", PRINCIPAL) is None  # general hazards only
    assert hazard.form(opened, "accept", SIGNERS["acceptance_team"]) is None  # wrong state


def test_a_signoff_form_is_the_next_steps_with_the_signers_own_fields(
        hazard: Lifecycle) -> None:
    case = hazard.open("h1", {**REGISTRATION, "grade": "major"}, PRINCIPAL, NOW).case
    case = hazard.fire(case, "plan", PLAN, PRINCIPAL, NOW).case
    case = hazard.fire(case, "submit", RECTIFIED, PRINCIPAL, LATER).case
    first = hazard.form(case, "accept", SIGNERS["acceptance_team"])
    assert first is not None and (first.role, first.step) == ("acceptance_team", 0)
    assert hazard.form(case, "accept", SIGNERS["locality"]) is None  # not their turn yet
    case = hazard.fire(case, "accept", {"acceptance_opinion": "同意"},
                       SIGNERS["acceptance_team"], LATER).case
    second = hazard.form(case, "accept", SIGNERS["locality"])
    assert second is not None and (second.role, second.step) == ("locality", 1)
    # the one who signed may not sign again in the same chain
    assert hazard.form(case, "accept", SIGNERS["acceptance_team"]) is None
