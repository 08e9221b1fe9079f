"""The messages due timers produce: a case clock's notice, an obligation's reminder, a phase's
deadline — each with the idempotency key every delivery of it carries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from engine.clocks import LATE_AFTER, Notify
from engine.model import Campaign, roles_of
from engine.reminders import check_text, phase_text
from storage.cases import StoredCase

TITLES = {"remind": "到期提醒", "overdue": "逾期通知", "overdue_repeat": "逾期提醒",
          "escalate": "升级督办", "check_reminder": "规定动作提醒", "check_due": "规定动作到期",
          "phase_due": "阶段截止", "calendar_redated": "期限重算",
          "calendar_missing": "法定节假日安排待录入", "target_at_risk": "目标预警"}


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


def for_obligation(obligation: Any, timer: Any, now: dt.datetime) -> Outgoing:
    provisional = obligation.provisional_day is not None
    text = check_text(obligation.name, obligation.period or None, obligation.due, timer.kind,
                      obligation.times, provisional=provisional)
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


def for_target(timer: Any, found: dict[str, Any], today: dt.date, now: dt.datetime) -> Outgoing:
    """A target not met `warn` days before its date, as the safety office reads it."""
    left = (found["by"] - today).days
    text = (f"{found['name']}：截至{today}为{found['value']}，目标{found['goal']}，"
            f"{found['by']}到期（还有{left}日）")
    return Outgoing(
        key=timer.key, kind="target_at_risk", title=TITLES["target_at_risk"], text=text,
        campaign=timer.campaign_id, subject=timer.subject, roles=tuple(timer.roles),
        due_date=timer.due_date, late=_late(timer.due_at, now), at=timer.due_at,
        org_path=timer.org_path, extra={"target": found["id"], "value": found["value"],
                                        "goal": found["goal"], "status": found["status"]})
