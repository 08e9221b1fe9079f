"""`paicha simulate`: walk a campaign on a fake clock and print everything that would fire."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine import texts
from engine.dates import Deadlines, local_date
from engine.document import DocumentError, Mapping, locate, parse
from engine.errors import Problem
from engine.model import Campaign
from engine.orgs import Org, Unit
from engine.schema import did_you_mean
from engine.simulation import Happening, ScriptedEvent, Simulation
from paicha.calendars import calendar_option, statutory_from
from paicha.files import CommandFailed, display_name, load_for_command
from paicha.options import check_window, date_argument
from paicha.report import form_lines
from paicha.simulated_reports import SimulatedRecord
from paicha.subjects import SubjectsInvalid, load_subjects, read_text


class EventsInvalid(Exception):
    """The events file has problems; carries them located by line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the events file")


def _instant(text: Any, timezone: str) -> dt.datetime | None:
    """`2023-06-01` (09:00 local) or `2023-06-01 14:30` (local) -> aware UTC."""
    if not isinstance(text, str):
        return None
    try:
        value = dt.datetime.fromisoformat(text if len(text) > 10 else f"{text} 09:00")
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value.astimezone(dt.UTC)


# The keys an events file knows: anything else is a mistake (a typo would be ignored silently).
TOP_KEYS = ("events",)
EVENT_KEYS = ("at", "case", "open", "fire", "as", "data", "actor", "unit", "found_on")


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_events(text: str, source: str, campaign: Campaign,
                 units: Sequence[Unit] = ()) -> list[ScriptedEvent]:
    """Scripted case events from an events YAML file (format in docs/cli.md), checked
    strictly: an unknown key, or a `unit:` not in the units given, is a problem at its line."""
    try:
        document = parse(text, source)
    except DocumentError as exc:
        raise EventsInvalid(list(exc.problems)) from None
    items = document.get("events")
    problems: list[Problem] = []
    known_units = {u.id: u for u in units}

    def problem(path: list[str | int], message: str, hint: str = "") -> None:
        mark = locate(document, path)
        shown = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        problems.append(Problem(mark.source, mark.line, mark.column, shown, message, hint))

    if isinstance(document, Mapping):
        for key in document:
            if key not in TOP_KEYS:
                problem([str(key)], f"unknown key {key!r}: an events file has only `events:`",
                        did_you_mean(key, TOP_KEYS))
    if not isinstance(items, list):
        problem(["events"], "the file needs a list under `events:`",
                "write `events:` then one `- {at: …, case: …, open|fire: …, as: role}` a line")
        raise EventsInvalid(problems)
    events: list[ScriptedEvent] = []
    for index, item in enumerate(items):
        path: list[str | int] = ["events", index]
        if not isinstance(item, Mapping):
            problem(path, "each event is a mapping")
            continue
        for key in item:
            if key not in EVENT_KEYS:
                problem([*path, str(key)], f"unknown key {key!r} in an event",
                        did_you_mean(key, EVENT_KEYS) or "known: " + ", ".join(EVENT_KEYS))
        unit = item.get("unit")
        if unit is not None and unit not in known_units:
            problem([*path, "unit"], f"unknown unit {unit!r}" + (
                    "" if known_units else ": give the units with --units CSV"),
                    did_you_mean(unit, known_units))
        for key in ("unit", "found_on"):
            if key in item and "fire" in item:
                problem([*path, key], f"`{key}:` belongs to the event that opens the case",
                        "move it to the `open:` event of this case")
        found_on = item.get("found_on")
        if found_on is not None and _day(found_on) is None:
            problem([*path, "found_on"], f"found_on {found_on!r} is not a date",
                    "write 2023-12-20")
        at = _instant(item.get("at"), campaign.timezone)
        if at is None:
            problem([*path, "at"], "missing or unreadable `at`",
                    "write 2023-06-01 or 2023-06-01 14:30")
        roles = item.get("as")
        role_list = [roles] if isinstance(roles, str) else roles if isinstance(roles, list) else []
        unknown = [r for r in role_list if r not in campaign.roles]
        if not role_list or unknown:
            problem([*path, "as"], f"unknown role(s) {unknown}" if unknown else "missing `as:`",
                    "known: " + ", ".join(campaign.roles))
        if ("open" in item) == ("fire" in item):
            problem(path, "give exactly one of `open: <case type>` or `fire: <trigger>`")
            continue
        if "open" in item and item["open"] not in campaign.cases:
            problem([*path, "open"], f"unknown case type {item['open']!r}",
                    "known: " + ", ".join(campaign.cases))
        data = item.get("data", {})
        if not isinstance(data, dict) or not isinstance(item.get("case"), str):
            problem(path, "`case:` (an id) and `data:` (a mapping) are needed")
            continue
        if at is None or problems:
            continue
        events.append(ScriptedEvent(
            at=at, case=item["case"], action="open" if "open" in item else "fire",
            roles=frozenset(role_list), case_type=item.get("open"), trigger=item.get("fire"),
            data=dict(data), actor=str(item.get("actor", "")),
            unit=str(unit) if unit is not None else None, found_on=_day(found_on)))
    if problems:
        raise EventsInvalid(problems)
    return sorted(events, key=lambda e: e.at)


