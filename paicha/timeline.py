"""`paicha timeline`: every phase deadline and obligation of a campaign for given units and orgs."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import heapq
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from engine import texts
from engine.checks import Expander, Obligation
from engine.dates import Deadlines
from engine.model import Campaign, DateRef
from engine.orgs import Org, Unit
from paicha.calendars import calendar_option, statutory_from
from paicha.cells import neutral_row
from paicha.files import CommandFailed, load_for_command
from paicha.options import check_window, date_argument
from paicha.subjects import SubjectsInvalid, load_subjects

CSV_COLUMNS = (
    "due", "weekday", "kind", "subject_kind", "subject_id", "subject", "role", "role_name",
    "item", "item_name", "period", "period_first", "period_last", "times", "variant",
    "nominal_due", "note",
)  # fmt: skip
TABLE_COLUMNS = ("due", "day", "subject", "role", "check", "period", "note")
ALL_SUBJECTS = "—"


@dataclass(frozen=True)
class Entry:
    """One line of a timeline: a phase deadline, or one obligation of one unit or org."""

    due: dt.date
    nominal: dt.date
    kind: str  # 'phase' or 'check'
    subject_kind: str  # 'unit', 'org', or '' for a phase (it concerns everyone)
    subject_id: str
    subject: str
    role: str
    role_name: str
    item: str
    item_name: str
    period: str = ""
    first: dt.date | None = None
    last: dt.date | None = None
    times: int = 1
    variant: str = ""
    # the first day of a year nobody covers that the due date was counted over
    provisional: dt.date | None = None

    @property
    def weekday(self) -> str:
        """The due date's weekday as people write it (周一 … 周日; Mon … Sun in English)."""
        return texts.weekday(self.due)

    @property
    def note(self) -> str:
        """What a reader should know beyond the columns: variant, times, rolling (in the
        reader's language, engine.texts)."""
        parts = []
        if self.kind == "phase":
            parts.append(texts.t("timeline.phase_ends"))
        if self.variant:
            parts.append(self.variant)
        if self.times > 1:
            parts.append(texts.t("timeline.times", times=self.times))
        if self.due != self.nominal:
            parts.append(texts.t("timeline.rolled", nominal=self.nominal.isoformat()))
        if self.provisional is not None:
            parts.append(texts.t("timeline.provisional", year=self.provisional.year))
        return texts.listed(parts, "list.semicolon")


def phase_entries(
    campaign: Campaign,
    deadlines: Deadlines,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Entry]:
    """The campaign's phase deadlines, rolled per its rule, within `start`..`end`."""
    entries = []
    for phase in campaign.phases:
        ref = DateRef(phase=phase.id)
        due = deadlines.resolve(ref, campaign)
        guessed = None
        if deadlines.uncovered(phase.due, due) is not None:
            guessed = deadlines.provisional_day(lambda d: d.resolve(ref, campaign))[1]  # noqa: B023
        if (start is None or due >= start) and (end is None or due <= end):
            entries.append(
                Entry(due, phase.due, "phase", "", "", ALL_SUBJECTS, "", "", phase.id,
                      phase.name, provisional=guessed)
            )
    return sorted(entries, key=lambda e: e.due)


