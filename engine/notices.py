"""What a deadline says to people — the one place its words are made: the real date and the days
left or overdue (12月18日到期，还有3个工作日 / 已逾期2日), and the name of each kind of notice. The
live messages (deadlines.messages), the channels' rendering and `paicha simulate` all use it, so
a reminder pulled back across 国庆 still says the day it is due, not a count from the day it
went out ("9日后到期")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.dates import Deadlines
from engine.model import Duration

# How a message marks a deadline resting on a year not yet published: 12月18日（暂定）
PROVISIONAL = "暂定"

# The name of each kind of notice (a title, a label in a group robot's card); an unknown kind
# is shown as it is.
KIND_NAMES = {"remind": "到期提醒", "overdue": "逾期通知", "overdue_repeat": "逾期提醒",
              "escalate": "升级督办", "check_reminder": "规定动作提醒",
              "check_due": "规定动作到期", "phase_due": "阶段截止", "calendar_redated": "期限重算",
              "calendar_missing": "法定节假日安排待录入", "target_at_risk": "目标预警",
              "digest": "待办汇总"}  # a subscription's held messages in one (deadlines.digests)


def counts_working_days(offsets: Iterable[Duration | None]) -> bool:
    """Whether a deadline's messages count working days: one of its offsets (a clock's
    `due.after`, the `remind` offsets of a clock or a check) is in `wd`."""
    return any(o is not None and o.working for o in offsets)


def kind_name(kind: str) -> str:
    """The Chinese name of a notice's kind."""
    return KIND_NAMES.get(kind, kind)


def day_text(day: dt.date, today: dt.date) -> str:
    """12月18日; with the year when it is not this year's (2027年1月4日)."""
    year = f"{day.year}年" if day.year != today.year else ""
    return f"{year}{day.month}月{day.day}日"


def _span(days: int, working: bool) -> str:
    return f"{days}个工作日" if working else f"{days}日"


def working_days(after: dt.date, through: dt.date, deadlines: Deadlines) -> int:
    """The working days after `after` up to and including `through` (0 when not later)."""
    count, day = 0, after
    while day < through:
        day += dt.timedelta(days=1)
        count += deadlines.is_working_day(day)
    return count


def _count(start: dt.date, end: dt.date, deadlines: Deadlines | None, working: bool) -> int:
    if working and deadlines is not None:
        return working_days(start, end, deadlines)
    return max((end - start).days, 0)


def due_text(due: dt.date, today: dt.date, deadlines: Deadlines | None, *, working: bool,
             provisional: bool = False) -> str:
    """A deadline not yet passed, told on `today`: 12月18日到期，还有3个工作日 (working days
    where the deadline counts them, else 日); on the day itself 今日（12月18日）到期; a
    provisional one 12月18日（暂定）到期 / 今日（12月18日，暂定）到期."""
    if due <= today:
        return f"今日（{day_text(due, today)}{'，' + PROVISIONAL if provisional else ''}）到期"
    mark = f"（{PROVISIONAL}）" if provisional else ""
    left = _count(today, due, deadlines, working)
    return f"{day_text(due, today)}{mark}到期，还有{_span(left, working)}"


def overdue_text(due: dt.date, today: dt.date, deadlines: Deadlines | None, *, working: bool,
                 provisional: bool = False) -> str:
    """A deadline passed, told on `today`: 12月18日到期，已逾期2个工作日 (or 日)."""
    mark = f"（{PROVISIONAL}）" if provisional else ""
    late = _count(due, today, deadlines, working)
    return f"{day_text(due, today)}{mark}到期，已逾期{_span(late, working)}" if late else \
        f"{day_text(due, today)}{mark}到期，已逾期"


def deadline_facts(due: dt.date, today: dt.date, deadlines: Deadlines | None, *,
                   working: bool, provisional: bool = False,
                   passed: bool | None = None) -> dict[str, object]:
    """A deadline as a message template reads it (engine.templates): the ISO date, the date in
    full (2026年12月18日), the sentence of `due_text` or `overdue_text` (`passed`: told as
    overdue; by default once `today` is after `due`), and the days left or overdue in the
    deadline's own count (working days where it counts them; never without `deadlines`)."""
    overdue = due < today if passed is None else passed
    counted = working and deadlines is not None
    words = overdue_text if overdue else due_text
    return {"date": due.isoformat(), "day": f"{due.year}年{due.month}月{due.day}日",
            "text": words(due, today, deadlines, working=counted, provisional=provisional),
            "days_left": _count(today, due, deadlines, counted),
            "days_overdue": _count(due, today, deadlines, counted), "working": counted,
            "span": "个工作日" if counted else "日", "overdue": overdue,
            "provisional": provisional}
