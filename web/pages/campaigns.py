"""行动: the published campaigns, one campaign's plan (versions, phases, checks, case types with
their lifecycle diagrams, reports), its timeline for chosen units, and a YAML check.

Nothing here changes data: the pages read through the API as their person, and the model of
a published version (its phases, checks, case types) from the registry, for presentation.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.deps import services_of
from api.services import Services, run_db
from engine import texts
from engine.dates import local_date
from engine.document import MAX_BYTES
from engine.model import Campaign, Check, Duration, roles_of
from web.client import Api
from web.render import CSP, refusal, render
from web.session import Checked, SignedIn

router = APIRouter(prefix="/ui")

# A timeline is asked unit by unit (GET /campaigns/{id}/timeline?unit=…): a bound on one page.
MOST_UNITS = 20
TIMELINE_ROWS = 1000  # the API's own largest page of a timeline


@router.get("/campaigns")
async def list_campaigns(request: Request, session: SignedIn) -> Response:
    api = Api(request, session.principal)
    listed = await api.get("/campaigns")
    if not listed.ok:
        return refusal(request, listed)
    summaries: list[dict[str, Any]] = listed.json()
    models = await run_db(_models, services_of(request), [s["version_id"] for s in summaries])
    campaigns = []
    for summary in summaries:
        model = models[summary["version_id"]]
        deployed = await api.get(f"/campaigns/{summary['campaign']}/deployments")
        campaigns.append({**summary, "issuer": model.issuer, "start": model.period_start,
                          "end": model.period_end, "extends": model.extends,
                          "deployments": deployed.json() if deployed.ok else []})
    return render(request, "campaigns/list.html", campaigns=campaigns)


@router.get("/campaigns/validate")
async def validate_form(request: Request, session: SignedIn) -> Response:
    return render(request, "campaigns/validate.html", **_validation())


@router.post("/campaigns/validate")
async def validate_campaign(request: Request, session: Checked) -> Response:
    """Checks an uploaded (or pasted) campaign YAML with POST /campaigns/validate: every
    problem with its line, column, path, message and hint."""
    text, name, body = await _sent(request)
    if len(body) > MAX_BYTES:
        return render(request, "campaigns/validate.html", status=413, **_validation(
            text="", name=name, error=texts.t("web.campaigns.validate.too_large",
                                              kib=MAX_BYTES // 1024)))
    if not body.strip():
        return render(request, "campaigns/validate.html", status=422, **_validation(
            text=text, name=name, error=texts.t("web.campaigns.validate.nothing")))
    answer = await Api(request, session.principal).call(
        "POST", "/campaigns/validate", body=body, content_type="application/yaml")
    if not answer.ok:  # not UTF-8, empty: said by the API, in the person's language
        problem = answer.problem
        return render(request, "campaigns/validate.html", status=answer.status, **_validation(
            text=text, name=name, error=problem.get("detail") or "",
            messages=[p.get("message", "") for p in problem.get("problems") or []]))
    result = answer.json()
    lines = body.decode("utf-8", errors="replace").splitlines()
    problems = [{**p, "source_line": _line(lines, p.get("line"))} for p in result["problems"]]
    return render(request, "campaigns/validate.html", **_validation(
        text=text, name=name, checked=True, valid=result["valid"], problems=problems))


async def _sent(request: Request) -> tuple[str, str, bytes]:
    """The pasted text, the uploaded file's name, and the YAML to check (the file's, when
    one was chosen); at most one byte past the cap is read, enough to refuse it."""
    async with request.form() as form:
        pasted = form.get("text")
        text = pasted if isinstance(pasted, str) else ""
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(MAX_BYTES + 1)
            if data:
                return "", upload.filename, data
    return text, "", text.encode("utf-8")


def _validation(*, text: str = "", name: str = "", error: str = "",
                messages: list[str] | None = None, checked: bool = False, valid: bool = False,
                problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"text": text, "name": name, "error": error, "messages": messages or [],
            "checked": checked, "valid": valid, "problems": problems or [],
            "most_kib": MAX_BYTES // 1024}


def _line(lines: list[str], number: Any) -> str:
    """The text of a problem's line (1-based), to show under it; none past the end."""
    if isinstance(number, int) and 1 <= number <= len(lines):
        return lines[number - 1].rstrip()[:300]
    return ""


@router.get("/campaigns/{campaign_id}")
async def read_campaign(request: Request, session: SignedIn, campaign_id: str) -> Response:
    api = Api(request, session.principal)
    found = await api.get(f"/campaigns/{campaign_id}")
    if not found.ok:
        return refusal(request, found)
    summary = found.json()
    versions = await api.get(f"/campaigns/{campaign_id}/versions")
    deployed = await api.get(f"/campaigns/{campaign_id}/deployments")
    services = services_of(request)
    model = (await run_db(_models, services, [summary["version_id"]]))[summary["version_id"]]
    today = local_date(services.now(), model.timezone)
    cases = []
    for case in model.cases.values():
        diagram = await api.get(f"/campaigns/{campaign_id}/diagram", {"case": case.id})
        cases.append({"id": case.id, "name": case.name, "initial": case.initial,
                      "states": list(case.states.values()),
                      "diagram": diagram.body.decode("utf-8") if diagram.ok else ""})
    return render(
        request, "campaigns/campaign.html", campaign=summary, model=model, today=today,
        versions=versions.json() if versions.ok else [],
        deployments=deployed.json() if deployed.ok else [],
        phases=[{"phase": p, "days_left": (p.due - today).days} for p in model.phases],
        checks=[_check(model, c) for c in model.checks], cases=cases,
        reports=[{"id": r.id, "name": r.name, "period": _every(r.period),
                  "by": texts.t(f"web.campaigns.group_by.{r.group_by}")}
                 for r in model.reports.values()])


