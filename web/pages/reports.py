"""调度表: an org's report at a date (the form's rows with the API's figures), its children
with a link down to each and who has not submitted, filing the org's report with its manual
figures, and the report and the ledgers (台账) as the paper forms' XLSX.

Everything shown or filed goes through the API (GET and POST /campaigns/{id}/reports/…): the
page shows the very figures the API gives. The campaigns' models are read only to offer their
reports by name and to know the campaign's local date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import services_of
from api.services import Services, run_db
from engine.access import Principal
from engine.dates import local_date, runs_on
from web.client import Answer, Api
from web.forms import FormField, field_errors, values_from_form
from web.render import refusal, refused, render
from web.session import Checked, SignedIn

router = APIRouter(prefix="/ui")
# a refused page in this section's words (the API's may name an org the person may not see)
REFUSED = {"forbidden": "web.reports.forbidden", "not_found": "web.reports.not_found"}

# Ids of campaigns and reports as the campaign language allows them; anything else names no
# report (and never reaches the API as part of a path).
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LEDGERS = ("rectification_ledger", "work_ledger", "inspection_list")
# a manual figure's type (engine.reports) as the JSON Schema of its form field
MANUAL_SCHEMA: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer", "minimum": 0},
    "number": {"type": "number", "minimum": 0},
    "boolean": {"type": "boolean"},
    "text": {"type": "string", "maxLength": 4000},
}
# a report asked for that is none of those offered: its 404
_NOT_FOUND = Answer(404, {}, b"")
STATUS_BADGE = {"submitted": "ok", "late": "warn", "missing": "bad", "not_yet": ""}


@dataclass(frozen=True)
class Choice:
    """What the page shows: a campaign's report for an org at a date."""

    campaign: str
    report: str
    org: str | None
    as_of: str

    def params(self, **changed: str | None) -> dict[str, str]:
        found = {"campaign": self.campaign, "report": self.report, "org": self.org or "",
                 "as_of": self.as_of, **{k: v or "" for k, v in changed.items()}}
        return {k: v for k, v in found.items() if v}

    def href(self, path: str = "/ui/reports", **changed: str | None) -> str:
        return f"{path}?{urlencode(self.params(**changed))}"


@dataclass(frozen=True)
class Offered:
    """The campaigns deployed at or above the person's org, each with its reports."""

    campaigns: list[dict[str, Any]]  # campaign, title, org (where deployed), timezone, reports


@router.get("/reports")
async def read_report(request: Request, session: SignedIn) -> Response:
    principal = session.principal
    if principal.scope_kind == "unit":
        return refused(request, "web.reports.forbidden")
    api = Api(request, principal)
    offered = await _offered(request, api, principal)
    choice = _choice(request.query_params, offered, principal, request)
    if choice is None:
        if request.query_params.get("campaign"):
            return refusal(request, _NOT_FOUND, **REFUSED)
        return render(request, "reports/none.html")
    notice = request.query_params.get("submitted") == "1"
    return await _page(request, api, offered, choice, notice=notice)


@router.post("/reports/submissions")
async def submit_report(request: Request, session: Checked) -> Response:
    principal = session.principal
    if principal.scope_kind == "unit":
        return refused(request, "web.reports.forbidden")
    api = Api(request, principal)
    offered = await _offered(request, api, principal)
    form = await request.form()
    choice = _choice(form, offered, principal, request)
    if choice is None:
        return refusal(request, _NOT_FOUND, not_found="web.reports.not_found")
    shown = await _report(api, choice)
    if not shown.ok:
        return await _page(request, api, offered, choice, answer=shown)
    fields = manual_fields(shown.json())
    body = {"period": str(form.get("period") or shown.json()["period"]),
            "figures": values_from_form(form, fields)}
    answer = await api.post(f"/campaigns/{choice.campaign}/reports/{choice.report}/submissions",
                            body, {"org": shown.json()["org"]["id"]})
    if answer.ok:
        return RedirectResponse(choice.href(submitted="1"), status_code=303)
    posted = {f.name: form.get(f.name) for f in fields}
    return await _page(request, api, offered, choice, answer=shown, values=posted,
                       problem=answer.problem, status=answer.status)


