"""Targets (目标): a goal on a measured figure by a date, and its status at any date.

The rules (docs/reports.md says them to offices):

- on or after `by`: **met** when the goal held at the end of `by`, else **missed** — what
  happens later does not change a year's result;
- before `by`: **on_track** when the goal holds now; **at_risk** when it does not and `by` is
  `warn` days away or fewer (30 by default), which is when the safety office is told; else
  **on_track** still (not met yet, with time left).

A goal is a bound (`max`, `min`) on the value, or a comparison with another measured figure
(`lt`, `lte`, `gt`, `gte`). With `per`, the value is the percentage measure / per × 100; with
nothing to divide by (per = 0) there is no value, and the goal does not hold.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from typing import Literal

from engine import texts
from engine.model import Target

Status = Literal["met", "on_track", "at_risk", "missed"]
_COMPARE = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}
_SIGN = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}


@dataclass(frozen=True)
class Reading:
    """A target's figures at one date: the measure, its denominator, the compared figure."""

    measure: float
    per: float | None = None
    compared: float | None = None


def value(target: Target, reading: Reading) -> float | None:
    """The value the goal is about: the measure, or its percentage of `per`."""
    if target.per is None:
        return reading.measure
    if not reading.per:
        return None
    return round(reading.measure / reading.per * 100, 2)


def holds(target: Target, reading: Reading) -> bool:
    found = value(target, reading)
    if found is None:
        return False
    if target.compare is not None and target.compare_op is not None:
        if reading.compared is None:
            return False
        return bool(_COMPARE[target.compare_op](found, reading.compared))
    if target.goal_max is not None and found > target.goal_max:
        return False
    return not (target.goal_min is not None and found < target.goal_min)


def goal_text(target: Target) -> str:
    """The goal as people read it: `≤ 0`, `≥ 95%`, `< 2024年发现的重大事故隐患`."""
    percent = "%" if target.per is not None else ""
    if target.compare is not None and target.compare_op is not None:
        return texts.t("semantics.goal.compared", sign=_SIGN[target.compare_op])
    parts = []
    if target.goal_min is not None:
        parts.append(f"≥ {_number(target.goal_min)}{percent}")
    if target.goal_max is not None:
        parts.append(f"≤ {_number(target.goal_max)}{percent}")
    return texts.t("semantics.goal.separator").join(parts)


def _number(found: float) -> str:
    return str(int(found)) if float(found).is_integer() else str(found)


def status(target: Target, as_of: dt.date, now: Reading, at_by: Reading | None) -> tuple[
        Status, str]:
    """The status at `as_of` and the rule that gave it; `at_by` is the reading at the end of
    `by` (needed once `as_of` is on or after it)."""
    if as_of >= target.by:
        assert at_by is not None
        if holds(target, at_by):
            return "met", texts.t("semantics.goal.met", by=target.by)
        return "missed", texts.t("semantics.goal.missed", by=target.by)
    if holds(target, now):
        return "on_track", texts.t("semantics.goal.holds")
    left = (target.by - as_of).days
    if left <= target.warn_days:
        return "at_risk", texts.t("semantics.goal.at_risk", left=left, warn=target.warn_days)
    return "on_track", texts.t("semantics.goal.not_yet", left=left)


def holds_status(status: Status) -> bool:
    """Whether a status says the goal holds (nobody needs telling)."""
    return status == "met" or status == "on_track"
