"""隐患: the list with filters and pages, a hazard's page with a form for each trigger its person
may fire now, and the form that registers one. Every change goes through the API (web.client);
the forms are built from what the engine says a trigger takes (Lifecycle.form)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import services_of
from api.services import Services, run_db
from engine.access import Principal
from engine.dates import runs_on
from engine.errors import PaichaError
from engine.model import Campaign, CaseType
from engine.texts import t
from storage.campaigns import newest_versions
from web.client import Answer, Api
from web.forms import FormField, field_errors, of_case_fields, values_from_form
from web.render import refusal, render
from web.session import Checked, SignedIn

router = APIRouter(prefix="/ui")

CASE_TYPE = "hazard"
PAGE_SIZE = 50
# the list's filters, as the page's query names them, and the API's parameter of each
FILTERS = ("campaign", "state", "grade", "overdue", "open", "org", "unit", "due_from",
           "due_to", "sort", "cursor")
SORTS = ("newest", "oldest", "due")


# -- the list -------------------------------------------------------------------------------

@router.get("/hazards")
async def hazard_list(request: Request, session: SignedIn) -> Response:
    query = {name: request.query_params.get(name, "") for name in FILTERS}
    params: dict[str, Any] = {"type": CASE_TYPE, "limit": PAGE_SIZE}
    for name in ("campaign", "state", "org", "unit", "due_from", "due_to", "cursor"):
        params[name] = query[name]
    if query["sort"] in SORTS:
        params["sort"] = query["sort"]
    for name in ("overdue", "open"):
        if query[name] in ("true", "false"):
            params[name] = query[name]
    if query["grade"]:
        params["field"] = f"grade:{query['grade']}"
    api = Api(request, session.principal)
    answer = await api.get("/cases", params)
    services = services_of(request)
    words = await run_db(_words, services)
    if not answer.ok:
        if answer.status in (403, 404):
            return refusal(request, answer)
        return render(request, "hazards/list.html", status=answer.status, query=query,
                      rows=[], next_cursor=None, words=words, problem=answer.problem,
                      sorts=SORTS)
    page = answer.json()
    rows = [_row(case, words) for case in page["data"]]
    return render(request, "hazards/list.html", query=query, rows=rows,
                  next_cursor=page["next_cursor"], words=words, problem={}, sorts=SORTS)


@dataclass
class Words:
    """What the list shows for ids: states' and grades' names across the published campaigns'
    hazard types, and each campaign's title."""

    states: dict[str, str]
    grades: dict[str, str]
    campaigns: dict[str, str]


def _words(services: Services) -> Words:
    states: dict[str, str] = {}
    grades: dict[str, str] = {}
    campaigns: dict[str, str] = {}
    with services.db.read() as conn:
        for row in newest_versions(conn):
            model = services.registry.get(conn, row.id).loaded.campaign
            campaigns[model.id] = model.title
            case_type = model.cases.get(CASE_TYPE)
            if case_type is None:
                continue
            for state in case_type.states.values():
                states.setdefault(state.id, state.name)
            grade = case_type.fields.get("grade")
            if grade is not None:
                for value in grade.schema.get("enum", ()):
                    grades.setdefault(str(value), grade.labels.get(str(value), str(value)))
    return Words(states, grades, campaigns)


def _row(case: dict[str, Any], words: Words) -> dict[str, Any]:
    data = case["data"]
    return {"id": case["id"], "description": data.get("description") or case["id"],
            "unit": case.get("unit_name") or case["unit"], "state": case["state"],
            "state_name": case["state_name"],
            "grade": words.grades.get(str(data.get("grade")), data.get("grade") or ""),
            "major": data.get("grade") == "major", "next_due": case["next_due"],
            "overdue": case["overdue"], "final": case["final"],
            "campaign": words.campaigns.get(case["campaign"], case["campaign"]),
            "opened_at": case["opened_at"]}


# -- a hazard's page --------------------------------------------------------------------------

@dataclass
class TriggerForm:
    """A trigger's form on a hazard's page: its name, its inputs and the values they start
    with (what the hazard holds already: a step that requires a field on record needs it
    only confirmed; a signer gives their own, so their form starts empty)."""

    trigger: str
    name: str
    role: str | None
    fields: list[FormField]
    signoff: bool
    values: dict[str, Any]


