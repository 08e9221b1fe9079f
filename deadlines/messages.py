"""The messages due timers produce: a case clock's notice, an obligation's reminder, a phase's
deadline, a target at risk — each with the idempotency key every delivery of it carries, and the
context its template reads (engine.templates lists the variables of each kind): the unit's and
org's names, the campaign's title, the case or check, the deadline as a date with the days left
or overdue, the roles that must act and the people known to hold them, and a link.

A message is worded in the language it is built in (engine.texts: the subscription's `lang`, or
the deployment's default for the log): `in_languages` builds it once per language its
destinations speak, the names of kinds and the titles from the catalogue (area `deadlines`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deadlines.context import Directory, Links, org_of
from engine import notices, texts
from engine.clocks import LATE_AFTER, Notify
from engine.dates import Deadlines, local_date
from engine.model import Campaign, CaseType, roles_of
from engine.notices import counts_working_days, kind_name
from engine.reminders import check_counts_working_days, check_text, phase_text
from storage import timers
from storage.campaigns import Published
from storage.cases import StoredCase

# how much of a case's description a message quotes
SUMMARY_LENGTH = 40
# kinds told after the deadline passed
PASSED = frozenset({"overdue", "overdue_repeat", "escalate"})
# roles of the deployment rather than of a campaign (the calendar notices'), by catalogue id
DEPLOYMENT_ROLES = {"admin": "deadlines.role.admin"}


def title(kind: str, who: str = "") -> str:
    """A message's title: its kind's name, and whom it is about (到期提醒：示例化工有限公司)."""
    return texts.t("deadlines.title", kind=kind_name(kind), who=who) if who else kind_name(kind)


@dataclass(frozen=True)
class Outgoing:
    """A message before it is addressed: what, about whom, for which roles, and where."""

    key: str
    kind: str
    title: str
    text: str
    campaign: str
    subject: str
    roles: tuple[str, ...]
    due_date: dt.date | None
    late: bool
    at: dt.datetime  # when it was due (the timer's instant), not when it was sent
    org_path: str
    extra: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    template: str | None = None  # the campaign's own template of the kind, if it has one
    lang: str = field(default_factory=texts.current)  # the language it is worded in

    def body(self, key: str) -> dict[str, Any]:
        """The JSON the outbox stores, in the shape of deadlines.channels.base.Message."""
        found = {"idempotency_key": key, "kind": self.kind, "title": self.title,
                 "text": self.text, "campaign": self.campaign, "subject": self.subject,
                 "roles": list(self.roles),
                 "due_date": self.due_date.isoformat() if self.due_date else None,
                 "late": self.late, "at": self.at.isoformat(), "extra": self.extra,
                 "context": self.context, "lang": self.lang}
        if self.template is not None:
            found["template"] = self.template
        return found


def _late(at: dt.datetime, now: dt.datetime) -> bool:
    return now - at > LATE_AFTER


def summary(text: Any, limit: int = SUMMARY_LENGTH) -> str:
    """The first `limit` characters of a description on one line, marked when cut."""
    words = " ".join(str(text or "").split())
    return words if len(words) <= limit else words[:limit - 1] + "…"


def _label(case_type: CaseType, name: str, value: Any) -> str:
    """An enumerated field's value as its label says it (重大事故隐患), else as it is."""
    found = case_type.fields.get(name)
    if value is None or found is None:
        return "" if value is None else str(value)
    return found.labels.get(str(value), str(value))


def _common(kind: str, text: str, late: bool, campaign: Campaign | None, roles: tuple[str, ...],
            org: dict[str, str], deadline: dict[str, Any], people: list[str],
            link: str) -> dict[str, Any]:
    role_names = [campaign.roles[r].name if campaign and r in campaign.roles
                  else texts.t(DEPLOYMENT_ROLES[r]) if r in DEPLOYMENT_ROLES else r
                  for r in roles]
    return {"kind_name": kind_name(kind), "text": text, "late": late,
            "roles": role_names, "people": people, "link": link,
            "campaign": {"id": campaign.id if campaign else "",
                         "title": campaign.title if campaign else ""},
            "org": org, "deadline": deadline}