@router.get("/reports/download")
async def download_report(request: Request, session: SignedIn) -> Response:
    """The report as the API gives it in the paper form's layout (XLSX), its bytes as they
    are, with the API's media type and file name."""
    if session.principal.scope_kind == "unit":
        return refused(request, "web.reports.forbidden")
    api = Api(request, session.principal)
    offered = await _offered(request, api, session.principal)
    choice = _choice(request.query_params, offered, session.principal, request)
    if choice is None:
        return refusal(request, _NOT_FOUND, not_found="web.reports.not_found")
    answer = await api.get(f"/campaigns/{choice.campaign}/reports/{choice.report}",
                           {"org": choice.org, "as_of": choice.as_of, "format": "xlsx"})
    return _file(request, answer)


@router.get("/reports/ledgers/{ledger}")
async def download_ledger(request: Request, ledger: str, session: SignedIn) -> Response:
    """A ledger (台账) of the org's subtree as the API's XLSX."""
    if session.principal.scope_kind == "unit":
        return refused(request, "web.reports.forbidden")
    api = Api(request, session.principal)
    offered = await _offered(request, api, session.principal)
    choice = _choice(request.query_params, offered, session.principal, request)
    if choice is None or ledger not in LEDGERS:
        return refusal(request, _NOT_FOUND, not_found="web.reports.not_found")
    answer = await api.get(f"/campaigns/{choice.campaign}/ledgers/{ledger}",
                           {"org": choice.org, "format": "xlsx"})
    return _file(request, answer)


# -- what the page shows ---------------------------------------------------------------------

async def _page(request: Request, api: Api, offered: Offered, choice: Choice, *,
                answer: Answer | None = None, values: dict[str, Any] | None = None,
                problem: dict[str, Any] | None = None, status: int = 200,
                notice: bool = False) -> Response:
    shown = answer if answer is not None else await _report(api, choice)
    if shown.status in (403, 404):
        return refusal(request, shown, **REFUSED)
    report = shown.json() if shown.ok else None
    fields = manual_fields(report) if report else []
    errors = field_errors(problem or {}, [f.name for f in fields])
    if report is not None and values is None:
        values = {f.name: report["figures"].get(f.name) for f in fields}
    campaign = next(c for c in offered.campaigns if c["campaign"] == choice.campaign)
    children = [{**c, "href": choice.href(org=c["org"]["id"])}
                for c in (report["children"] if report else [])]
    return render(
        request, "reports/report.html", status=status if shown.ok else shown.status,
        offered=offered.campaigns, campaign=campaign, choice=choice, report=report,
        filter_problem=shown.problem, form_sections=_sections(report) if report else [],
        children=children,
        not_submitted=[c for c in children if c["submitted"] is None],
        fields=fields, values=values or {}, errors=errors,
        problem=problem or {}, notice=notice, badges=STATUS_BADGE,
        up_href=(choice.href(org=None) if choice.org and report
                 and choice.org != _home_org(api.principal, campaign) else None),
        xlsx_href=choice.href("/ui/reports/download", org=report["org"]["id"]
                              if report else choice.org),
        ledgers=[(name, choice.href(f"/ui/reports/ledgers/{name}", as_of=None,
                                    report=None, org=report["org"]["id"]
                                    if report else choice.org)) for name in LEDGERS])


def manual_fields(report: dict[str, Any]) -> list[FormField]:
    """The figures the org enters itself, as form fields (their types as JSON Schema)."""
    found = []
    for row in report["rows"]:
        for figure in row["figures"]:
            if figure["manual"] is None:
                continue
            several = len(row["figures"]) > 1
            title = f"{row['number']}. {row['name']}" + (f"：{figure['name']}" if several
                                                         else "")
            found.append(FormField(figure["key"], title, MANUAL_SCHEMA.get(
                figure["manual"], {"type": "string", "maxLength": 4000})))
    return found


