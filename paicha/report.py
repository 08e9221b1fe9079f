"""`paicha report CAMPAIGN REPORT --org ORG [--as-of DATE] [--format table|json|csv|xlsx]
[-o FILE]`: an org's report at a date from the database, as the API gives it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from api.services import campaign_loader, system_clock
from engine import texts
from engine.access import Principal
from engine.errors import PaichaError
from engine.reports import FilledForm
from paicha.database_option import add_database_option, open_database
from paicha.files import CommandFailed
from paicha.forms.dispatch import ChildReport, dispatch_csv, dispatch_xlsx
from storage import report_views, targets
from storage.calendars import CalendarCache
from storage.campaigns import CampaignRegistry

# the command reads as an admin does: it runs where the database is
READER = Principal(0, "paicha report", frozenset(), "admin")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(texts.t("cli.report.not_a_date", text=text)) from None


def cmd_report(args: argparse.Namespace) -> int:
    if args.format == "xlsx" and args.output is None:
        raise CommandFailed([texts.t("cli.report.xlsx_needs_output")])
    db = open_database(args, "report")
    try:
        registry = CampaignRegistry(campaign_loader, calendars=CalendarCache(0))
        now = system_clock()
        with db.read() as conn:
            try:
                shown = report_views.view(conn, registry, READER, campaign_id=args.campaign,
                                          report_id=args.report, org_id=args.org,
                                          as_of=args.as_of, now=now)
                found = targets.targets_at(conn, shown.campaign, shown.org, shown.as_of)
            except PaichaError as exc:
                raise CommandFailed([texts.t("cli.failed", command="report", error=exc)]) \
                    from None
    finally:
        db.dispose()
    content = _render(shown, found, args.format)
    if args.output is None:
        sys.stdout.write(content.decode("utf-8-sig") if args.format == "csv"
                         else content.decode())
        return 0
    Path(args.output).write_bytes(content)
    print(texts.t("cli.report.written", output=args.output, form=shown.form.name,
                  org=shown.org.name, as_of=shown.as_of), file=sys.stderr)
    return 0


def _render(shown: report_views.ReportView, found: list[dict[str, Any]], kind: str) -> bytes:
    if kind == "xlsx":
        children = [ChildReport(c.org.name, report_views.STATUS_CN[c.status], c.live)
                    for c in shown.children]
        return dispatch_xlsx(shown.filled, children or None)
    if kind == "csv":
        return dispatch_csv(shown.filled)
    if kind == "json":
        body = report_views.report_json(shown, found)
        return (json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n").encode()
    return table(shown, found).encode()


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def form_lines(filled: FilledForm) -> list[str]:
    """A filled form as text: its title, org and date, then each section's items."""
    lines = [filled.title, f"填报单位：{filled.org_name}    截至：{filled.as_of}    "
                           f"期间：{filled.period.label}"]
    for section in filled.sections:
        lines.append(f"【{section.name}】")
        for row in section.rows:
            figures = "，".join(
                _value(v) if len(row.figures) == 1 else f"{f.name} {_value(v)}"
                for f, v in zip(row.figures, row.values, strict=True))
            unit = f"（{row.unit}）" if row.unit else ""
            lines.append(f"  {row.number:>2}. {row.name}{unit}：{figures}")
    return lines


def table(shown: report_views.ReportView, found: list[dict[str, Any]]) -> str:
    """The report as text: the form's items with their figures, then each child's status."""
    lines = form_lines(shown.filled)
    if shown.children:
        lines.append("【下级报送情况】")
        for child in shown.children:
            lines.append(f"  {child.org.name}：{report_views.STATUS_CN[child.status]}"
                         + (f"（应报 {child.due}）" if child.due else ""))
    if found:
        lines.append("【目标】")
        for target in found:
            lines.append(f"  {target['name']}：{_value(target['value'])}（目标 {target['goal']}，"
                         f"{TARGET_CN[target['status']]}）")
    for note in shown.form.notes:
        lines.append(f"注：{note}")
    return "\n".join(lines) + "\n"


TARGET_CN = {"met": "已达成", "on_track": "进展正常", "at_risk": "有风险", "missed": "未达成"}


def register(commands: Any) -> None:
    t = texts.t
    parser = commands.add_parser("report", help=t("cli.report.help"),
                                 description=t("cli.report.description"))
    parser.add_argument("campaign", metavar="CAMPAIGN", help=t("cli.report.campaign_help"))
    parser.add_argument("report", metavar="REPORT", help=t("cli.report.report_help"))
    parser.add_argument("--org", required=True, help=t("cli.report.org_help"))
    parser.add_argument("--as-of", type=_date, metavar="DATE", help=t("cli.report.as_of_help"))
    parser.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table",
                        help=t("cli.report.format_help"))
    parser.add_argument("-o", "--output", metavar="FILE", help=t("cli.report.output_help"))
    add_database_option(parser)
    parser.set_defaults(run=cmd_report)
