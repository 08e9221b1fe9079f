"""When obligations and phases remind, and what they say: one answer for the dry run and the
live sweep, so that `paicha simulate` shows what the scheduler will send."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from engine import texts
from engine.clocks import reminder_day
from engine.dates import REMINDER_TIME, Deadlines, local_instant
from engine.model import Check, Duration, Phase
from engine.notices import counts_working_days, due_text
from engine.notices import provisional as provisional_mark

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
    when = due_text(due, today, deadlines, working=working, provisional=provisional)
    text = (texts.t("notices.check.period", name=name, period=period, when=when) if period
            else texts.t("notices.check", name=name, when=when))
    return texts.t("notices.check.times", text=text, times=times) if times > 1 else text


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
    key = "notices.phase.rolled" if due != nominal else "notices.phase"
    if provisional:
        key += ".provisional"
    return texts.t(key, name=name, nominal=nominal, provisional=provisional_mark())


def phase_deadline(phase: Phase, deadlines: Deadlines, timezone: str) -> PhaseDeadline:
    """A phase's deadline notice: 09:00 on its (rolled) due day."""
    due = deadlines.finish(phase.due)
    guessed = None
    if deadlines.uncovered(phase.due, due) is not None:
        guessed = deadlines.provisional_day(lambda d: d.finish(phase.due))[1]
    return PhaseDeadline(phase, due, local_instant(due, REMINDER_TIME, timezone), guessed)