def timeline(
    campaign: Campaign,
    units: Sequence[Unit],
    orgs: Sequence[Org],
    deadlines: Deadlines,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Iterator[Entry]:
    """Phase deadlines and obligations, by date, then phases, orgs and units by id."""
    names = {("unit", u.id): u.name for u in units} | {("org", o.id): o.name for o in orgs}
    expander = Expander(campaign, deadlines, start=start, end=end)

    def entry(o: Obligation) -> Entry:
        return Entry(
            due=o.due,
            nominal=o.nominal,
            kind="check",
            subject_kind=o.subject_kind,
            subject_id=o.subject,
            subject=names[o.subject_kind, o.subject],
            role=o.role,
            role_name="、".join(campaign.roles[r].name if r in campaign.roles else r
                               for r in o.roles),
            item=o.check,
            item_name=o.name,
            period=o.period or "",
            first=o.first,
            last=o.last,
            times=o.times,
            variant=o.variant or "",
            provisional=o.provisional,
        )

    checks = map(entry, expander.by_date([*orgs, *units]))
    phases = phase_entries(campaign, deadlines, start=start, end=end)
    yield from heapq.merge(phases, checks, key=lambda e: (e.due, e.kind != "phase"))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def write_table(
    entries: Iterable[Entry],
    out: TextIO,
    *,
    campaign: Campaign,
    subject_names: Iterable[str],
) -> int:
    """Print entries as an aligned table (widths known up front, so it streams); return rows."""
    heads = [texts.t(f"cli.timeline.column.{column}") for column in TABLE_COLUMNS]
    widths = [
        max(10, _width(heads[0])),
        max(4, _width(heads[1])),
        max(map(_width, [ALL_SUBJECTS, heads[2], *subject_names])),
        max(map(_width, [heads[3], *(r.name for r in campaign.roles.values())])),
        max(
            map(
                _width,
                [heads[4], *(c.name for c in campaign.checks), *(p.name for p in campaign.phases)],
            )
        ),
        max(8, _width(heads[5])),
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [_pad(c, w) for c, w in zip(cells, widths, strict=False)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    out.write(line(heads) + "\n")
    count = 0
    for e in entries:
        cells = (
            e.due.isoformat(),
            e.weekday,
            e.subject,
            e.role_name,
            e.item_name,
            e.period,
            e.note,
        )
        out.write(line(cells) + "\n")
        count += 1
    return count


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def write_csv(entries: Iterable[Entry], out: TextIO) -> int:
    """Write entries as CSV with a header row; return the number of rows. A cell a
    spreadsheet would run as a formula is written as text (paicha.cells)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for e in entries:
        writer.writerow(neutral_row(
            [e.due.isoformat(), e.weekday, e.kind, e.subject_kind, e.subject_id, e.subject,
             e.role, e.role_name, e.item, e.item_name, e.period, _iso(e.first), _iso(e.last),
             e.times, e.variant, e.nominal.isoformat(), e.note]
        ))  # fmt: skip
        count += 1
    return count


def cmd_timeline(args: argparse.Namespace) -> int:
    """Run `paicha timeline`."""
    campaign = load_for_command(Path(args.file), warn=False).campaign
    check_window(args.start, args.end)
    try:
        orgs, units = load_subjects(campaign, Path(args.units),
                                    Path(args.orgs) if args.orgs else None)
    except SubjectsInvalid as exc:
        raise CommandFailed(exc.problems) from None
    entries = timeline(
        campaign, units, orgs or [], Deadlines.for_campaign(campaign, statutory_from(args)),
        start=args.start, end=args.end,
    )  # fmt: skip
    if args.csv:
        count = write_csv(entries, sys.stdout)
    else:
        names = [u.name for u in units] + [o.name for o in orgs or []]
        count = write_table(entries, sys.stdout, campaign=campaign, subject_names=names)
    print(texts.t("timeline.summary", lines=count, units=len(units), orgs=len(orgs or []),
                  phases=len(campaign.phases)), file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    """Add the `timeline` subcommand."""
    t = texts.t
    parser = commands.add_parser("timeline", help=t("cli.timeline.help"),
                                 description=t("cli.timeline.description"))
    parser.add_argument("file", metavar="FILE", help=t("cli.campaign_file_help"))
    parser.add_argument("--units", required=True, metavar="CSV", help=t("cli.timeline.units_help"))
    parser.add_argument("--orgs", metavar="CSV", help=t("cli.orgs_help"))
    parser.add_argument("--csv", action="store_true", help=t("cli.timeline.csv_help"))
    parser.add_argument("--from", dest="start", type=date_argument, metavar="DATE",
                        help=t("cli.timeline.from_help"))
    parser.add_argument("--to", dest="end", type=date_argument, metavar="DATE",
                        help=t("cli.timeline.to_help"))
    calendar_option(parser)
    parser.set_defaults(run=cmd_timeline)
