"""Schema validation of a campaign document, with errors a policy officer can act on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Iterable
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from engine.document import Mapping, format_path, locate
from engine.errors import Problem

_TYPE_WORDS = {
    "object": "a mapping (key: value)",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def format_checker() -> jsonschema.FormatChecker:
    """Checks `date` and `date-time` strings (ISO 8601) without optional format packages."""
    checker = jsonschema.FormatChecker(["date"])
    checker.checks("date-time", raises=ValueError)(_is_datetime)
    return checker


def _is_datetime(value: object) -> bool:
    if isinstance(value, str):
        dt.datetime.fromisoformat(value)
    return True


# the end of the pattern of a time of day (`overdue_at: "09:00"`)
_TIME_PATTERN = ":[0-5][0-9]$"


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A hint naming the closest known choice, or listing the choices when few."""
    options = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if 0 < len(options) <= 8:
        return "known: " + ", ".join(options)
    return ""


def _fitting_branch(error: ValidationError) -> ValidationError | None:
    """The complaint of the only oneOf/anyOf branch whose type the value has, if one."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [errors for errors in branches.values()
               if not any(e.validator in ("type", "const") and
                          len(e.absolute_path) == len(error.absolute_path) for e in errors)]
    if len(fitting) != 1:
        return None
    # one error (a nested oneOf) is looked into by the caller, branch by branch
    errors = fitting[0]
    if len(errors) == 1:
        return errors[0]
    # "not a date" (its shape) says more than "not a real date" of the same value
    return best_match([e for e in errors if e.validator != "format"] or errors)


# Dates as plans write them: 2023年5月30日, 5月30日, 2023.5.30, 2023/5/30, 2023-5-30.
_DATE_SHAPES = (
    re.compile(r"^\s*(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]?"
               r"\s*$"),
    re.compile(r"^\s*(?P<year>\d{4})\s*[./\-－]\s*(?P<month>\d{1,2})\s*[./\-－]\s*"
               r"(?P<day>\d{1,2})\s*$"),
    re.compile(r"^\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]?\s*$"),
)
WEEKDAY_NAMES = {"一": "monday", "二": "tuesday", "三": "wednesday", "四": "thursday",
                 "五": "friday", "六": "saturday", "日": "sunday", "天": "sunday"}


def _date_hint(value: Any, document: Mapping) -> str:
    """How to write a date given in a shape plans use (2023年5月30日 → 2023-05-30)."""
    for shape in _DATE_SHAPES:
        found = shape.match(value) if isinstance(value, str) else None
        if found is None:
            continue
        parts = found.groupdict()
        year = parts.get("year")
        if year is None:  # 5月30日: the year of the campaign, when it says one
            period = document.get("period")
            start = period.get("start") if isinstance(period, dict) else None
            year = str(start)[:4] if isinstance(start, (str, dt.date)) else "YYYY"
        written = f"{year}-{int(parts['month']):02d}-{int(parts['day']):02d}"
        return f"write it as {written} (YYYY-MM-DD, with the year and two-digit month and day)"
    return "write YYYY-MM-DD"


def _weekday_hint(value: Any, choices: Any) -> str:
    """A weekday written in Chinese (周一, 星期一): the English name the language takes."""
    if not isinstance(value, str) or "monday" not in choices:
        return ""
    found = re.fullmatch(r"\s*(?:周|星期|礼拜)([一二三四五六日天])\s*", value)
    if found is None:
        return ""
    return (f"write `weekday: {WEEKDAY_NAMES[found.group(1)]}` ({value.strip()}): weekdays are "
            "written in English, like every other value")


def _one_value_hint(parts: list[str | int], value: Any, expected: Any) -> str:
    """A list where one value is expected: say so, and for a sign-off chain that each
    signature is one role's."""
    if not isinstance(value, list) or expected != "string":
        return ""
    if "signoffs" in parts:
        return ("each signature of a sign-off chain is one role: list the roles in the order "
                "they sign, `signoffs: [safety_office, government]`")
    return "this takes one value, not a list: write one, without [ ]"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


