"""`paicha calendar show | check | add`: the statutory calendar's years, and adding a year from
the State Council's notice; `--calendar FILE` for the commands that compute dates offline."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from api.services import campaign_loader, system_clock
from deadlines.recompute import Recompute
from deadlines.sweep import database_now
from engine import texts
from engine.errors import CalendarInvalid, PaichaError, Problem
from engine.schedules import read_schedule
from engine.workdays import StatutoryCalendar, YearSchedule
from paicha.database_option import add_database_option, open_database
from paicha.files import CommandFailed, display_name, read_text_file
from storage import calendars
from storage.calendars import CalendarCache
from storage.campaigns import CampaignRegistry


def schedules_from(paths: Iterable[str]) -> list[YearSchedule]:
    """The years of calendar files; CommandFailed with every problem of every file."""
    found: list[YearSchedule] = []
    problems: list[Problem] = []
    for name in paths:
        path = Path(name)
        try:
            found.append(read_schedule(read_text_file(path), display_name(path)))
        except CalendarInvalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise CommandFailed(problems)
    return found


def statutory_from(args: argparse.Namespace) -> StatutoryCalendar:
    """The statutory calendar with the years of the command's `--calendar` files."""
    return StatutoryCalendar(schedules_from(getattr(args, "calendars", None) or []))


def calendar_option(parser: argparse.ArgumentParser) -> None:
    """`--calendar FILE` (repeatable): a year's schedule beyond the package's, for a command
    that computes dates without a database."""
    parser.add_argument("--calendar", dest="calendars", action="append", metavar="FILE",
                        help=texts.t("cli.calendar.option_help"))


def cmd_check(args: argparse.Namespace) -> int:
    schedules = schedules_from(args.files)
    for schedule in schedules:
        days = sum(len(tuple(h.days())) for h in schedule.holidays)
        print(texts.t("cli.calendar.checked", year=schedule.year,
                      holidays=len(schedule.holidays), days=days,
                      workdays=len(schedule.workdays), source=schedule.source))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    files = [(Path(name), read_text_file(Path(name))) for name in args.files]
    db = open_database(args, "calendar add", writes=True)
    try:
        added: list[Any] = []
        problems: list[Problem] = []
        with db.write() as conn:
            for path, text in files:
                try:
                    added.append(calendars.add_year(conn, text, display_name(path),
                                                    by=args.by, now=system_clock()))
                except CalendarInvalid as exc:
                    problems.extend(exc.problems)
            if problems:
                raise CalendarInvalid(problems)  # nothing of the run stays
        for row, created in added:
            print(texts.t("cli.calendar.added" if created else "cli.calendar.unchanged",
                          year=row.year, version=row.version, source=row.schedule.source),
                  file=sys.stderr)
        # Recompute what waited for the years now, not at the scheduler's next sweeps.
        registry = CampaignRegistry(campaign_loader, calendars=CalendarCache(0))
        redone = Recompute(db, registry, clock=database_now).run(max_batches=1_000_000)
        print(texts.t("cli.calendar.recomputed", clocks=redone.clocks, moved=redone.moved,
                      obligations=redone.obligations, phases=redone.phases, told=redone.told),
              file=sys.stderr)
    except CalendarInvalid as exc:
        raise CommandFailed(exc.problems) from None
    except PaichaError as exc:
        raise CommandFailed([texts.t("cli.failed", command="calendar add", error=exc)]) \
            from None
    finally:
        db.dispose()
    return 0


def _table(years: Sequence[dict[str, Any]]) -> None:
    for item in years:
        version = f"v{item['version']}" if item.get("version") else ""
        added = ("  " + texts.t("cli.calendar.added_by", at=item["added_at"],
                                by=item["added_by"]) if item.get("added_at") else "")
        print(f"{item['year']}  {item['covered_by']:<7}  {version:<4}  {item['source']}{added}")


def cmd_show(args: argparse.Namespace) -> int:
    db = open_database(args, "calendar show")
    try:
        with db.read() as conn:
            years = calendars.coverage(conn)
    finally:
        db.dispose()
    if args.json:
        json.dump(years, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
    else:
        _table(years)
    last = max(item["year"] for item in years)
    print(texts.t("cli.calendar.known", years=len(years), last=last), file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    t = texts.t
    parser = commands.add_parser("calendar", help=t("cli.calendar.help"),
                                 description=t("cli.calendar.description"))
    actions = parser.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help=t("cli.calendar.show.help"))
    show.add_argument("--json", action="store_true", help=t("cli.calendar.show.json_help"))
    add_database_option(show)
    show.set_defaults(run=cmd_show)
    check = actions.add_parser("check", help=t("cli.calendar.check.help"),
                               description=t("cli.calendar.check.description"))
    check.add_argument("files", nargs="+", metavar="FILE",
                       help=t("cli.calendar.check.files_help"))
    check.set_defaults(run=cmd_check)
    add = actions.add_parser("add", help=t("cli.calendar.add.help"),
                             description=t("cli.calendar.add.description"))
    add.add_argument("files", nargs="+", metavar="FILE", help=t("cli.calendar.add.files_help"))
    add.add_argument("--by", default="paicha calendar add", help=t("cli.calendar.add.by_help"))
    add_database_option(add)
    add.set_defaults(run=cmd_add)
