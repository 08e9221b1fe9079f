"""Declarative conditions from YAML, evaluated through our own registry of operators.

Nothing in a condition is ever imported or evaluated as code: every operator is a name looked up
in `OPERATORS`. The key `unit` tests the case's unit (its industry and tags, or named selectors):
the caller hands in a predicate that answers it (engine.orgs.unit_test), so this module needs to
know neither units nor campaigns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine import texts

_MISSING = object()

# Answers a `unit:` operand (a selector id, a list of ids, or an inline selector) for one unit.
UnitTest = Callable[[Any], bool]
UNIT_KEY = "unit"


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(value: Any, operand: Any) -> bool:
        if value is _MISSING or value is None:
            return False
        try:
            return op(value, operand)
        except TypeError:  # comparing a number with text: not satisfied, not a crash
            return False

    return check


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda value, operand: value == operand,
    "ne": lambda value, operand: value != operand,
    "in": lambda value, operand: value in operand,
    "not_in": lambda value, operand: value not in operand,
    "gt": _compare(lambda a, b: a > b),
    "gte": _compare(lambda a, b: a >= b),
    "lt": _compare(lambda a, b: a < b),
    "lte": _compare(lambda a, b: a <= b),
    "present": lambda value, operand: (value not in (_MISSING, None, "", [])) == bool(operand),
}


def holds(condition: Mapping[str, Any] | None, facts: Mapping[str, Any],
          unit: UnitTest | None = None) -> bool:
    """Whether `facts` (field name -> value) and the case's unit satisfy the condition; a
    `unit:` test fails when no unit is known."""
    if not condition:
        return True
    for key, operand in condition.items():
        if key == "all":
            ok = all(holds(part, facts, unit) for part in operand)
        elif key == "any":
            ok = any(holds(part, facts, unit) for part in operand)
        elif key == "not":
            ok = not holds(operand, facts, unit)
        elif key == UNIT_KEY:
            ok = unit is not None and unit(operand)
        else:
            ok = _test(facts.get(key, _MISSING), operand)
        if not ok:
            return False
    return True


def _test(value: Any, operand: Any) -> bool:
    if isinstance(operand, Mapping):
        return all(OPERATORS[op](value, arg) for op, arg in operand.items())
    if isinstance(operand, list):
        return value in operand
    return bool(value == operand)


def tests_unit(condition: Any) -> bool:
    """Whether a condition (anywhere inside) tests the case's unit."""
    if isinstance(condition, Mapping):
        return any(key == UNIT_KEY or (key in ("all", "any", "not") and tests_unit(operand))
                   for key, operand in condition.items())
    if isinstance(condition, list):
        return any(tests_unit(part) for part in condition)
    return False


def describe(condition: Mapping[str, Any]) -> str:
    """A short human reading of a condition, for refusals: `grade = general`."""
    parts = []
    for key, operand in condition.items():
        if key in ("all", "any"):
            joiner = texts.t(f"semantics.describe.{key}")
            parts.append(texts.t("semantics.describe.group",
                                 parts=joiner.join(describe(p) for p in operand)))
        elif key == "not":
            parts.append(texts.t("semantics.describe.not", condition=describe(operand)))
        elif key == UNIT_KEY:
            parts.append(texts.t("semantics.describe.unit", selector=operand))
        elif isinstance(operand, Mapping):
            parts.extend(texts.t("semantics.describe.compare", field=key, op=op, value=arg)
                         for op, arg in operand.items())
        elif isinstance(operand, list):
            parts.append(texts.t("semantics.describe.in", field=key, values=operand))
        else:
            parts.append(texts.t("semantics.describe.equals", field=key, value=operand))
    return texts.t("semantics.describe.all").join(parts)
