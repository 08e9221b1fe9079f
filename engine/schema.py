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

from engine import texts
from engine.document import Mapping, format_path, locate
from engine.errors import Problem

# the JSON Schema types a message names, each by its id `campaign.type.<type>` ("a list")
_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")


def type_word(name: str) -> str:
    """A JSON Schema type as a message names it ("a list", 列表); an unknown one as it is."""
    return texts.t(f"campaign.type.{name}") if name in _TYPES else name


# The descriptions of the schema's oneOf/anyOf nodes, shown as the hint of a value none of
# their branches takes: each has its id, so that it reads in the language spoken.
_DESCRIPTIONS = {
    "Who a check is for: units (every unit), orgs (every org), a selector id, a list of "
    "selector ids (any), or {units: selector(s)} / {orgs: {level: …}}.": "audience",
    "Deadline inside each period of a recurring check: day N (or last) of month M of the "
    "period (default: its last month); month: next = the month after the period "
    "(每月15日前报上月). Weekly checks: {weekday: monday} (周一), {weekday: monday, week: next} "
    "(每周一报上周).": "period_due",
    "A deadline: a date; {phase: id} (end of the phase); {date or phase, after: duration}.":
        "date_ref",
    "The role that must do it, or several (各社区和各有关部门): each subject's obligation is "
    "done by a holder of any of them.": "who",
    "A test of the case's unit: a selector id, a list of selector ids (any of them), or an "
    "inline selector {industry, tags, any, not}.": "unit_test",
    "A figure computed from stored facts: count of cases, sum of a case field, count of units "
    "with a case, or count of check obligations by status.": "measure",
}