def in_languages(build: Callable[[], Outgoing]) -> Callable[[str], Outgoing]:
    """A message in each language asked for: `build` called once per language, within
    `texts.use` of it (every word it makes then speaks that language)."""
    made: dict[str, Outgoing] = {}

    def worded(lang: str) -> Outgoing:
        if lang not in made:
            with texts.use(lang):
                made[lang] = build()
        return made[lang]
    return worded


def for_case(note: Notify, case: StoredCase, published: Published, at: dt.datetime,
             generation: int, *, now: dt.datetime, directory: Directory,
             links: Links) -> Outgoing:
    """A case clock's notice: the unit, the case's type and summary, the clock's deadline."""
    campaign = published.loaded.campaign
    case_type = campaign.cases[case.type]
    clock = next((c for c in case_type.clocks if c.id == note.clock_id), None)
    passed = note.kind in PASSED
    # as engine.clocks words it: a reminder from its own day, an overdue notice from today
    told = local_date(now if passed else at, campaign.timezone)
    working = clock is not None and counts_working_days([clock.due.after, *clock.remind])
    unit = directory.unit(case.unit_id)
    state = case_type.states.get(case.state)
    context = _common(
        note.kind, note.message, note.late, campaign, note.roles,
        directory.org(org_of(case.org_path)),
        notices.deadline_facts(note.due_date, told, published.deadlines, working=working,
                       provisional=note.provisional, passed=passed),
        directory.people(note.roles, unit_id=case.unit_id, org_path=case.org_path),
        links.case(case.id))
    context |= {
        "unit": unit,
        "case": {"id": case.id, "type": case.type, "type_name": case_type.name,
                 "summary": summary(case.data.get("description")),
                 "grade": _label(case_type, "grade", case.data.get("grade")),
                 "state": case.state, "state_name": state.name if state else case.state},
        "clock": {"id": note.clock_id, "name": clock.name if clock else note.clock_id}}
    return Outgoing(
        key=f"{note.key}#{generation}", kind=note.kind,
        title=title(note.kind, texts.t("deadlines.title.case", unit=unit["name"],
                                          type=case_type.name)), text=note.message,
        campaign=case.campaign_id, subject=case.id, roles=note.roles, due_date=note.due_date,
        late=note.late, at=at, org_path=case.org_path,
        extra={"case_type": case.type, "state": case.state, "unit": case.unit_id,
               "clock": note.clock_id, **({"provisional": True} if note.provisional else {})},
        context=context, template=campaign.messages.get(note.kind))


def for_obligation(obligation: Any, timer: Any, now: dt.datetime, published: Published, *,
                   directory: Directory, links: Links) -> Outgoing:
    """An obligation's reminder, worded for its own day (also when sent late) with the
    campaign version's calendar (the obligation's)."""
    provisional = obligation.provisional_day is not None
    campaign = published.loaded.campaign
    check = next((c for c in campaign.checks if c.id == obligation.check_id), None)
    today = local_date(timer.due_at, campaign.timezone)
    working = check_counts_working_days(check)
    text = check_text(obligation.name, obligation.period or None, obligation.due,
                      today=today, deadlines=published.deadlines, working=working,
                      times=obligation.times, provisional=provisional)
    roles = roles_of(obligation.role)
    unit_id = obligation.subject_id if obligation.subject_kind == "unit" else None
    org_id = obligation.subject_id if obligation.subject_kind == "org" else org_of(
        obligation.org_path)
    context = _common(
        timer.kind, text, _late(timer.due_at, now), campaign, roles, directory.org(org_id),
        notices.deadline_facts(obligation.due, today, published.deadlines, working=working,
                       provisional=provisional),
        directory.people(roles, unit_id=unit_id, org_path=obligation.org_path),
        links.obligation(obligation.id))
    unit = directory.unit(unit_id)
    context |= {"unit": unit,
                "check": {"id": obligation.check_id, "name": obligation.name,
                          "period": obligation.period or "", "times": obligation.times,
                          "done": obligation.done}}
    return Outgoing(
        key=timer.key, kind=timer.kind,
        title=title(timer.kind, unit["name"] or context["org"]["name"]), text=text,
        campaign=obligation.campaign_id, subject=f"obligation:{obligation.id}",
        roles=roles, due_date=obligation.due, late=_late(timer.due_at, now),
        at=timer.due_at, org_path=obligation.org_path,
        extra={"check": obligation.check_id, "subject_kind": obligation.subject_kind,
               "subject_id": obligation.subject_id, "period": obligation.period or None,
               "done": obligation.done, "times": obligation.times,
               **({"provisional": True} if provisional else {})},
        context=context, template=campaign.messages.get(timer.kind))


