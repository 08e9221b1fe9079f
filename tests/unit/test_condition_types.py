"""Which condition values can never match their field: the type check validation applies."""

from __future__ import annotations

from typing import Any

import pytest

from engine.condition_types import type_problem


@pytest.mark.parametrize(("kind", "value", "op"), [
    ("boolean", True, "eq"), ("boolean", False, "ne"),
    ("number", 50, "gt"), ("number", 0.5, "lte"), ("integer", 3, "eq"), ("integer", 3.0, "eq"),
    ("date", "2023-11-30", "lte"), ("datetime", "2023-11-30T09:00:00+08:00", "gt"),
    ("string", "major", "eq"), ("string", "2023", "gt"),
])
def test_values_of_the_fields_type_pass(kind: str, value: Any, op: str) -> None:
    assert type_problem(kind, value, op) is None


@pytest.mark.parametrize(("kind", "value", "op", "fix"), [
    ("boolean", "yes", "eq", "write `true`"), ("boolean", "off", "eq", "write `false`"),
    ("boolean", "是", "eq", "write `true` or `false`"),
    ("boolean", 1, "gt", "tested with `true` or `false`"),
    ("number", "50", "gt", "write 50 without quotes"), ("number", True, "eq", "a number"),
    ("integer", 2.5, "eq", "a whole number"),
    ("date", "2023年11月30日", "lte", "YYYY-MM-DD"), ("date", 20231130, "lte", "YYYY-MM-DD"),
    ("string", 2023, "eq", "quote it: '2023'"), ("string", True, "eq", "quote it: 'true'"),
    ("date", None, "eq", "{present: false}"),
])
def test_values_that_can_never_match_are_named_with_the_fix(
        kind: str, value: Any, op: str, fix: str) -> None:
    found = type_problem(kind, value, op)
    assert found is not None and fix in found[1]
