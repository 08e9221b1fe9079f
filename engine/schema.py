"""Schema validation of a campaign document, with errors a policy officer can act on."""

from __future__ import annotations

import datetime as dt
import difflib
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
                # Every branch failed at the same node: the generic message plus the branches
                # (e.g. "a date or {phase: id}") reads better than one arbitrary branch.
                break
            error = candidate
        return error

    def _explain(self, document: Mapping, error: ValidationError) -> list[Problem]:
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
                    did_you_mean(instance, [str(v) for v in error.validator_value]),
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
            return [problem(f"expected {words}, got {_describe(instance)}")]
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
                return [problem(f"{_describe(instance)} is not a date", "write YYYY-MM-DD")]
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
            described = schema.get("description", "")
            return [
                problem(
                    f"{_describe(instance)} is not a valid value here",
                    described if isinstance(described, str) else "",
                    generic=True,
                )
            ]
        return [problem(error.message)]