def format_happening(happening: Happening, campaign: Campaign) -> str:
    local = happening.at.astimezone(ZoneInfo(campaign.timezone))
    day = local_date(happening.at, campaign.timezone)
    roles = "、".join(campaign.roles[r].name if r in campaign.roles else r
                     for r in happening.roles)
    to = f"  → {roles}" if roles else ""
    return (f"{day} {texts.weekday(day)} {local:%H:%M}  {happening.kind:<15} "
            f"{happening.subject}  {happening.text}{to}")


def run(args: argparse.Namespace) -> int:
    campaign = load_for_command(Path(args.file)).campaign
    start = args.start or campaign.period_start
    end = args.end or campaign.period_end
    check_window(start, end)
    problems: list[Problem] = []
    orgs: list[Org] | None = None
    units: list[Unit] = []
    events: Sequence[ScriptedEvent] = ()
    try:
        orgs, units = load_subjects(campaign, Path(args.units) if args.units else None,
                                    Path(args.orgs) if args.orgs else None)
    except SubjectsInvalid as exc:
        problems.extend(exc.problems)
    if args.events:
        try:
            events = parse_events(read_text(Path(args.events)), display_name(Path(args.events)),
                                  campaign, units)
        except EventsInvalid as exc:
            problems.extend(exc.problems)
        except SubjectsInvalid as exc:  # the events file itself could not be read
            problems.extend(exc.problems)
    if problems:
        raise CommandFailed(sorted(problems))
    deadlines = Deadlines.for_campaign(campaign, statutory_from(args))
    count = 0
    simulation = Simulation(campaign, start, end, deadlines=deadlines)
    record: SimulatedRecord | None = None
    try:
        # A day of a year nobody covers is counted Monday to Friday and printed as 暂定.
        for happening in simulation.run([*(orgs or []), *units], events):
            print(format_happening(happening, campaign))
            count += 1
            if happening.kind == "report_due" and not args.no_reports:
                # the generator is paused at the report's moment: the cases are as they are then
                record = record or SimulatedRecord(campaign, simulation.obligations, units)
                day = local_date(happening.at, campaign.timezone)
                form = record.form(happening.subject, simulation.snapshot(), day)
                print("\n".join(f"    {line}" for line in form_lines(form)))
    finally:
        if record is not None:
            record.close()
    print(texts.t("simulate.summary", count=count, start=start, end=end), file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "simulate", help="dry-run a campaign on a fake clock",
        description="Walk the campaign day by day and print every phase deadline, check "
                    "reminder, case clock reminder, overdue notice and escalation that would "
                    "fire, with case events scripted in an events file.")
    parser.add_argument("file", metavar="FILE", help="campaign YAML file")
    parser.add_argument("--units", metavar="CSV", help="units: id,name,org,industry,tags")
    parser.add_argument("--orgs", metavar="CSV", help="orgs: id,name,level,parent")
    parser.add_argument("--events", metavar="YAML", help="scripted case events")
    parser.add_argument("--from", dest="start", type=date_argument, metavar="DATE",
                        help="first day of the window, YYYY-MM-DD (default: the campaign's "
                             "start)")
    parser.add_argument("--to", dest="end", type=date_argument, metavar="DATE",
                        help="last day of the window, YYYY-MM-DD (default: the campaign's end)")
    parser.add_argument("--no-reports", action="store_true",
                        help="do not print the reports due, only that they are due")
    calendar_option(parser)
    parser.set_defaults(run=run)