def described(text: str) -> str:
    """A schema node's description in the language spoken (as written when it has no id).
    Its braces are YAML (`{phase: id}`), written doubled in the catalogue: always formatted."""
    name = _DESCRIPTIONS.get(text)
    return texts.t(f"campaign.schema.{name}", literal="") if name else text


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


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The known choice closest to `word`, if one is close: what `did_you_mean` names. A
    caller that must know whether the hint names one asks this, not the hint's words (they
    are the language's)."""
    close = difflib.get_close_matches(str(word), sorted({str(c) for c in choices}), n=1,
                                      cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A hint naming the closest known choice, or listing the choices when few."""
    options = sorted({str(c) for c in choices})
    close = closest(word, options)
    if close is not None:
        return texts.t("campaign.did_you_mean", choice=close)
    if 0 < len(options) <= 8:
        return texts.t("campaign.known", choices=texts.listed(options))
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
        return texts.t("campaign.date.write_as", written=written)
    return texts.t("campaign.date.write")


def _weekday_hint(value: Any, choices: Any) -> str:
    """A weekday written in Chinese (周一, 星期一): the English name the language takes."""
    if not isinstance(value, str) or "monday" not in choices:
        return ""
    found = re.fullmatch(r"\s*(?:周|星期|礼拜)([一二三四五六日天])\s*", value)
    if found is None:
        return ""
    return texts.t("campaign.weekday.hint", weekday=WEEKDAY_NAMES[found.group(1)],
                   value=value.strip())


def _one_value_hint(parts: list[str | int], value: Any, expected: Any) -> str:
    """A list where one value is expected: say so, and for a sign-off chain that each
    signature is one role's."""
    if not isinstance(value, list) or expected != "string":
        return ""
    if "signoffs" in parts:
        return texts.t("campaign.signoffs.one_role")
    return texts.t("campaign.one_value")


def _describe(value: Any) -> str:
    if value is None:
        return texts.t("campaign.value.nothing")
    if isinstance(value, dict):
        return texts.t("campaign.value.mapping")
    if isinstance(value, list):
        return texts.t("campaign.value.list")
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
            hint = texts.t("campaign.null.hint", key=key)
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
                    problem(texts.t("campaign.not_allowed_for", value=_describe(instance[k]),
                                    key=k), "", [*parts, k])
                    for k in extra
                ]
            return [
                problem(texts.t("campaign.unknown_key", key=k), did_you_mean(k, allowed),
                        [*parts, k], key=True)
                for k in extra
            ]
        if validator == "required":
            missing = [k for k in error.validator_value if k not in instance]
            return [problem(texts.t("campaign.missing_key", key=k),
                            texts.t("campaign.missing_key.hint", key=k)) for k in missing]
        if validator == "enum":
            return [
                problem(
                    texts.t("campaign.not_allowed_here", value=_describe(instance)),
                    _weekday_hint(instance, error.validator_value)
                    or did_you_mean(instance, [str(v) for v in error.validator_value]),
                )
            ]
        if validator == "const":
            return [problem(texts.t("campaign.must_be", value=_describe(instance),
                                    expected=error.validator_value))]
        if validator == "type" and _TIME_PATTERN in str(error.schema.get("pattern", "")):
            # YAML reads an unquoted 9:00 as a number of minutes (540)
            return [problem(texts.t("campaign.time.expected", value=_describe(instance)),
                            texts.t("campaign.time.quote"))]
        if validator == "type":
            expected = error.validator_value
            words = texts.t("campaign.type.or").join(
                type_word(str(t)) for t in (expected if isinstance(expected, list) else [expected])
            )
            return [problem(texts.t("campaign.type.expected", expected=words,
                                    value=_describe(instance)),
                            _one_value_hint(parts, instance, expected))]
        if validator == "pattern":
            pattern = str(error.validator_value)
            if pattern == "^\\d+d$":
                return [
                    problem(
                        texts.t("campaign.days.invalid", value=_describe(instance)),
                        texts.t("campaign.days.hint"),
                    )
                ]
            if "d|wd" in pattern:
                return [
                    problem(
                        texts.t("campaign.duration.invalid", value=_describe(instance)),
                        texts.t("campaign.duration.hint"),
                    )
                ]
            if _TIME_PATTERN in pattern:
                return [problem(texts.t("campaign.time.invalid", value=_describe(instance)),
                                texts.t("campaign.time.hint"))]
            if "\\d{4}" in pattern:
                return [problem(texts.t("campaign.date.invalid", value=_describe(instance)),
                                _date_hint(instance, document))]
            return [
                problem(
                    texts.t("campaign.id.invalid", value=_describe(instance)),
                    texts.t("campaign.id.hint"),
                )
            ]
        if validator == "format":
            return [problem(texts.t("campaign.date.unreal", value=_describe(instance)),
                            texts.t("campaign.date.write"))]
        if validator in ("minimum", "maximum"):
            return [problem(texts.t(f"campaign.range.{validator}", value=_describe(instance),
                                    limit=error.validator_value))]
        if validator in ("minItems", "minProperties"):
            return [problem(texts.t("campaign.empty"))]
        if validator in ("maxProperties",):
            return [problem(texts.t("campaign.one_of_choices"))]
        if validator in ("oneOf", "anyOf"):
            if isinstance(instance, list) and "signoffs" in parts:
                # a step is a role or {role, when}: never several roles at once
                return [problem(texts.t("campaign.role.expected"),
                                _one_value_hint(parts, instance, "string"))]
            description = schema.get("description", "")
            return [
                problem(
                    texts.t("campaign.invalid_here", value=_describe(instance)),
                    described(description) if isinstance(description, str) else "",
                    generic=True,
                )
            ]
        # the words of jsonschema's own messages for the rest, each with its id
        if validator == "minLength" and isinstance(instance, str):
            key = "campaign.text.empty" if error.validator_value == 1 else "campaign.text.short"
            return [problem(texts.t(key, value=instance))]
        if validator == "maxLength" and isinstance(instance, str):
            key = ("campaign.text.must_be_empty" if error.validator_value == 0
                   else "campaign.text.long")
            return [problem(texts.t(key, value=instance))]
        if validator == "uniqueItems":
            return [problem(texts.t("campaign.list.repeated", value=instance))]
        return [problem(error.message)]
