"""Sign-off chains (逐级签字): the signatures a case holds, which step of a chain comes next for
a case and its unit, and the fields each signer gives for their own signature (意见).

A step whose `when` does not hold for the case and its unit is skipped (市直部门直管企业 skip the
county's two boxes of the 整改台账). Each signature records its step, so a step once signed
stays signed whatever the case or unit becomes; the next step is the first after the last
signed whose condition holds, and the chain is complete when none is left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from engine import texts
from engine.conditions import UnitTest, holds
from engine.errors import InvalidData
from engine.limits import DateRange
from engine.limits import problems as limit_problems
from engine.model import CaseType, SignoffStep, Transition
from engine.schema import format_checker

Step = tuple[int, SignoffStep]  # a step and its place in the transition's chain


@dataclass(frozen=True)
class Signature:
    """One signature of a sign-off chain: who signed for which role, when, and the data they
    sent (their own fields, each 意见, and any case field they set). `completed` once the chain
    it belongs to is; `step` is its place in the transition's chain (None: stored before steps
    could be skipped, when a signature's place was its position)."""

    transition: str
    role: str
    actor: str
    at: dt.datetime
    name: str = ""
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)
    completed: bool = False
    step: int | None = None

    def done(self) -> Signature:
        return Signature(self.transition, self.role, self.actor, self.at, self.name, self.data,
                         True, self.step)


def pending(signatures: Sequence[Signature], transition: Transition) -> list[Signature]:
    """The signatures of `transition`'s chain still waiting for the rest."""
    return [s for s in signatures if s.transition == transition.id and not s.completed]


def last_step(signed: Sequence[Signature]) -> int:
    """The chain step the latest of these pending signatures signed (-1: none yet)."""
    last = -1
    for position, signature in enumerate(signed):
        last = signature.step if signature.step is not None else position
    return last


def next_step(transition: Transition, signatures: Sequence[Signature],
              facts: Mapping[str, Any], unit: UnitTest | None, *,
              after: int | None = None) -> Step | None:
    """The chain's next step for a case (`facts`, as recorded) and its unit: the first after
    the last signed (or after `after`) whose condition holds; None when none is left."""
    if after is None:
        after = last_step(pending(signatures, transition))
    for index, step in enumerate(transition.chain):
        if index > after and holds(step.when, facts, unit):
            return index, step
    return None


class SignerFields:
    """Checks the fields signers give for their own signatures, for one case type."""

    def __init__(self, case_type: CaseType, dates: DateRange) -> None:
        checker = format_checker()
        self.dates = dates
        self._validators = {
            (transition.id, index, name): jsonschema.Draft202012Validator(
                declared.schema, format_checker=checker)
            for transition in case_type.transitions
            for index, step in enumerate(transition.steps)
            for name, declared in step.fields.items()
        }

    def check(self, case_id: str, transition: Transition, step: Step,
              own: Mapping[str, Any]) -> None:
        """The bounds on data (engine.limits), each field's schema, then its dates."""
        breaches = limit_problems(own, None)
        if breaches:
            raise InvalidData(case_id, [str(b) for b in breaches])
        index, signed = step
        problems: list[str] = []
        for name, value in own.items():
            validator = self._validators[(transition.id, index, name)]
            errors = [texts.t("semantics.data.invalid", where=name, error=e.message)
                      for e in validator.iter_errors(value)]
            kind = signed.fields[name].schema.get("format")
            if not errors and kind in ("date", "date-time"):
                found = self.dates.problem(name, value, datetime=kind == "date-time")
                errors = [str(found)] if found else []
            problems += errors
        if problems:
            raise InvalidData(case_id, problems)
