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

from engine import texts
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

# The words a report's `where` may use besides the case's fields: the case's state, open
# (not in a final state), overdue (a clock past due), reported or closed before/after a date.
CASE_RESERVED_KEYS = ("state", "open", "overdue", "reported_before", "reported_after",
                      "closed_before", "closed_after")
_DATE_KEYS = {"reported_before", "reported_after", "closed_before", "closed_after"}
_OPERATORS = {"eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "present"}


def named(kind: str, name: object) -> str:
    """A part of the campaign named in a message: `role 'inspector'`, `clock 'rectify'`."""
    return texts.t(f"semantics.named.{kind}", name=name)


def what(kind: str) -> str:
    """The word for a kind of reference (`state`, `org level`) in the current language."""
    return texts.t(f"semantics.what.{kind.replace(' ', '_')}")


def every_word(every: object) -> str:
    """A recurrence as people read it (week, month, quarter … in the current language); a
    value that is none of them (the schema reports it) as it is written."""
    key = f"semantics.recurrence.{every}"
    return texts.t(key) if isinstance(every, str) and texts.has(key) else str(every)


def of_case_type(name: object) -> str:
    """The owner a field belongs to, appended to an unknown field: ` of case type 'hazard'`."""
    return texts.t("semantics.owner.case_type", case=name)


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
        must_go: bool = False,
    ) -> None:
        """`must_go`: the hint says to remove the key (no value of it fits): said by the
        checker, never read from the hint's wording, which is in the reader's language."""
        mark = locate(self.doc, path, key=key)
        where = origin_path(self.doc, path)
        site = child_site(self.doc, path, mark, must_go=must_go)
        if site is not None:
            # the parent is valid alone: what the child changed makes its part wrong, so the
            # child is told, at its own item, what it can change
            message = texts.t("semantics.inherited", message=message, source=mark.source,
                              line=mark.line, where=where)
            hint = texts.t("semantics.inherited.hint", site=site[2], hint=hint) if hint \
                else site[2]
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
            texts.t("semantics.removed_in_use", name=name, source=use.source, line=use.line,
                    path=origin_path(self.doc, path)),
            texts.t("semantics.removed_in_use.hint")))

    def require(self, item: Any, path: Path, keys: Iterable[str], what: str) -> None:
        if not isinstance(item, dict):
            return
        for key in keys:
            if key not in item:
                self.report(path, texts.t("semantics.required", what=what, key=key),
                            texts.t("semantics.required.hint", key=key))

    def known(
        self, value: Any, choices: Iterable[str], path: Path, kind: str, owner: str = ""
    ) -> bool:
        """Whether `value` (when a text) is one of `choices`; else reported as an unknown
        `kind` (state, role, field …) with a did-you-mean."""
        choices = list(choices)
        if isinstance(value, str) and value not in choices:
            self.unknown(path, value, texts.t("semantics.unknown", what=what(kind),
                                              value=value, owner=owner),
                         did_you_mean(value, choices))
            return False
        return True

    def known_each(self, value: Any, choices: Iterable[str], path: Path, kind: str) -> None:
        choices = list(choices)
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.known(item, choices, [*path, index], kind)
        else:
            self.known(value, choices, path, kind)

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

    def in_period(self, value: Any, path: Path, kind: str) -> None:
        """`kind`: which date (`phase_due`, `deadline` …, a `semantics.date.<kind>` id)."""
        day = parse_date(value)
        if day is None or self.period is None:
            return
        start, end = self.period
        if not start <= day <= end:
            self.report(
                path,
                texts.t("semantics.outside_period", what=texts.t(f"semantics.date.{kind}"),
                        day=day, start=start, end=end),
                texts.t("semantics.outside_period.hint"),
            )

    # -- top level -------------------------------------------------------------------------

    def _period(self) -> tuple[dt.date, dt.date] | None:
        period = self.doc.get("period")
        if period is None:
            self.report(
                [],
                texts.t("semantics.no_period"),
                texts.t("semantics.no_period.hint"),
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
                texts.t("semantics.period_reversed", start=start, end=end),
                texts.t("semantics.swap_dates"),
            )
            return None
        return start, end

    def _roles(self) -> None:
        roles = self.doc.get("roles")
        if not isinstance(roles, dict):
            return
        for name, role in roles.items():
            self.require(role, ["roles", name], ["name", "scope"], named("role", name))

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
                        texts.t("semantics.selector_cycle", name=start),
                        texts.t("semantics.selector_cycle.hint"),
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
            self.require(phase, path, ["name", "due"], named("phase", phase.get("id")))
            day = parse_date(phase.get("due"))
            start = parse_date(phase.get("start"))
            self.in_period(phase.get("due"), [*path, "due"], "phase_deadline")
            self.in_period(phase.get("start"), [*path, "start"], "phase_start")
            if day and start and start > day:
                self.report(
                    [*path, "start"],
                    texts.t("semantics.phase_reversed", start=start, due=day),
                    texts.t("semantics.swap_dates"),
                )
            if isinstance(phase.get("id"), str):
                self.phase_ids.append(phase["id"])
            if day and isinstance(phase.get("id"), str):
                due[phase["id"]] = day
                if previous and day < previous[1]:
                    self.report(
                        [*path, "due"],
                        texts.t("semantics.phases_out_of_order", phase=phase["id"], due=day,
                                previous=previous[0], previous_due=previous[1]),
                        texts.t("semantics.phases_out_of_order.hint"),
                    )
                previous = (phase["id"], day)
        return due

    def duplicate_ids(self, items: list[Any], path: Path, kind: str, key: str = "id") -> None:
        """`kind`: what the items are (phase, check, transition …, a `semantics.what.<kind>`)."""
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
                    texts.t("semantics.duplicate_id", what=what(kind), id=ident),
                    texts.t("semantics.duplicate_id.hint", list=path[-1], index=seen[ident]),
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
        what = named("check", check.get("id"))
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
                texts.t("semantics.check.no_due", what=what),
                texts.t("semantics.check.no_due.hint"),
            )
        if once and due is not None:
            self.report(
                [*path, "due"],
                texts.t("semantics.check.once_due", what=what),
                texts.t("semantics.check.once_due.hint"),
                must_go=True,
            )
        elif recurring:
            if due is not None and not (isinstance(due, dict) and ("day" in due
                                                                    or "weekday" in due)):
                self.report(
                    [*path, "due"],
                    texts.t("semantics.check.recurring_date", what=what, every=every_word(every)),
                    texts.t("semantics.check.recurring_date.hint.week") if every == "week"
                    else texts.t("semantics.check.recurring_date.hint"),
                )
            elif isinstance(due, dict):
                self.period_due(due, every, [*path, "due"])
        elif not once:
            if isinstance(due, dict) and ("day" in due or "weekday" in due):
                self.report(
                    [*path, "due"],
                    texts.t("semantics.check.day_without_every", what=what),
                    texts.t("semantics.check.day_without_every.hint"),
                )
            for index, one in enumerate(as_list(due) if isinstance(due, list) else [due]):
                sub: Path = [*path, "due", index] if isinstance(due, list) else [*path, "due"]
                self.date_ref(one, sub)
            for key in ("start", "end"):
                if key in check:
                    self.report(
                        [*path, key],
                        texts.t("semantics.check.window_one_off", key=key),
                        texts.t("semantics.check.window_one_off.hint"),
                    )
        self.in_period(check.get("start"), [*path, "start"], "check_start")
        self.in_period(check.get("end"), [*path, "end"], "check_end")
        start, end = parse_date(check.get("start")), parse_date(check.get("end"))
        if start and end and end < start:
            self.report(
                [*path, "end"], texts.t("semantics.check.reversed", what=what, start=start,
                                        end=end), texts.t("semantics.swap_dates")
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
            self.report(path, texts.t("semantics.check.roles_too_long", length=len(text),
                                      limit=ROLE_TEXT_MAX),
                        texts.t("semantics.check.roles_too_long.hint"))
        if not isinstance(value, list):
            self.known(value, self.roles, path, "role")
            return
        seen: set[str] = set()
        for index, role in enumerate(value):
            if role in seen:
                self.report([*path, index], texts.t("semantics.check.role_twice", role=role),
                            texts.t("semantics.check.role_twice.hint"))
            elif self.known(role, self.roles, [*path, index], "role") and isinstance(role, str):
                seen.add(role)

    def _variant(self, variant: dict[str, Any], every: Any, path: Path) -> None:
        """A stricter variant: of a recurring check, a `once` check, or a one-off check."""
        self.known_each(variant.get("for"), self.selectors, [*path, "for"], "selector")
        if not any(key in variant for key in ("every", "times", "due")):
            self.report(path, texts.t("semantics.variant.no_change"),
                        texts.t("semantics.variant.no_change.hint"))
        mine = variant.get("every")
        if mine == "once":
            self.report([*path, "every"], texts.t("semantics.variant.once"),
                        texts.t("semantics.variant.once.hint"))
            return
        if every is None and mine is not None:
            self.report([*path, "every"],
                        texts.t("semantics.variant.recurs_one_off", every=every_word(mine)),
                        texts.t("semantics.variant.recurs_one_off.hint"))
            return
        due = variant.get("due")
        effective = mine or every
        if due is None:
            return
        if effective is None:
            if isinstance(due, dict) and ("day" in due or "weekday" in due):
                self.report([*path, "due"], texts.t("semantics.variant.one_off_day"),
                            texts.t("semantics.variant.one_off_day.hint"))
            else:
                for index, one in enumerate(due if isinstance(due, list) else [due]):
                    self.date_ref(one, [*path, "due", index] if isinstance(due, list)
                                  else [*path, "due"])
        elif effective == "once":
            self.report([*path, "due"],
                        texts.t("semantics.variant.once_due"),
                        texts.t("semantics.variant.once_due.hint"), must_go=True)
        elif not isinstance(due, dict):
            self.report([*path, "due"],
                        texts.t("semantics.variant.recurring_date", every=every_word(effective)),
                        texts.t("semantics.variant.recurring_date.hint"))
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
                        texts.t("semantics.due.weekly", key=key),
                        texts.t("semantics.due.weekly.hint"),
                    )
        elif "weekday" in due or "week" in due:
            key = "weekday" if "weekday" in due else "week"
            self.report(
                [*path, key],
                texts.t("semantics.due.weekday_not_weekly", key=key, every=every_word(every)),
                texts.t("semantics.due.weekday_not_weekly.hint"),
            )
        elif isinstance(month, int) and months is not None and month > months:
            self.report(
                [*path, "month"],
                texts.t("semantics.due.month_outside", month=month, months=months),
                texts.t("semantics.due.month_outside.hint", months=months),
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
                texts.t("semantics.json_schema", error=exc.message),
                texts.t("semantics.json_schema.hint"),
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
                    self.report(sub, texts.t("semantics.condition.unit_in_where"),
                                texts.t("semantics.condition.unit_in_where.hint"), key=True)
                else:
                    self.unit_condition(operand, sub)
                continue
            choices = list(fields) + (list(CASE_RESERVED_KEYS) if reserved else [])
            if key not in choices:
                hint = did_you_mean(key, choices)
                if not reserved and key in CASE_RESERVED_KEYS:
                    hint = texts.t("semantics.condition.reserved_in_when", key=key)
                self.unknown(
                    sub, key, texts.t("semantics.unknown", what=what("field"), value=key,
                                      owner=of_case_type(case_name)), hint, key=True
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
                    self.report(sub, texts.t("semantics.condition.needs_date", key=key),
                                texts.t("semantics.write_date"))
                continue
            if key in ("open", "overdue"):
                if not isinstance(operand, bool):
                    self.report(sub, texts.t("semantics.condition.boolean", key=key),
                                texts.t("semantics.condition.boolean.hint", key=key))
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
            self.report(path, texts.t("semantics.condition.level_selector", name=name),
                        texts.t("semantics.condition.level_selector.hint"))

    def _operand(self, field: Any, operand: Any, path: Path, name: str) -> None:
        enum = field.get("enum") if isinstance(field, dict) else None
        if isinstance(operand, dict):
            for op, arg in operand.items():
                if op not in _OPERATORS:
                    self.report(
                        [*path, op],
                        texts.t("semantics.condition.unknown_operator", op=op),
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
                self.report(where, texts.t("semantics.condition.wrong_type", value=shown,
                                           problem=message, field=name, kind=KINDS[kind]),
                            hint)

    def _enum_values(self, enum: list[Any], value: Any, path: Path, name: str) -> None:
        for index, item in enumerate(as_list(value)):
            if item not in enum:
                where = [*path, index] if isinstance(value, list) else path
                self.report(
                    where,
                    texts.t("semantics.condition.not_in_enum", value=item, field=name),
                    did_you_mean(item, [str(e) for e in enum]),
                )