def _sections(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The form's rows by section, in order, as the paper form groups them."""
    found: list[dict[str, Any]] = []
    for row in report["rows"]:
        if not found or found[-1]["id"] != row["section"]:
            found.append({"id": row["section"], "name": row["section_name"], "rows": []})
        found[-1]["rows"].append(row)
    return found


async def _report(api: Api, choice: Choice) -> Answer:
    return await api.get(f"/campaigns/{choice.campaign}/reports/{choice.report}",
                         {"org": choice.org, "as_of": choice.as_of})


# -- which report --------------------------------------------------------------------------

async def _offered(request: Request, api: Api, principal: Principal) -> Offered:
    """The campaigns deployed at or above the person's org (any, for setup accounts), as
    GET /campaigns and their deployments give them, with their reports from the models."""
    listed = await api.get("/campaigns")
    found = []
    for summary in listed.json() if listed.ok else []:
        where = await api.get(f"/campaigns/{summary['campaign']}/deployments")
        mine = [d for d in (where.json() if where.ok else []) if _above(principal, d)]
        if mine:
            found.append({"campaign": summary["campaign"], "title": summary["title"],
                          "version_id": summary["version_id"], "org": mine[0]["org"]})
    services = services_of(request)
    return Offered(await run_db(_with_reports, services, found))


def _above(principal: Principal, deployment: dict[str, Any]) -> bool:
    if principal.admin:
        return True
    return (principal.scope_path or "\0").startswith(deployment["org_path"])


def _with_reports(services: Services, campaigns: list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    with services.db.read() as conn:
        found = []
        for item in campaigns:
            model = services.registry.get(conn, item["version_id"]).loaded.campaign
            reports = [(r.id, r.name) for r in model.reports.values()]
            if reports:
                found.append({**item, "timezone": model.timezone, "reports": reports,
                              "running": runs_on(model, services.now())})
        return found


def _choice(asked: Any, offered: Offered, principal: Principal, request: Request
            ) -> Choice | None:
    """The campaign, report, org and date asked for, or: the first offered that runs today
    (else the first), the report called dispatch (else the first), the person's org and
    today; None when the campaign asked for is not one offered (or none is)."""
    by_id = {c["campaign"]: c for c in offered.campaigns}
    wanted = str(asked.get("campaign") or "")
    if (wanted and wanted not in by_id) or not offered.campaigns:
        return None
    # by default a campaign that runs today (the ended ones stay to be chosen)
    running = [c for c in offered.campaigns if c["running"]] or offered.campaigns
    campaign = by_id[wanted] if wanted else running[0]
    reports = [r for r, _ in campaign["reports"]]
    report = str(asked.get("report") or "")
    if report not in reports:
        report = "dispatch" if "dispatch" in reports else reports[0]
    # a setup account has no org of its own: the report of the org where the campaign runs
    org = str(asked.get("org") or "") or (None if principal.scope_kind == "org"
                                          else str(campaign["org"]))
    as_of = str(asked.get("as_of") or "")
    if not as_of:
        as_of = local_date(services_of(request).now(), campaign["timezone"]).isoformat()
    chosen = Choice(campaign["campaign"], report, org, as_of)
    return chosen if _ID.match(chosen.campaign) and _ID.match(chosen.report) else None


def _home_org(principal: Principal, campaign: dict[str, Any]) -> str:
    """The org a person's report page opens on: theirs, or where the campaign runs."""
    return principal.scope_id if principal.scope_kind == "org" and principal.scope_id \
        else str(campaign["org"])


# -- answers that are not the page ---------------------------------------------------------

def _file(request: Request, answer: Answer) -> Response:
    if not answer.ok:
        return refusal(request, answer, **REFUSED)
    headers = {"Content-Disposition": answer.headers.get("content-disposition", "attachment"),
               "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return Response(answer.body, media_type=answer.headers.get("content-type"),
                    headers=headers)