def for_phase(timer: Any, now: dt.datetime, published: Published | None = None, *,
              directory: Directory | None = None, links: Links | None = None) -> Outgoing:
    """A phase's deadline for one deployment's org."""
    data = timer.payload
    due = dt.date.fromisoformat(data["due"])
    nominal = dt.date.fromisoformat(data.get("nominal") or data["due"])
    text = phase_text(data["name"], due, nominal, provisional=bool(data.get("provisional")))
    campaign = published.loaded.campaign if published else None
    directory = directory or Directory()
    today = local_date(timer.due_at, campaign.timezone if campaign else "Asia/Shanghai")
    context = _common(
        "phase_due", text, _late(timer.due_at, now), campaign, tuple(timer.roles),
        directory.org(org_of(timer.org_path)),
        notices.deadline_facts(due, today, published.deadlines if published else None,
                               working=False, provisional=bool(data.get("provisional"))),
        directory.people(timer.roles, unit_id=None, org_path=timer.org_path),
        (links or Links()).campaign(timer.campaign_id))
    context["phase"] = {"id": data["phase"], "name": data["name"],
                        "nominal": nominal.isoformat()}
    return Outgoing(
        key=timers.phase_moment(timer.campaign_id, data["phase"], due), kind="phase_due",
        title=title("phase_due", context["org"]["name"]),
        text=text, campaign=timer.campaign_id, subject=timer.subject, roles=tuple(timer.roles),
        due_date=timer.due_date, late=_late(timer.due_at, now), at=timer.due_at,
        org_path=timer.org_path, extra={"phase": data["phase"], **(
            {"provisional": True} if data.get("provisional") else {})},
        context=context, template=campaign.messages.get("phase_due") if campaign else None)


def for_target(timer: Any, found: dict[str, Any], today: dt.date, now: dt.datetime,
               published: Published, *, directory: Directory, links: Links) -> Outgoing:
    """A target not met `warn` days before its date, as the safety office reads it."""
    deadlines: Deadlines = published.deadlines
    campaign = published.loaded.campaign
    when = notices.deadline_facts(found["by"], today, deadlines, working=False)
    text = texts.t("deadlines.target.text", name=found["name"], today=today,
                   value=found["value"], goal=found["goal"], deadline=when["text"])
    org_id = str(timer.payload.get("org") or org_of(timer.org_path))
    context = _common(
        "target_at_risk", text, _late(timer.due_at, now), campaign, tuple(timer.roles),
        directory.org(org_id), when,
        directory.people(timer.roles, unit_id=None, org_path=timer.org_path),
        links.campaign(timer.campaign_id))
    context["target"] = {"id": found["id"], "name": found["name"], "value": found["value"],
                         "goal": found["goal"]}
    return Outgoing(
        key=timer.key, kind="target_at_risk",
        title=title("target_at_risk", context["org"]["name"]), text=text,
        campaign=timer.campaign_id, subject=timer.subject, roles=tuple(timer.roles),
        due_date=timer.due_date, late=_late(timer.due_at, now), at=timer.due_at,
        org_path=timer.org_path, extra={"target": found["id"], "value": found["value"],
                                        "goal": found["goal"], "status": found["status"]},
        context=context, template=campaign.messages.get("target_at_risk"))


def calendar_context(kind: str, text: str, *, campaign: Campaign | None, roles: tuple[str, ...],
                     org: dict[str, str], due: dt.date, today: dt.date,
                     calendar: dict[str, Any], link: str = "") -> dict[str, Any]:
    """The context of a calendar notice (deadlines.recompute, deadlines.calendar_notices)."""
    context = _common(kind, text, False, campaign, roles, org,
                      notices.deadline_facts(due, today, None, working=False), [], link)
    context["calendar"] = {"year": "", "first_day": "", "from_due": "", "check": "",
                           "period": "", **calendar}
    return context