def _forms(services: Services, principal: Principal, case_id: str) -> list[TriggerForm]:
    return _forms_of(services, principal, case_id)[0]


def _forms_of(services: Services, principal: Principal, case_id: str
              ) -> tuple[list[TriggerForm], Campaign | None]:
    """The trigger forms of a case for its person, and the campaign version the case runs
    under, in one read (None: the case is not theirs to see; the page's own read says why)."""
    with services.db.read() as conn:
        try:
            stored = services.cases.get(conn, principal, case_id)
        except PaichaError:
            return [], None
        found = services.cases.forms(conn, principal, stored)
        model = services.registry.get(conn, stored.campaign_version_id).loaded.campaign
    forms = []
    for form in found:
        signoff = bool(form.transition.signoffs)
        held = {} if signoff else {f.name: stored.data[f.name] for f in form.fields
                                   if f.name in stored.data}
        # required on the form: what the event itself must carry (engine.lifecycle.fire)
        required = {n for n in form.required if n not in held}
        forms.append(TriggerForm(form.transition.trigger, form.transition.name, form.role,
                                 of_case_fields(form.fields, required, model.industries),
                                 signoff, held))
    return forms, model


async def _hazard_page(request: Request, session: Any, case_id: str, *, status: int = 200,
                       failed: str = "", problem: dict[str, Any] | None = None,
                       sent: dict[str, Any] | None = None, notice: str = "") -> Response:
    api = Api(request, session.principal)
    answer = await api.get(f"/cases/{case_id}")
    if not answer.ok:
        return refusal(request, answer)
    case = answer.json()
    services = services_of(request)
    history = await api.get(f"/cases/{case_id}/history")
    forms, campaign = await run_db(_forms_of, services, session.principal, case_id)
    if campaign is None:  # gone from the person's reach since the API's read
        return refusal(request, Answer(404, {}, b""))
    case_type = campaign.cases[case["type"]]
    errors: dict[str, str] = {}
    if problem and failed:
        form = next((f for f in forms if f.trigger == failed), None)
        errors = field_errors(problem, [f.name for f in form.fields] if form else [])
    facts = [(f.title or name, _shown(case["data"][name], f.labels or _labels(f, campaign)))
             for name, f in case_type.fields.items() if name in case["data"]]
    return render(request, "hazards/detail.html", status=status, case=case, facts=facts,
                  unit={"id": case["unit"], "name": case.get("unit_name") or case["unit"]},
                  history=history.json() if history.ok else [], forms=forms,
                  clocks=_clocks(case, case_type), failed=failed, problem=problem or {},
                  errors=errors, sent=sent or {}, notice=notice,
                  fields={name: f.title for name, f in case_type.fields.items()},
                  roles={role.id: role.name for role in campaign.roles.values()},
                  states={state.id: state.name for state in case_type.states.values()},
                  actions=_actions(case_type), campaign_title=campaign.title)


def _actions(case_type: CaseType) -> dict[str, str]:
    """What each entry of a hazard's history did, named: a trigger by its first transition's
    name (a trigger taken from several states has one name per transition)."""
    names = {"open": t("web.hazards.action.open")}
    for transition in case_type.transitions:
        names.setdefault(transition.trigger, transition.name)
    return names


def _labels(field: Any, campaign: Campaign) -> dict[str, str]:
    """A field's values named by the campaign's vocabulary (its industries) when the field
    names none itself."""
    return dict(of_case_fields([field], (), campaign.industries)[0].labels)


def _shown(value: Any, labels: dict[str, str]) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "、".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def _clocks(case: dict[str, Any], case_type: CaseType) -> list[dict[str, Any]]:
    names = {clock.id: clock.name for clock in case_type.clocks}
    return [{"name": names.get(clock_id, clock_id), "due": clock["due"],
             "provisional": clock["provisional"]}
            for clock_id, clock in case["clocks"].items() if clock.get("due")]


@router.get("/hazards/new")
async def register_form(request: Request, session: SignedIn, campaign: str = "",
                        unit: str = "") -> Response:
    return await _register_page(request, session, campaign, unit)