class SchemaChecker:
    """Checks a document against the campaign JSON Schema and reports every violation."""

    def __init__(self, schema: dict[str, Any]) -> None:
        jsonschema.Draft202012Validator.check_schema(schema)
        self.schema = schema
        self._validator = jsonschema.Draft202012Validator(
            schema, format_checker=format_checker()
        )

    def check(self, document: Mapping) -> list[Problem]:
        errors = [self._focus(e) for e in self._validator.iter_errors(document)]
        # "not a real date" says nothing more about a value already "not a date" (pattern).
        mis_shaped = {tuple(e.absolute_path) for e in errors if e.validator == "pattern"}
        problems: list[Problem] = []
        for error in errors:
            if error.validator == "format" and tuple(error.absolute_path) in mis_shaped:
                continue
            problems.extend(self._explain(document, error))
        return problems

    @staticmethod
    def _focus(error: ValidationError) -> ValidationError:
        """For oneOf/anyOf, the alternative that came closest is the useful complaint."""
        while error.context:
            deeper = [e for e in error.context if len(e.absolute_path) > len(error.absolute_path)]
            candidate = best_match(deeper or error.context)
            if candidate is None or candidate is error:
                break
            if not deeper and error.validator in ("oneOf", "anyOf"):
                # Every branch failed at the same node: the one branch that takes a value of
                # this type says what is wrong with it (an empty list of roles, a date in
                # another shape); else the generic message plus the branches (e.g. "a date or
                # {phase: id}") reads better than one arbitrary branch.
                fitting = _fitting_branch(error)
                if fitting is None:
                    break
                candidate = fitting
            error = candidate
        return error

    def _explain(self, document: Mapping, error: ValidationError) -> list[Problem]:
        found = self._explained(document, error)
        parts = list(error.absolute_path)
        if error.instance is None and parts and isinstance(parts[-1], str):
            # `due: null` (or `due:` with nothing) is how one tries to remove an inherited key
            key = parts[-1]
            hint = (f"give `{key}` a value, or leave it out; to drop a `{key}` a parent "
                    f"campaign gives this item, write `drop: [{key}]` on the item")
            found = [dataclasses.replace(p, hint=hint) for p in found]
        return found

    def _explained(self, document: Mapping, error: ValidationError) -> list[Problem]:
        parts = list(error.absolute_path)
        validator = error.validator
        instance = error.instance
        schema = error.schema if isinstance(error.schema, dict) else {}

        def problem(
            message: str,
            hint: str = "",
            at: list[str | int] | None = None,
            key: bool = False,
            generic: bool = False,
        ) -> Problem:
            where = parts if at is None else at
            mark = locate(document, where, key=key)
            return Problem(mark.source, mark.line, mark.column, format_path(where), message, hint,
                           generic=generic)

        if validator == "additionalProperties" and isinstance(instance, dict):
            allowed = list(schema.get("properties", {}))
            extra = [k for k in instance if k not in allowed]
            if not allowed:
                return [
                    problem(f"{_describe(instance[k])} is not allowed for {k!r}", "", [*parts, k])
                    for k in extra
                ]
            return [
                problem(f"unknown key {k!r}", did_you_mean(k, allowed), [*parts, k], key=True)
                for k in extra
            ]
        if validator == "required":
            missing = [k for k in error.validator_value if k not in instance]
            return [problem(f"missing required key {k!r}", f"add `{k}:`") for k in missing]
        if validator == "enum":
            return [
                problem(
                    f"{_describe(instance)} is not allowed here",
                    _weekday_hint(instance, error.validator_value)
                    or did_you_mean(instance, [str(v) for v in error.validator_value]),
                )
            ]
        if validator == "const":
            return [problem(f"{_describe(instance)} must be {error.validator_value!r}")]
        if validator == "type" and _TIME_PATTERN in str(error.schema.get("pattern", "")):
            # YAML reads an unquoted 9:00 as a number of minutes (540)
            return [problem(f"expected a time of day, got {_describe(instance)}",
                            'write the time in quotes: "09:00"')]
        if validator == "type":
            expected = error.validator_value
            words = " or ".join(
                _TYPE_WORDS.get(str(t), str(t))
                for t in (expected if isinstance(expected, list) else [expected])
            )
            return [problem(f"expected {words}, got {_describe(instance)}",
                            _one_value_hint(parts, instance, expected))]
        if validator == "pattern":
            pattern = str(error.validator_value)
            if pattern == "^\\d+d$":
                return [
                    problem(
                        f"{_describe(instance)} is not a number of days",
                        "write calendar days like 30d",
                    )
                ]
            if "d|wd" in pattern:
                return [
                    problem(
                        f"{_describe(instance)} is not a duration",
                        "write days as 3d (calendar days) or 3wd (working days)",
                    )
                ]
            if _TIME_PATTERN in pattern:
                return [problem(f"{_describe(instance)} is not a time of day",
                                'write HH:MM in quotes, hours 00–23: "09:00"')]
            if "\\d{4}" in pattern:
                return [problem(f"{_describe(instance)} is not a date",
                                _date_hint(instance, document))]
            return [
                problem(
                    f"{_describe(instance)} is not a valid id",
                    "use lower-case English letters, digits and _ , starting with a letter;"
                    " Chinese names go in `name`",
                )
            ]
        if validator == "format":
            return [problem(f"{_describe(instance)} is not a real date", "write YYYY-MM-DD")]
        if validator in ("minimum", "maximum"):
            return [
                problem(
                    f"{_describe(instance)} is out of range ({validator} {error.validator_value})"
                )
            ]
        if validator in ("minItems", "minProperties"):
            return [problem("must not be empty")]
        if validator in ("maxProperties",):
            return [problem("give only one of the choices here")]
        if validator in ("oneOf", "anyOf"):
            if isinstance(instance, list) and "signoffs" in parts:
                # a step is a role or {role, when}: never several roles at once
                return [problem("expected a role, got a list",
                                _one_value_hint(parts, instance, "string"))]
            described = schema.get("description", "")
            return [
                problem(
                    f"{_describe(instance)} is not a valid value here",
                    described if isinstance(described, str) else "",
                    generic=True,
                )
            ]
        return [problem(error.message)]
