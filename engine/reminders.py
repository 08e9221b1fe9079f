"""When obligations and phases remind, and what they say: one answer for the dry run and the
live sweep, so that `paicha simulate` shows what the scheduler will send."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from engine.clocks import reminder_day
from engine.dates import REMINDER_TIME, Deadlines, local_instant
from engine.model import Check, Duration, Phase
from engine.notices import PROVISIONAL, counts_working_days, due_text

ReminderKind = Literal["check_reminder", "check_due"]

# Default reminders for checks that declare none: on the due day.
DEFAULT_CHECK_REMINDERS = (Duration(0),)


@dataclass(frozen=True)
class CheckReminder:
    """One reminder of an obligation: its kind, its instant (UTC) and its offset's label."""

    kind: ReminderKind
    at: dt.datetime
    label: str


def check_reminders(check: Check, due: dt.date, deadlines: Deadlines,
                    timezone: str) -> list[CheckReminder]:
    """The reminders of an obligation due on `due`: the check's `remind` offsets (or the due
    day) at 09:00, a rest day's moved to the working day before."""
    found: list[CheckReminder] = []
    days: set[dt.date] = set()
    for offset in check.remind or DEFAULT_CHECK_REMINDERS:
        day = reminder_day(due, offset, deadlines)
        if day in days:
            continue  # two offsets moved off rest days onto one day: one reminder, not two
        days.add(day)
        kind: ReminderKind = "check_due" if offset.days == 0 else "check_reminder"
        found.append(CheckReminder(kind, local_instant(day, REMINDER_TIME, timezone),
                                   str(offset)))
    return found


def check_counts_working_days(check: Check | None) -> bool:
    """Whether a check's reminders count working days (engine.notices)."""
    return check is not None and counts_working_days(check.remind)


def check_text(name: str, period: str | None, due: dt.date, *, today: dt.date,
               deadlines: Deadlines, working: bool, times: int,
               provisional: bool = False) -> str:
    """What a check reminder says on `today`: 报送调度表（2023-06）：6月28日到期，还有3日; on the
    due day 今日（6月28日）到期; 需完成2次 when more than once; a provisional deadline is
    marked: 2027年1月4日（暂定）到期."""
    label = f"（{period}）" if period else ""
    count = f"，需完成{times}次" if times > 1 else ""
    when = due_text(due, today, deadlines, working=working, provisional=provisional)
    return f"{name}{label}：{when}{count}"


@dataclass(frozen=True)
class PhaseDeadline:
    phase: Phase
    due: dt.date  # rolled off a rest day, if the campaign rolls
    at: dt.datetime
    provisional: dt.date | None = None  # rolled over a year nobody covers yet

    @property
    def text(self) -> str:
        return phase_text(self.phase.name, self.due, self.phase.due,
                          provisional=self.provisional is not None)


def phase_text(name: str, due: dt.date, nominal: dt.date, *, provisional: bool = False) -> str:
    """What a phase deadline says: 阶段「动员部署」今日截止（原定…，遇休息日顺延）."""
    rolled = f"（原定{nominal}，遇休息日顺延）" if due != nominal else ""
    mark = f"（{PROVISIONAL}）" if provisional else ""
    return f"阶段「{name}」今日截止{rolled}{mark}"


def phase_deadline(phase: Phase, deadlines: Deadlines, timezone: str) -> PhaseDeadline:
    """A phase's deadline notice: 09:00 on its (rolled) due day."""
    due = deadlines.finish(phase.due)
    guessed = None
    if deadlines.uncovered(phase.due, due) is not None:
        guessed = deadlines.provisional_day(lambda d: d.finish(phase.due))[1]
    return PhaseDeadline(phase, due, local_instant(due, REMINDER_TIME, timezone), guessed)
