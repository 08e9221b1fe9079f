"""Checks a resolved campaign document for meaning: references, lifecycles, clocks and dates.

Runs on documents that may also have schema errors, so every access is defensive: a part of the
wrong shape is skipped here (the schema already reported it), never a crash.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from typing import Any

import jsonschema

from engine.case_semantics import CaseTypeChecker
from engine.condition_types import KINDS, type_problem
from engine.conditions import UNIT_KEY
from engine.document import Mapping, Mark, locate, origin_path
from engine.errors import Problem, Severity
from engine.inherit import child_site
from engine.model import ROLE_SEPARATOR, ROLE_TEXT_MAX
from engine.report_semantics import ReportChecker
from engine.schema import did_you_mean
from engine.templates import message_problems
from engine.values import as_list, parse_date

Path = list[str | int]

CASE_RESERVED_KEYS = {
    "state": "the case's state",
    "open": "true while the case is not in a final state",
    "overdue": "true while a clock of the case is past due",
    "reported_before": "reported before a date",
    "reported_after": "reported on or after a date",
    "closed_before": "reached a final state before a date",
    "closed_after": "reached a final state on or after a date",
}
_DATE_KEYS = {"reported_before", "reported_after", "closed_before", "closed_after"}
_OPERATORS = {"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "present"}


class SemanticChecker:
    """Collects every meaning problem of one resolved document."""

    def __init__(
        self, document: Mapping, removed: dict[str, tuple[Mark, str]] | None = None
    ) -> None:
        self.doc = document
        # Ids a child campaign removed: (where, path in the child). A reference the parent
        # still makes to one is reported at the removal, in the file the author can change.
        self.removed = removed or {}
        self.problems: list[Problem] = []

    # -- reporting -------------------------------------------------------------------------

    def report(
        self,
        path: Path,
        message: str,
        hint: str = "",
        *,
        key: bool = False,
        severity: Severity = "error",
    ) -> None:
        mark = locate(self.doc, path, key=key)
        where = origin_path(self.doc, path)
        site = child_site(self.doc, path, mark, must_go=hint.startswith("remove `"))
        if site is not None:
            # the parent is valid alone: what the child changed makes its part wrong, so the
            # child is told, at its own item, what it can change
            message = (f"{message} (inherited from {mark.source}:{mark.line}, "
                       f"{where})")
            hint = f"{site[2]}; {hint}" if hint else site[2]
            mark, where = site[0], site[1]
        self.problems.append(
            Problem(mark.source, mark.line, mark.column, where, message, hint, severity)
        )

    def unknown(
        self, path: Path, name: str, message: str, hint: str, *, key: bool = False
    ) -> None:
        """An unknown reference: blamed on the child's removal when that is the cause."""
        site = self.removed.get(name)
        use = locate(self.doc, path, key=key)
        if site is None or use.source == site[0].source:
            self.report(path, message, hint, key=key)
            return
        mark, where = site
        self.problems.append(Problem(
            mark.source, mark.line, mark.column, where,
            f"{name!r} is removed here but still used by the parent at "
            f"{use.source}:{use.line} ({origin_path(self.doc, path)})",
            "also override or remove the item that uses it, or keep this one"))

    def require(self, item: Any, path: Path, keys: Iterable[str], what: str) -> None:
        if not isinstance(item, dict):
            return
        for key in keys:
            if key not in item:
                self.report(path, f"{what} has no `{key}`", f"add `{key}:` here or in the parent")

    def known(
        self, value: Any, choices: Iterable[str], path: Path, what: str, owner: str = ""
    ) -> bool:
        choices = list(choices)
        if isinstance(value, str) and value not in choices:
            self.unknown(path, value, f"unknown {what} {value!r}{owner}",
                         did_you_mean(value, choices))
            return False
        return True

    def known_each(self, value: Any, choices: Iterable[str], path: Path, what: str) -> None:
        choices = list(choices)
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.known(item, choices, [*path, index], what)
        else:
            self.known(value, choices, path, what)

    # -- entry point -----------------------------------------------------------------------

    def run(self) -> list[Problem]:
        doc = self.doc
        self.roles = self._mapping_keys("roles")
        self.selectors = self._mapping_keys("selectors")
        self.levels = self._mapping_keys("org_levels")
        self.industries = self._mapping_keys("industries")
        self.tags = self._mapping_keys("tags")
        self.reports = self._mapping_keys("reports")
        cases = doc.get("cases")
        self.cases: dict[str, Any] = cases if isinstance(cases, dict) else {}
        self.period = self._period()
        self.phase_due = self._phases()
        self._roles()
        self._selectors()
        self.check_ids = self._checks()
        for name, case in self.cases.items():
            if isinstance(case, dict):
                CaseTypeChecker(self, name, case).run()
        ReportChecker(self).run()
        self.problems.extend(message_problems(self.doc))
        return self.problems

    def _mapping_keys(self, key: str) -> list[str]:
        value = self.doc.get(key)
        return [k for k in value] if isinstance(value, dict) else []

    def in_period(self, value: Any, path: Path, what: str) -> None:
        day = parse_date(value)
        if day is None or self.period is None:
            return
        start, end = self.period
        if not start <= day <= end:
            self.report(
                path,
                f"{what} {day} is outside the campaign period {start} to {end}",
                "correct the date or widen `period`",
            )

    # -- top level -------------------------------------------------------------------------

    def _period(self) -> tuple[dt.date, dt.date] | None:
        period = self.doc.get("period")
        if period is None:
            self.report(
                [],
                "the campaign has no `period`",
                "add `period: {start: YYYY-MM-DD, end: YYYY-MM-DD}`",
            )
            return None
        if not isinstance(period, dict):
            return None
        start, end = parse_date(period.get("start")), parse_date(period.get("end"))
        if start is None or end is None:
            return None
        if end < start:
            self.report(
                ["period", "end"],
                f"period ends ({end}) before it starts ({start})",
                "swap the dates",
            )
            return None
        return start, end

    def _roles(self) -> None:
        roles = self.doc.get("roles")
        if not isinstance(roles, dict):
            return
        for name, role in roles.items():
            self.require(role, ["roles", name], ["name", "scope"], f"role {name!r}")

    def _selectors(self) -> None:
        selectors = self.doc.get("selectors")
        if not isinstance(selectors, dict):
            return
        for name, selector in selectors.items():
            if not isinstance(selector, dict):
                continue
            path: Path = ["selectors", name]
            if self.industries:
                self.known_each(
                    selector.get("industry"), self.industries, [*path, "industry"], "industry"
                )
            if self.tags:
                self.known_each(selector.get("tags"), self.tags, [*path, "tags"], "tag")
            self.known_each(selector.get("level"), self.levels, [*path, "level"], "org level")
            self.known_each(selector.get("any"), self.selectors, [*path, "any"], "selector")
            self.known(selector.get("not"), self.selectors, [*path, "not"], "selector")
        self._selector_cycles(selectors)

    def _selector_cycles(self, selectors: dict[str, Any]) -> None:
        def refs(name: str) -> list[str]:
            selector = selectors.get(name)
            if not isinstance(selector, dict):
                return []
            found = [s for s in as_list(selector.get("any")) if isinstance(s, str)]
            if isinstance(selector.get("not"), str):
                found.append(selector["not"])
            return found

        for start in selectors:
            seen: set[str] = set()
            queue = deque(refs(start))
            while queue:
                current = queue.popleft()
                if current == start:
                    self.report(
                        ["selectors", start],
                        f"selector {start!r} refers to itself",
                        "a selector may not depend on itself through any/not",
                    )
                    break
                if current in seen:
                    continue
                seen.add(current)
                queue.extend(refs(current))

    def _phases(self) -> dict[str, dt.date]:
        phases = self.doc.get("phases")
        due: dict[str, dt.date] = {}
        self.phase_ids: list[str] = []
        if not isinstance(phases, list):
            return due
        self.duplicate_ids(phases, ["phases"], "phase")
        previous: tuple[str, dt.date] | None = None
        for index, phase in enumerate(phases):
            if not isinstance(phase, dict):
                continue
            path: Path = ["phases", index]
            self.require(phase, path, ["name", "due"], f"phase {phase.get('id')!r}")
            day = parse_date(phase.get("due"))
            start = parse_date(phase.get("start"))
            self.in_period(phase.get("due"), [*path, "due"], "phase deadline")
            self.in_period(phase.get("start"), [*path, "start"], "phase start")
            if day and start and start > day:
                self.report(
                    [*path, "start"],
                    f"phase starts ({start}) after its deadline ({day})",
                    "swap the dates",
                )
            if isinstance(phase.get("id"), str):
                self.phase_ids.append(phase["id"])
            if day and isinstance(phase.get("id"), str):
                due[phase["id"]] = day
                if previous and day < previous[1]:
                    self.report(
                        [*path, "due"],
                        f"phases out of order: {phase['id']!r} is due {day}, before "
                        f"the previous phase {previous[0]!r} ({previous[1]})",
                        "list phases in the order they happen, or correct the date",
                    )
                previous = (phase["id"], day)
        return due

    def duplicate_ids(self, items: list[Any], path: Path, what: str, key: str = "id") -> None:
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            ident = item.get(key, item.get("trigger")) if key == "id" else item.get(key)
            if not isinstance(ident, str):
                continue
            if ident in seen:
                self.report(
                    [*path, index, key if key in item else "trigger"],
                    f"duplicate {what} id {ident!r}",
                    f"{path[-1]}[{seen[ident]}] already uses it; ids must be unique",
                )
            else:
                seen[ident] = index

    # -- checks ----------------------------------------------------------------------------

    def _checks(self) -> list[str]:
        checks = self.doc.get("checks")
        if not isinstance(checks, list):
            return []
        self.duplicate_ids(checks, ["checks"], "check")
        ids: list[str] = []
        for index, check in enumerate(checks):
            if not isinstance(check, dict):
                continue
            if isinstance(check.get("id"), str):
                ids.append(check["id"])
            self._check(check, ["checks", index])
        return ids

    def _check(self, check: dict[str, Any], path: Path) -> None:
        what = f"check {check.get('id')!r}"
        self.require(check, path, ["name", "who", "for"], what)
        self._who(check.get("who"), [*path, "who"])
        self.audience(check.get("for"), [*path, "for"])
        self.known(check.get("phase"), self.phase_ids, [*path, "phase"], "phase")
        self.known(check.get("report"), self.reports, [*path, "report"], "report")
        every = check.get("every")
        once = every == "once"
        recurring = "every" in check and not once
        due = check.get("due")
        if "every" not in check and due is None and "phase" not in check:
            self.report(
                path,
                f"{what} has neither `due` nor `every`",
                "give a deadline (`due: 2023-06-30` or `due: {phase: self_check}`) "
                "or a recurrence (`every: month`, or `every: once` for 一次 in the campaign)",
            )
        if once and due is not None:
            self.report(
                [*path, "due"],
                f"{what} is done once (`every: once`), due on the last day of its window",
                "remove `due:`; set the window with `end: 2023-06-30` or `phase: self_check`, "
                "or make it a one-off check (no `every`) with `due: 2023-06-30`",
            )
        elif recurring:
            if due is not None and not (isinstance(due, dict) and ("day" in due
                                                                    or "weekday" in due)):
                self.report(
                    [*path, "due"],
                    f"{what} recurs every {every}, so its due must be a day in each period",
                    "write `due: {weekday: monday}`" if every == "week"
                    else "write `due: {day: 28}` or `due: {day: last}`",
                )
            elif isinstance(due, dict):
                self.period_due(due, every, [*path, "due"])
        elif not once:
            if isinstance(due, dict) and ("day" in due or "weekday" in due):
                self.report(
                    [*path, "due"],
                    f"{what} has a day-of-period due but no `every`",
                    "add `every: week` for a weekday, `every: month` (or quarter, half_year, "
                    "year) for a day",
                )
            for index, one in enumerate(as_list(due) if isinstance(due, list) else [due]):
                sub: Path = [*path, "due", index] if isinstance(due, list) else [*path, "due"]
                self.date_ref(one, sub)
            for key in ("start", "end"):
                if key in check:
                    self.report(
                        [*path, key],
                        f"`{key}` applies only to recurring checks and `every: once`",
                        "add `every:` (`once` for 一次 in a window) or remove this key",
                    )
        self.in_period(check.get("start"), [*path, "start"], "check start")
        self.in_period(check.get("end"), [*path, "end"], "check end")
        start, end = parse_date(check.get("start")), parse_date(check.get("end"))
        if start and end and end < start:
            self.report(
                [*path, "end"], f"{what} ends ({end}) before it starts ({start})", "swap the dates"
            )
        for index, variant in enumerate(as_list(check.get("stricter"))):
            if isinstance(variant, dict):
                self._variant(variant, every, [*path, "stricter", index])
        self.json_schema(check.get("evidence"), [*path, "evidence"])

    def _who(self, value: Any, path: Path) -> None:
        """A check's role, or its list of roles (各社区和各有关部门): known, each once."""
        roles = value if isinstance(value, list) else [value]
        text = ROLE_SEPARATOR.join(r for r in roles if isinstance(r, str))
        if len(text) > ROLE_TEXT_MAX:
            self.report(path, f"the role ids of one check take {len(text)} characters, more "
                              f"than the {ROLE_TEXT_MAX} an obligation keeps",
                        "list fewer roles, or give the roles shorter ids")
        if not isinstance(value, list):
            self.known(value, self.roles, path, "role")
            return
        seen: set[str] = set()
        for index, role in enumerate(value):
            if role in seen:
                self.report([*path, index], f"role {role!r} is listed twice",
                            "list each role once")
            elif self.known(role, self.roles, [*path, index], "role") and isinstance(role, str):
                seen.add(role)

    def _variant(self, variant: dict[str, Any], every: Any, path: Path) -> None:
        """A stricter variant: of a recurring check, a `once` check, or a one-off check."""
        self.known_each(variant.get("for"), self.selectors, [*path, "for"], "selector")
        if not any(key in variant for key in ("every", "times", "due")):
            self.report(path, "this stricter variant changes nothing",
                        "give it what is stricter: `every: month`, `times: 2` or an earlier "
                        "`due`")
        mine = variant.get("every")
        if mine == "once":
            self.report([*path, "every"], "a stricter variant cannot be done just once",
                        "a variant is stricter: give it a recurrence (`every: half_year`) or "
                        "more `times`")
            return
        if every is None and mine is not None:
            self.report([*path, "every"],
                        f"the check is one-off, so a variant cannot recur every {mine}",
                        "write `every: once` on the check (一次 during the campaign, or its "
                        "phase with `phase:`) and keep the variant's `every`")
            return
        due = variant.get("due")
        effective = mine or every
        if due is None:
            return
        if effective is None:
            if isinstance(due, dict) and ("day" in due or "weekday" in due):
                self.report([*path, "due"], "a one-off check's variant is due on a date",
                            "write `due: 2023-06-15` or `due: {phase: self_check}`")
            else:
                for index, one in enumerate(due if isinstance(due, list) else [due]):
                    self.date_ref(one, [*path, "due", index] if isinstance(due, list)
                                  else [*path, "due"])
        elif effective == "once":
            self.report([*path, "due"],
                        "a variant of a `once` check is due on the last day of its window",
                        "remove `due:`, or give the variant a recurrence (`every: month`) "
                        "and a day in each period")
        elif not isinstance(due, dict):
            self.report([*path, "due"],
                        f"the variant recurs every {effective}, so its due must be a day in "
                        "each period", "write `due: {day: 28}` or `due: {weekday: monday}`")
        else:
            self.period_due(due, effective, [*path, "due"])

    def audience(self, value: Any, path: Path) -> None:
        if value in ("units", "orgs"):
            return
        if isinstance(value, (str, list)):
            self.known_each(value, self.selectors, path, "selector")
        elif isinstance(value, dict):
            if "units" in value:
                self.known_each(value["units"], self.selectors, [*path, "units"], "selector")
            orgs = value.get("orgs")
            if isinstance(orgs, dict):
                self.known_each(
                    orgs.get("level"), self.levels, [*path, "orgs", "level"], "org level"
                )

    def period_due(self, due: dict[str, Any], every: Any, path: Path) -> None:
        months = {"week": 0, "month": 1, "quarter": 3, "half_year": 6, "year": 12}.get(str(every))
        month = due.get("month")
        if every == "week":
            for key in ("day", "month"):
                if key in due:
                    self.report(
                        [*path, key],
                        f"a weekly check is due on a day of the week, not `{key}`",
                        "write `due: {weekday: monday}` (周一), or leave `due:` out for the "
                        "week's last day",
                    )
        elif "weekday" in due or "week" in due:
            key = "weekday" if "weekday" in due else "week"
            self.report(
                [*path, key],
                f"`{key}` applies only to weekly checks; this one recurs every {every}",
                "use `every: week`, or a day of the month: `due: {day: 28}`",
            )
        elif isinstance(month, int) and months is not None and month > months:
            self.report(
                [*path, "month"],
                f"month {month} does not exist in a period of {months} month(s)",
                f"use a month from 1 to {months}, `last` or `next`",
            )

    def date_ref(self, value: Any, path: Path) -> None:
        if isinstance(value, str):
            self.in_period(value, path, "deadline")
        elif isinstance(value, dict):
            self.known(value.get("phase"), self.phase_ids, [*path, "phase"], "phase")
            self.in_period(value.get("date"), [*path, "date"], "deadline")

    def json_schema(self, value: Any, path: Path) -> None:
        if not isinstance(value, dict):
            return
        try:
            jsonschema.Draft202012Validator.check_schema(value)
        except jsonschema.SchemaError as exc:
            self.report(
                [*path, *exc.absolute_path],
                f"not a valid JSON Schema: {exc.message}",
                "see https://json-schema.org/understanding-json-schema/",
            )

    # -- what reports and targets use (engine.report_semantics checks them) ----------------

    def case_fields(self, case_name: str) -> dict[str, Any]:
        case = self.cases.get(case_name)
        fields = case.get("fields") if isinstance(case, dict) else None
        return fields if isinstance(fields, dict) else {}

    def case_states(self, case_name: str) -> list[str]:
        case = self.cases.get(case_name)
        states = case.get("states") if isinstance(case, dict) else None
        return list(states) if isinstance(states, dict) else []

    def condition(self, value: Any, path: Path, case_name: str, *, reserved: bool) -> None:
        """A `when` (reserved=False: it may test the unit) or a report's `where`
        (reserved=True: it may use the reserved words, not the unit); every value is checked
        against its field's type, so a condition that can never hold is an error."""
        if not isinstance(value, dict):
            return
        fields = self.case_fields(case_name)
        for key, operand in value.items():
            sub: Path = [*path, key]
            if key in ("all", "any"):
                for index, part in enumerate(as_list(operand)):
                    self.condition(part, [*sub, index], case_name, reserved=reserved)
                continue
            if key == "not":
                self.condition(operand, sub, case_name, reserved=reserved)
                continue
            if key == UNIT_KEY and key not in fields:
                if reserved:
                    self.report(sub, "`unit` tests the case's unit in a `when`; a report's "
                                "`where` cannot use it", "count by unit in the report's rows "
                                "instead, or remove `unit:`", key=True)
                else:
                    self.unit_condition(operand, sub)
                continue
            choices = list(fields) + (list(CASE_RESERVED_KEYS) if reserved else [])
            if key not in choices:
                hint = did_you_mean(key, choices)
                if not reserved and key in CASE_RESERVED_KEYS:
                    hint = f"{key!r} may be used in report filters, not in transition conditions"
                self.unknown(
                    sub, key, f"unknown field {key!r} of case type {case_name!r}", hint, key=True
                )
                continue
            if key == "state":
                values = (
                    operand
                    if not isinstance(operand, dict)
                    else operand.get(
                        "in", operand.get("eq", operand.get("not_in", operand.get("ne")))
                    )
                )
                state_path = sub if not isinstance(operand, dict) else [*sub, next(iter(operand))]
                self.known_each(values, self.case_states(case_name), state_path, "state")
                continue
            if key in _DATE_KEYS:
                if parse_date(operand) is None:
                    self.report(sub, f"{key} needs a date", "write YYYY-MM-DD")
                continue
            if key in ("open", "overdue"):
                if not isinstance(operand, bool):
                    self.report(sub, f"{key} is true or false", f"write `{key}: true`")
                continue
            self._operand(fields.get(key), operand, sub, key)

    def unit_condition(self, operand: Any, path: Path) -> None:
        """`unit:` names selectors, or is an inline selector on industry and tags."""
        if isinstance(operand, (str, list)):
            self.known_each(operand, self.selectors, path, "selector")
            for index, name in enumerate(as_list(operand)):
                self._unit_selector(name, [*path, index] if isinstance(operand, list) else path)
        elif isinstance(operand, dict):
            if self.industries:
                self.known_each(operand.get("industry"), self.industries, [*path, "industry"],
                                "industry")
            if self.tags:
                self.known_each(operand.get("tags"), self.tags, [*path, "tags"], "tag")
            self.known_each(operand.get("any"), self.selectors, [*path, "any"], "selector")
            self.known(operand.get("not"), self.selectors, [*path, "not"], "selector")
            for index, name in enumerate(as_list(operand.get("any"))):
                self._unit_selector(name, [*path, "any", index])
            self._unit_selector(operand.get("not"), [*path, "not"])

    def _unit_selector(self, name: Any, path: Path) -> None:
        selectors = self.doc.get("selectors")
        selector = selectors.get(name) if isinstance(selectors, dict) and isinstance(
            name, str) else None
        if isinstance(selector, dict) and "level" in selector:
            self.report(path, f"selector {name!r} tests an org's level: no unit matches it",
                        "name a selector on industry or tags, e.g. `{tags: city_managed}`")

    def _operand(self, field: Any, operand: Any, path: Path, name: str) -> None:
        enum = field.get("enum") if isinstance(field, dict) else None
        if isinstance(operand, dict):
            for op, arg in operand.items():
                if op not in _OPERATORS:
                    self.report(
                        [*path, op],
                        f"unknown operator {op!r}",
                        did_you_mean(op, _OPERATORS),
                        key=True,
                    )
                elif enum and op in ("eq", "ne", "in", "not_in"):
                    self._enum_values(enum, arg, [*path, op], name)
                elif op != "present":
                    self._typed(field, arg, [*path, op], name, op)
        elif enum:
            self._enum_values(enum, operand, path, name)
        else:
            self._typed(field, operand, path, name, "eq")

    def _typed(self, field: Any, operand: Any, path: Path, name: str, op: str) -> None:
        """A value compared with a field must be of the field's type: `city_managed: yes` on
        a boolean field is the text 'yes' (only true/false are booleans here), and never holds."""
        kind = field.get("type") if isinstance(field, dict) else None
        if kind not in KINDS:
            return
        for index, item in enumerate([None] if operand is None else as_list(operand)):
            where = [*path, index] if isinstance(operand, list) else path
            problem = type_problem(kind, item, op)
            if problem is not None:
                message, hint = problem
                shown = "null" if item is None else repr(item)
                self.report(where, f"{shown} is {message}, but field {name!r} is "
                            f"{KINDS[kind]}: the condition can never hold", hint)

    def _enum_values(self, enum: list[Any], value: Any, path: Path, name: str) -> None:
        for index, item in enumerate(as_list(value)):
            if item not in enum:
                where = [*path, index] if isinstance(value, list) else path
                self.report(
                    where,
                    f"{item!r} is not a value of field {name!r}",
                    did_you_mean(item, [str(e) for e in enum]),
                )
