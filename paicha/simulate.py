"""`paicha simulate`: walk a campaign on a fake clock and print everything that would fire."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable, Sequence
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
        super().__init__(texts.t("cli.events.invalid", count=len(problems)))


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
EXAMPLE = "{at: …, case: …, open|fire: …, as: role}"  # an event as one line of YAML
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
    t = texts.t

    def known(choices: Iterable[str]) -> str:
        return t("cli.events.known", choices=", ".join(choices))

    def problem(path: list[str | int], message: str, hint: str = "") -> None:
        mark = locate(document, path)
        shown = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        problems.append(Problem(mark.source, mark.line, mark.column, shown, message, hint))

    if isinstance(document, Mapping):
        for key in document:
            if key not in TOP_KEYS:
                problem([str(key)], t("cli.events.unknown_top_key", key=key),
                        did_you_mean(key, TOP_KEYS))
    if not isinstance(items, list):
        problem(["events"], t("cli.events.no_list"), t("cli.events.no_list.hint",
                                                      example=EXAMPLE))
        raise EventsInvalid(problems)
    events: list[ScriptedEvent] = []
    for index, item in enumerate(items):
        path: list[str | int] = ["events", index]
        if not isinstance(item, Mapping):
            problem(path, t("cli.events.not_a_mapping"))
            continue
        for key in item:
            if key not in EVENT_KEYS:
                problem([*path, str(key)], t("cli.events.unknown_key", key=key),
                        did_you_mean(key, EVENT_KEYS) or known(EVENT_KEYS))
        unit = item.get("unit")
        if unit is not None and unit not in known_units:
            problem([*path, "unit"], t("cli.events.unknown_unit" if known_units
                                       else "cli.events.unknown_unit.no_units", unit=unit),
                    did_you_mean(unit, known_units))
        for key in ("unit", "found_on"):
            if key in item and "fire" in item:
                problem([*path, key], t("cli.events.opening_key", key=key),
                        t("cli.events.opening_key.hint"))
        found_on = item.get("found_on")
        if found_on is not None and _day(found_on) is None:
            problem([*path, "found_on"], t("cli.events.found_on", value=found_on),
                    t("cli.events.found_on.hint"))
        at = _instant(item.get("at"), campaign.timezone)
        if at is None:
            problem([*path, "at"], t("cli.events.at"), t("cli.events.at.hint"))
        roles = item.get("as")
        role_list = [roles] if isinstance(roles, str) else roles if isinstance(roles, list) else []
        unknown = [r for r in role_list if r not in campaign.roles]
        if not role_list or unknown:
            problem([*path, "as"], t("cli.events.unknown_roles", roles=unknown) if unknown
                    else t("cli.events.no_roles"), known(campaign.roles))
        if ("open" in item) == ("fire" in item):
            problem(path, t("cli.events.open_or_fire"))
            continue
        if "open" in item and item["open"] not in campaign.cases:
            problem([*path, "open"], t("cli.events.unknown_case_type", case_type=item["open"]),
                    known(campaign.cases))
        data = item.get("data", {})
        if not isinstance(data, dict) or not isinstance(item.get("case"), str):
            problem(path, t("cli.events.case_and_data"))
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
    t = texts.t
    parser = commands.add_parser("simulate", help=t("cli.simulate.help"),
                                 description=t("cli.simulate.description"))
    parser.add_argument("file", metavar="FILE", help=t("cli.campaign_file_help"))
    parser.add_argument("--units", metavar="CSV", help=t("cli.simulate.units_help"))
    parser.add_argument("--orgs", metavar="CSV", help=t("cli.orgs_help"))
    parser.add_argument("--events", metavar="YAML", help=t("cli.simulate.events_help"))
    parser.add_argument("--from", dest="start", type=date_argument, metavar="DATE",
                        help=t("cli.simulate.from_help"))
    parser.add_argument("--to", dest="end", type=date_argument, metavar="DATE",
                        help=t("cli.simulate.to_help"))
    parser.add_argument("--no-reports", action="store_true",
                        help=t("cli.simulate.no_reports_help"))
    calendar_option(parser)
    parser.set_defaults(run=run)