@router.get("/campaigns/{campaign_id}/raw")
async def raw_campaign(request: Request, session: SignedIn, campaign_id: str,
                       version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
                       ) -> Response:
    """The YAML as published, shown as text in the browser (the API's route needs a token)."""
    answer = await Api(request, session.principal).get(f"/campaigns/{campaign_id}/raw",
                                                       {"version": version})
    if not answer.ok:
        return refusal(request, answer)
    return Response(answer.body, media_type="text/plain; charset=utf-8", headers={
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP})


@router.get("/campaigns/{campaign_id}/timeline")
async def campaign_timeline(
    request: Request, session: SignedIn, campaign_id: str,
    unit: Annotated[list[str] | None, Query()] = None, start: str = "", end: str = "",
) -> Response:
    """Every deadline of the campaign for the chosen units, by date."""
    api = Api(request, session.principal)
    found = await api.get(f"/campaigns/{campaign_id}")
    if not found.ok:
        return refusal(request, found)
    summary = found.json()
    services = services_of(request)
    model = (await run_db(_models, services, [summary["version_id"]]))[summary["version_id"]]
    reached = await api.get("/units", {"limit": 1000})
    units = reached.json()["data"] if reached.ok else []
    chosen = [u for u in dict.fromkeys(unit or ()) if u]
    if not chosen and len(units) == 1:  # a principal's own unit, without asking
        chosen = [units[0]["id"]]
    names = {u["id"]: u["name"] for u in units}
    rows: list[dict[str, Any]] = []
    error = ""
    status = 200
    messages: list[str] = []
    if len(chosen) > MOST_UNITS:
        error, status = texts.t("web.campaigns.timeline.too_many", most=MOST_UNITS), 422
    for unit_id in [] if error else chosen:
        answer = await api.get(f"/campaigns/{campaign_id}/timeline", {
            "unit": unit_id, "start": start, "end": end, "limit": TIMELINE_ROWS})
        if not answer.ok:  # a unit out of reach, a malformed date: said next to the picker
            problem = answer.problem
            error, status = problem.get("detail") or "", answer.status
            messages = [p.get("message", "") for p in problem.get("problems") or []]
            rows = []
            break
        rows.extend(answer.json())
    rows.sort(key=lambda r: (r["due"], r["subject"], r["check"]))
    today = local_date(services.now(), model.timezone)
    for row in rows:
        row["subject_name"] = names.get(row["subject"], row["subject"])
        row["who"] = _who(model, row["role"])
        row["days_left"] = (dt.date.fromisoformat(row["due"]) - today).days
    return render(request, "campaigns/timeline.html", status=status,
                  campaign=summary, units=units, chosen=chosen, start=start, end=end,
                  rows=rows, error=error, messages=messages, today=today,
                  most_units=MOST_UNITS)


def _models(services: Services, version_ids: list[int]) -> dict[int, Campaign]:
    with services.db.read() as conn:
        return {v: services.registry.get(conn, v).loaded.campaign for v in version_ids}


def _who(model: Campaign, who: str) -> str:
    return texts.listed(model.roles[r].name if r in model.roles else r for r in roles_of(who))


def _every(every: str) -> str:
    return texts.t(f"web.campaigns.every.{every}")


def _check(model: Campaign, check: Check) -> dict[str, Any]:
    """A check as the plan's table lists it: its name, who does it, for whom, and when."""
    return {"id": check.id, "name": check.name, "who": _who(model, check.who),
            "for": texts.t(f"web.campaigns.for.{check.audience.kind}"),
            "schedule": _schedule(model, check), "stricter": len(check.stricter),
            "basis": check.basis}


def _schedule(model: Campaign, check: Check) -> str:
    parts = []
    if check.every is not None:
        parts.append(_every(check.every) if check.times == 1 else
                     texts.t("web.campaigns.times", every=_every(check.every),
                             times=check.times))
    for deadline in check.deadlines:
        if deadline.phase is not None:
            phase = next((p for p in model.phases if p.id == deadline.phase), None)
            text = texts.t("web.campaigns.by_phase", phase=phase.name if phase else deadline.phase)
        else:
            text = texts.t("web.campaigns.by_date", day=str(deadline.date))
        if deadline.after is not None:
            text += _span(deadline.after)
        parts.append(text)
    if check.phase is not None and not check.deadlines:
        phase = next((p for p in model.phases if p.id == check.phase), None)
        if phase is not None:
            parts.append(texts.t("web.campaigns.in_phase", phase=phase.name))
    if check.start is not None or check.end is not None:
        parts.append(texts.t("web.campaigns.window",
                             start=(check.start or model.period_start).isoformat(),
                             end=(check.end or model.period_end).isoformat()))
    return texts.listed(parts, "list.semicolon")


def _span(duration: Duration) -> str:
    """3d, -2wd as people read them: 3天, 提前2个工作日."""
    kind = "working_days" if duration.working else "days"
    if duration.days < 0:
        return texts.t(f"web.campaigns.before.{kind}", count=-duration.days)
    return texts.t(f"web.campaigns.later.{kind}", count=duration.days)