async def _register_page(request: Request, session: Any, campaign: str, unit: str, *,
                         status: int = 200, problem: dict[str, Any] | None = None,
                         sent: dict[str, Any] | None = None) -> Response:
    api = Api(request, session.principal)
    services = services_of(request)
    choices = await run_db(_registrable, services)
    if not campaign and choices:
        campaign = choices[0][0]
    fields = await run_db(_open_fields, services, campaign) if campaign else []
    principal: Principal = session.principal
    units: list[dict[str, Any]] = []
    if principal.scope_kind == "unit":
        unit = principal.scope_id or ""
    else:
        listed = await api.get("/units", {"limit": 500})
        units = listed.json()["data"] if listed.ok else []
    errors = field_errors(problem or {}, [f.name for f in fields])
    return render(request, "hazards/new.html", status=status, campaigns=choices,
                  campaign=campaign, fields=fields, units=units, unit=unit,
                  problem=problem or {}, errors=errors, sent=sent or {},
                  fixed_unit=principal.scope_kind == "unit")


def _registrable(services: Services) -> list[tuple[str, str]]:
    """The published campaigns with hazards that run today: (id, title)."""
    found = []
    with services.db.read() as conn:
        for row in newest_versions(conn):
            model = services.registry.get(conn, row.id).loaded.campaign
            if CASE_TYPE in model.cases and runs_on(model, services.now()):
                found.append((model.id, model.title))
    return found


def _open_fields(services: Services, campaign: str) -> list[FormField]:
    """The inputs of a new hazard: the required fields first, then the rest a person may
    give when registering (not those a later step fills in)."""
    with services.db.read() as conn:
        try:
            model = services.registry.newest(conn, campaign).loaded.campaign
        except PaichaError:
            return []
    case_type = model.cases.get(CASE_TYPE)
    if case_type is None:
        return []
    later = {name for t in case_type.transitions for name in t.settable}
    first = [case_type.fields[n] for n in case_type.required if n in case_type.fields]
    rest = [f for n, f in case_type.fields.items()
            if n not in case_type.required and n not in later]
    return of_case_fields([*first, *rest], case_type.required, model.industries)


@router.post("/hazards/new")
async def register(request: Request, session: Checked) -> Response:
    form = await request.form()
    campaign = str(form.get("campaign", ""))
    services = services_of(request)
    principal: Principal = session.principal
    unit = (principal.scope_id or "") if principal.scope_kind == "unit" else \
        str(form.get("unit", ""))
    fields = await run_db(_open_fields, services, campaign)
    data = values_from_form(form, fields)
    api = Api(request, principal)
    answer = await api.post("/cases", {"campaign": campaign, "type": CASE_TYPE, "unit": unit,
                                       "data": data})
    if answer.status == 201:
        return RedirectResponse(f"/ui/hazards/{answer.json()['id']}?done=open",
                                status_code=303)
    return await _register_page(request, session, campaign, unit, status=answer.status,
                                problem=answer.problem,
                                sent={k: str(v) for k, v in form.items()})


@router.get("/hazards/{case_id}")
async def hazard_page(request: Request, case_id: str, session: SignedIn,
                      done: str = "") -> Response:
    return await _hazard_page(request, session, case_id, notice=done[:64])


@router.post("/hazards/{case_id}/events")
async def fire(request: Request, case_id: str, session: Checked) -> Response:
    form = await request.form()
    trigger = str(form.get("trigger", ""))
    services = services_of(request)
    forms = await run_db(_forms, services, session.principal, case_id)
    chosen = next((f for f in forms if f.trigger == trigger), None)
    data = values_from_form(form, chosen.fields) if chosen else {}
    body: dict[str, Any] = {"trigger": trigger, "data": data}
    version = str(form.get("version", ""))
    if version.isdigit():
        body["version"] = int(version)  # a page read before another's change is refused
    answer = await Api(request, session.principal).post(f"/cases/{case_id}/events", body)
    if answer.ok:
        return RedirectResponse(f"/ui/hazards/{case_id}?done={trigger}", status_code=303)
    if answer.status in (403, 404) and chosen is None:
        return refusal(request, answer)
    return await _hazard_page(request, session, case_id, status=answer.status,
                              failed=trigger, problem=answer.problem,
                              sent={k: str(v) for k, v in form.items()})
