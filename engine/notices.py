"""What a deadline says to people — the one place its words are made: the real date and the days
left or overdue (12月18日到期，还有3个工作日 / 已逾期2日), and the name of each kind of notice, in
the current language (engine.texts, engine/locale/*/notices.po). The
live messages (deadlines.messages), the channels' rendering and `paicha simulate` all use it, so
a reminder pulled back across 国庆 still says the day it is due, not a count from the day it
went out ("9日后到期")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from babel.dates import format_date

from engine import texts
from engine.dates import Deadlines
from engine.model import Duration

# The kinds of notice (their names: `kind_name`, from the catalogue's notices.kind.*)
KINDS = ("remind", "overdue", "overdue_repeat", "escalate", "check_reminder", "check_due",
         "phase_due", "calendar_redated", "calendar_missing", "target_at_risk",
         "digest")  # digest: a subscription's held messages in one (deadlines.digests)


def provisional() -> str:
    """How a message marks a deadline resting on a year not yet published: 暂定."""
    return texts.t("notices.provisional")


def counts_working_days(offsets: Iterable[Duration | None]) -> bool:
    """Whether a deadline's messages count working days: one of its offsets (a clock's
    `due.after`, the `remind` offsets of a clock or a check) is in `wd`."""
    return any(o is not None and o.working for o in offsets)


def kind_name(kind: str) -> str:
    """A notice's kind as people name it (到期提醒 / Deadline reminder); an unknown kind as it
    is."""
    key = f"notices.kind.{kind}"
    return texts.t(key) if texts.has(key) else kind


def day_text(day: dt.date, today: dt.date) -> str:
    """12月18日 (Dec 18); with the year when it is not this year's (2027年1月4日)."""
    return _date(day, "notices.day" if day.year == today.year else "notices.day.other_year")


def full_day(day: dt.date) -> str:
    """A date in full: 2026年12月18日 (Dec 18, 2026)."""
    return _date(day, "notices.day.full")


def _date(day: dt.date, pattern: str) -> str:
    # the catalogue holds the CLDR pattern of each language (M月d日, MMM d); Babel fills it
    return format_date(day, format=texts.t(pattern), locale=texts.current())


def _span(days: int, working: bool) -> str:
    key = "notices.count.working" if working else "notices.count.days"
    return texts.t(f"{key}.one" if days == 1 else key, days=days)


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


def _marked(key: str, provisional_: bool) -> str:
    return f"{key}.provisional" if provisional_ else key


def due_text(due: dt.date, today: dt.date, deadlines: Deadlines | None, *, working: bool,
             provisional: bool = False) -> str:
    """A deadline not yet passed, told on `today`: 12月18日到期，还有3个工作日 (working days
    where the deadline counts them, else 日); on the day itself 今日（12月18日）到期; a
    provisional one 12月18日（暂定）到期 / 今日（12月18日，暂定）到期."""
    day, mark = day_text(due, today), texts.t("notices.provisional")
    if due <= today:
        return texts.t(_marked("notices.due.today", provisional), day=day, provisional=mark)
    left = _span(_count(today, due, deadlines, working), working)
    return texts.t(_marked("notices.due", provisional), day=day, left=left, provisional=mark)


def overdue_text(due: dt.date, today: dt.date, deadlines: Deadlines | None, *, working: bool,
                 provisional: bool = False) -> str:
    """A deadline passed, told on `today`: 12月18日到期，已逾期2个工作日 (or 日)."""
    day, mark = day_text(due, today), texts.t("notices.provisional")
    late = _count(due, today, deadlines, working)
    if not late:
        return texts.t(_marked("notices.overdue.today", provisional), day=day, provisional=mark)
    return texts.t(_marked("notices.overdue", provisional), day=day,
                   late=_span(late, working), provisional=mark)


def deadline_facts(due: dt.date, today: dt.date, deadlines: Deadlines | None, *,
                   working: bool, provisional: bool = False,
                   passed: bool | None = None) -> dict[str, object]:
    """A deadline as a message template reads it (engine.templates): the ISO date, the date in
    full (2026年12月18日), the sentence of `due_text` or `overdue_text` (`passed`: told as
    overdue; by default once `today` is after `due`), and the days left or overdue in the
    deadline's own count (working days where it counts them; never without `deadlines`), with
    the unit of that count (个工作日 / working days)."""
    overdue = due < today if passed is None else passed
    counted = working and deadlines is not None
    words = overdue_text if overdue else due_text
    return {"date": due.isoformat(), "day": full_day(due),
            "text": words(due, today, deadlines, working=counted, provisional=provisional),
            "days_left": _count(today, due, deadlines, counted),
            "days_overdue": _count(due, today, deadlines, counted), "working": counted,
            "span": texts.t("notices.span.working" if counted else "notices.span.days"),
            "overdue": overdue, "provisional": provisional}
