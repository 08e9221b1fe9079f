"""Builds the immutable Campaign model from a resolved document that passed validation."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from engine.document import plain
from engine.model import (
    ROLE_SEPARATOR,
    WEEKDAYS,
    Audience,
    Campaign,
    CaseType,
    Check,
    Clock,
    ClockDue,
    ClockEvent,
    DateRef,
    Duration,
    Escalation,
    Field,
    Figure,
    Measure,
    Overdue,
    PeriodDue,
    Phase,
    Report,
    Role,
    Row,
    Section,
    Selector,
    SignoffStep,
    State,
    Stricter,
    Target,
    Transition,
    Variant,
)
from engine.report_semantics import COMPARISONS
from engine.values import as_list


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in as_list(value))


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value))


def _opt_date(value: Any) -> dt.date | None:
    return None if value is None else _date(value)


def _duration(value: Any) -> Duration | None:
    return None if value is None else Duration.parse(str(value))


def _durations(value: Any) -> tuple[Duration, ...]:
    return tuple(Duration.parse(str(v)) for v in as_list(value))


def _date_ref(value: Any) -> DateRef:
    if isinstance(value, str):
        return DateRef(date=_date(value))
    return DateRef(
        date=_opt_date(value.get("date")),
        phase=value.get("phase"),
        after=_duration(value.get("after")),
        roll=value.get("roll"),
    )


def _period_due(value: Any) -> PeriodDue | None:
    if not isinstance(value, dict):
        return None
    weekday = value.get("weekday")
    return PeriodDue(
        day=value.get("day", "last"), month=value.get("month", "last"), roll=value.get("roll"),
        weekday=None if weekday is None else WEEKDAYS.index(weekday),
        next_week=value.get("week") == "next",
    )


def _audience(value: Any) -> Audience:
    if value == "units":
        return Audience("units")
    if value == "orgs":
        return Audience("orgs")
    if isinstance(value, dict):
        if "orgs" in value:
            return Audience("orgs", levels=_strs(value["orgs"].get("level")))
        return Audience("units", selectors=_strs(value.get("units")))
    return Audience("units", selectors=_strs(value))


def _check(item: dict[str, Any]) -> Check:
    recurring = "every" in item and item["every"] != "once"
    due = item.get("due")
    deadlines: tuple[DateRef, ...] = ()
    if not recurring:
        if due is None and item.get("phase"):
            deadlines = (DateRef(phase=item["phase"]),)
        elif due is not None:
            deadlines = tuple(_date_ref(d) for d in as_list(due))
    return Check(
        id=item["id"],
        name=item["name"],
        who=ROLE_SEPARATOR.join(_strs(item["who"])),
        audience=_audience(item["for"]),
        phase=item.get("phase"),
        every=item.get("every"),
        times=item.get("times", 1),
        start=_opt_date(item.get("start")),
        end=_opt_date(item.get("end")),
        deadlines=deadlines,
        period_due=_period_due(due) if recurring else None,
        stricter=tuple(
            Stricter(
                selectors=_strs(s["for"]),
                every=s.get("every"),
                times=s.get("times"),
                due=_period_due(s.get("due")) if "every" in item or "every" in s else None,
                deadlines=() if "every" in item or "every" in s
                else tuple(_date_ref(d) for d in as_list(s.get("due"))),
            )
            for s in as_list(item.get("stricter"))
        ),
        evidence=plain(item.get("evidence")),
        report=item.get("report"),
        basis=item.get("basis"),
        remind=_durations(item.get("remind")),
    )


def _field(name: str, item: dict[str, Any]) -> Field:
    schema = {k: plain(v) for k, v in item.items() if k not in ("labels", "remove")}
    kind = item.get("type")
    if kind == "date":
        schema.update(type="string", format="date")
    elif kind == "datetime":
        schema.update(type="string", format="date-time")
    return Field(
        name=name,
        title=item.get("title", name),
        type=kind,
        schema=schema,
        enum=tuple(item.get("enum", ())),
        labels=dict(item.get("labels", {})),
    )


def _event(value: Any) -> ClockEvent | None:
    if not isinstance(value, dict):
        return None
    return ClockEvent(enter=_strs(value.get("enter")), triggers=_strs(value.get("trigger")))


def _clock(item: dict[str, Any]) -> Clock:
    due = item["due"]
    overdue = item.get("overdue")
    return Clock(
        id=item["id"],
        name=item["name"],
        due=ClockDue(
            field=due.get("field"), after=_duration(due.get("after")), roll=due.get("roll")
        ),
        runs_in=_strs(item.get("runs_in")),
        starts_on=_event(item.get("starts_on")),
        stops_on=_event(item.get("stops_on")),
        who=_strs(item.get("who")),
        remind=_durations(item.get("remind")),
        when=plain(item.get("when")),
        overdue=None
        if not isinstance(overdue, dict)
        else Overdue(
            remind_every=_duration(overdue.get("remind_every")),
            notify=_strs(overdue.get("notify")),
            fire=overdue.get("fire"),
            escalate=tuple(
                Escalation(
                    after=Duration.parse(e["after"]),
                    notify=_strs(e.get("notify")),
                    fire=e.get("fire"),
                )
                for e in as_list(overdue.get("escalate"))
            ),
        ),
    )


def _steps(transition: dict[str, Any]) -> tuple[SignoffStep, ...]:
    """A chain's steps: each a role, or `{role, when, fields, required}`; the transition's
    `signature` ({fields, required}) is every signer's, a step's own add to it."""
    shared = transition.get("signature") or {}
    fields = {k: _field(k, v) for k, v in (shared.get("fields") or {}).items()}
    required = _strs(shared.get("required"))
    steps = []
    for step in as_list(transition.get("signoffs")):
        if isinstance(step, str):
            steps.append(SignoffStep(step, None, fields, required))
            continue
        own = {k: _field(k, v) for k, v in (step.get("fields") or {}).items()}
        steps.append(SignoffStep(
            step["role"], plain(step.get("when")), {**fields, **own},
            tuple(dict.fromkeys((*required, *_strs(step.get("required")))))))
    return tuple(steps)


def _case_type(name: str, item: dict[str, Any]) -> CaseType:
    return CaseType(
        id=name,
        name=item["name"],
        fields={k: _field(k, v) for k, v in item.get("fields", {}).items()},
        required=_strs(item.get("required")),
        initial=item["initial"],
        states={
            k: State(k, v.get("name", k), bool(v.get("final"))) for k, v in item["states"].items()
        },
        transitions=tuple(
            Transition(
                id=t.get("id", t["trigger"]),
                trigger=t["trigger"],
                name=t.get("name", t["trigger"]),
                sources=_strs(t["from"]),
                target=t.get("to"),
                who=_strs(t.get("who")),
                requires=_strs(t.get("requires")),
                when=plain(t.get("when")),
                signoffs=tuple(s.role for s in _steps(t)),
                sets=_strs(t.get("sets")),
                same_signer=t.get("same_signer") == "allowed",
                steps=_steps(t),
            )
            for t in item["transitions"]
        ),
        clocks=tuple(_clock(c) for c in as_list(item.get("clocks"))),
        opened_by=_strs(item.get("who")),
    )


def _measure(item: dict[str, Any]) -> Measure:
    where = plain(item.get("where"))
    attribute = item.get("attribute", "unit")
    within = item.get("within", "campaign")
    if "count" in item:
        return Measure("count", case=item["count"], where=where, attribute=attribute,
                       within=within)
    if "count_units" in item:
        return Measure("count_units", case=item["count_units"], where=where,
                       attribute=attribute, within=within)
    if "sum" in item:
        return Measure("sum", case=item["sum"]["case"], field=item["sum"]["field"], where=where,
                       attribute=attribute, within=within)
    checks = item["count_checks"]
    return Measure("count_checks", check=checks["check"], status=checks.get("status", "all"),
                   within=within)


def _figure(item: dict[str, Any]) -> Figure:
    manual = item.get("manual")
    return Figure(
        name=item["name"],
        measure=None if manual else _measure(item),
        manual=manual,
        unit=item.get("unit"),
    )


def _row(item: dict[str, Any]) -> Row:
    manual = item.get("manual")
    figures = tuple(_figure(f) for f in as_list(item.get("figures")))
    return Row(
        id=item["id"],
        name=item["name"],
        unit=item.get("unit"),
        measure=None if manual or figures else _measure(item),
        manual=manual,
        parts=_strs(item.get("parts")),
        figures=figures,
    )


def _sections(items: Any) -> tuple[Section, ...]:
    return tuple(
        Section(s["id"], s.get("name", ""), tuple(_row(r) for r in s.get("rows", [])))
        for s in as_list(items)
    )


def _report(name: str, item: dict[str, Any]) -> Report:
    return Report(
        id=name,
        name=item["name"],
        sections=_sections(item["sections"]),
        cumulative=bool(item.get("cumulative", False)),
        group_by=item.get("group_by", "org"),
        notes=_strs(item.get("notes")),
        period=item.get("period", "month"),
        variants=tuple(
            Variant(
                levels=_strs(v["levels"]),
                name=v["name"],
                sections=_sections(v["sections"]),
                notes=_strs(v.get("notes")),
            )
            for v in as_list(item.get("variants"))
        ),
        layout=item.get("layout", "list"),
    )


def _target(item: dict[str, Any]) -> Target:
    goal = item["goal"]
    op = next((k for k in COMPARISONS if k in goal), None)
    per = item.get("per")
    warn = _duration(item.get("warn"))
    return Target(
        id=item["id"],
        name=item["name"],
        by=_date(item["by"]),
        measure=_measure(item["measure"]),
        goal_max=goal.get("max"),
        goal_min=goal.get("min"),
        per=None if per is None else _measure(per),
        compare=None if op is None else _measure(goal[op]),
        compare_op=op,
        warn_days=30 if warn is None else warn.days,
    )


def build_campaign(doc: dict[str, Any]) -> Campaign:
    """The Campaign for a resolved, valid document."""
    return Campaign(
        id=doc["id"],
        title=doc["title"],
        issuer=doc.get("issuer"),
        document=doc.get("document"),
        extends=doc.get("extends"),
        period_start=_date(doc["period"]["start"]),
        period_end=_date(doc["period"]["end"]),
        timezone=doc.get("timezone", "Asia/Shanghai"),
        calendar=cast(Any, doc.get("calendar", "cn")),
        roll_to_working_day=doc.get("roll_to_working_day", True),
        reminders_before_rest_days=doc.get("reminders_before_rest_days", True),
        overdue_at=dt.time.fromisoformat(str(doc.get("overdue_at", "09:00"))),
        org_levels={k: v.get("name", k) for k, v in doc.get("org_levels", {}).items()},
        industries=dict(doc.get("industries", {})),
        tags=dict(doc.get("tags", {})),
        roles={k: Role(k, v["name"], v["scope"]) for k, v in doc.get("roles", {}).items()},
        selectors={
            k: Selector(
                k,
                _strs(v.get("industry")),
                _strs(v.get("tags")),
                _strs(v.get("level")),
                _strs(v.get("any")),
                v.get("not"),
            )
            for k, v in doc.get("selectors", {}).items()
        },
        phases=tuple(
            Phase(p["id"], p["name"], _date(p["due"]), _opt_date(p.get("start")))
            for p in doc.get("phases", [])
        ),
        checks=tuple(_check(c) for c in doc.get("checks", [])),
        cases={k: _case_type(k, v) for k, v in doc.get("cases", {}).items()},
        reports={k: _report(k, v) for k, v in doc.get("reports", {}).items()},
        targets=tuple(_target(t) for t in doc.get("targets", [])),
        messages={str(k): str(v) for k, v in doc.get("messages", {}).items()},
    )
