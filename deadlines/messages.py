"""The messages due timers produce: a case clock's notice, an obligation's reminder, a phase's
deadline — each with the idempotency key every delivery of it carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from engine.clocks import LATE_AFTER, Notify
from engine.dates import Deadlines, local_date
from engine.model import Campaign, roles_of
from engine.notices import KIND_NAMES, due_text
from engine.reminders import check_counts_working_days, check_text, phase_text
from storage.campaigns import Published
from storage.cases import StoredCase

# the titles are the kinds' names (engine.notices, where every word of a deadline is made)
TITLES = KIND_NAMES


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

    def body(self, key: str) -> dict[str, Any]:
        """The JSON the outbox stores, in the shape of deadlines.channels.base.Message."""
        return {"idempotency_key": key, "kind": self.kind, "title": self.title,
                "text": self.text, "campaign": self.campaign, "subject": self.subject,
                "roles": list(self.roles),
                "due_date": self.due_date.isoformat() if self.due_date else None,
                "late": self.late, "at": self.at.isoformat(), "extra": self.extra}


def _late(at: dt.datetime, now: dt.datetime) -> bool:
    return now - at > LATE_AFTER


def for_case(note: Notify, case: StoredCase, campaign: Campaign, at: dt.datetime,
             generation: int) -> Outgoing:
    case_type = campaign.cases[case.type]
    return Outgoing(
        key=f"{note.key}#{generation}", kind=note.kind,
        title=f"{TITLES.get(note.kind, note.kind)}：{case_type.name}", text=note.message,
        campaign=case.campaign_id, subject=case.id, roles=note.roles, due_date=note.due_date,
        late=note.late, at=at, org_path=case.org_path,
        extra={"case_type": case.type, "state": case.state, "unit": case.unit_id,
               "clock": note.clock_id, **({"provisional": True} if note.provisional else {})})


def for_obligation(obligation: Any, timer: Any, now: dt.datetime, published: Published
                   ) -> Outgoing:
    """An obligation's reminder, worded for its own day (also when sent late) with the
    campaign version's calendar (the obligation's)."""
    provisional = obligation.provisional_day is not None
    campaign = published.loaded.campaign
    check = next((c for c in campaign.checks if c.id == obligation.check_id), None)
    text = check_text(obligation.name, obligation.period or None, obligation.due,
                      today=local_date(timer.due_at, campaign.timezone),
                      deadlines=published.deadlines,
                      working=check_counts_working_days(check), times=obligation.times,
                      provisional=provisional)
    return Outgoing(
        key=timer.key, kind=timer.kind, title=TITLES.get(timer.kind, timer.kind), text=text,
        campaign=obligation.campaign_id, subject=f"obligation:{obligation.id}",
        roles=roles_of(obligation.role), due_date=obligation.due, late=_late(timer.due_at, now),
        at=timer.due_at, org_path=obligation.org_path,
        extra={"check": obligation.check_id, "subject_kind": obligation.subject_kind,
               "subject_id": obligation.subject_id, "period": obligation.period or None,
               "done": obligation.done, "times": obligation.times,
               **({"provisional": True} if provisional else {})})


def for_phase(timer: Any, now: dt.datetime) -> Outgoing:
    data = timer.payload
    text = phase_text(data["name"], dt.date.fromisoformat(data["due"]),
                      dt.date.fromisoformat(data.get("nominal") or data["due"]),
                      provisional=bool(data.get("provisional")))
    return Outgoing(
        key=timer.key, kind="phase_due", title=TITLES["phase_due"], text=text,
        campaign=timer.campaign_id, subject=timer.subject, roles=tuple(timer.roles),
        due_date=timer.due_date, late=_late(timer.due_at, now), at=timer.due_at,
        org_path=timer.org_path, extra={"phase": data["phase"], **(
            {"provisional": True} if data.get("provisional") else {})})


def for_target(timer: Any, found: dict[str, Any], today: dt.date, now: dt.datetime,
               deadlines: Deadlines) -> Outgoing:
    """A target not met `warn` days before its date, as the safety office reads it."""
    when = due_text(found["by"], today, deadlines, working=False)
    text = f"{found['name']}：截至{today}为{found['value']}，目标{found['goal']}，{when}"
    return Outgoing(
        key=timer.key, kind="target_at_risk", title=TITLES["target_at_risk"], text=text,
        campaign=timer.campaign_id, subject=timer.subject, roles=tuple(timer.roles),
        due_date=timer.due_date, late=_late(timer.due_at, now), at=timer.due_at,
        org_path=timer.org_path, extra={"target": found["id"], "value": found["value"],
                                        "goal": found["goal"], "status": found["status"]})
