"""检查任务: my obligations (规定动作) by due date, one obligation with its completions, and
completing it with the evidence its check asks for (a form generated from the check's
evidence schema)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.client import Answer, Api
from web.forms import FormField, field_errors, of_schema, values_from_form
from web.render import refusal, render
from web.session import Checked, SignedIn

router = APIRouter(prefix="/ui")
# a refused page in this section's words (the API's name the unit a duty belongs to)
REFUSED = {"forbidden": "web.checks.forbidden", "not_found": "web.checks.not_found"}

PAGE_SIZE = 50
STATUSES = ("open", "missed", "done")
FILTERS = ("status", "due_from", "due_to", "campaign")


@router.get("/checks")
async def list_checks(request: Request, session: SignedIn) -> Response:
    api = Api(request, session.principal)
    asked = request.query_params
    # the list opens on what is still to do; `status=` (all) shows every one
    chosen = {name: asked.get(name, "open" if name == "status" else "") for name in FILTERS}
    found = await api.get("/obligations", {**chosen, "cursor": asked.get("cursor"),
                                           "limit": PAGE_SIZE})
    campaigns = await api.get("/campaigns")
    page = found.json() if found.ok else {"data": [], "next_cursor": None}
    next_cursor = page["next_cursor"]
    return render(
        request, "checks/list.html", status=200 if found.ok else found.status,
        obligations=page["data"], filters=chosen, statuses=STATUSES,
        campaigns=campaigns.json() if campaigns.ok else [],
        problem=found.problem, paged="cursor" in asked,
        first_href=_href(chosen),
        next_href=_href({**chosen, "cursor": next_cursor}) if next_cursor else None)


def _href(params: dict[str, str]) -> str:
    # `status=` stays in the link: it means every status, not the default (open)
    return "/ui/checks?" + urlencode({k: v for k, v in params.items() if v or k == "status"})


@router.get("/checks/{obligation_id}")
async def read_check(request: Request, obligation_id: str, session: SignedIn) -> Response:
    api = Api(request, session.principal)
    found = await _obligation(api, obligation_id)
    if not found.ok:
        return refusal(request, found, **REFUSED)
    done = request.query_params.get("completed") == "1"
    return await _page(request, api, found.json(), values={}, problem={}, completed=done)


@router.post("/checks/{obligation_id}")
async def complete_check(request: Request, obligation_id: str, session: Checked) -> Response:
    api = Api(request, session.principal)
    found = await _obligation(api, obligation_id)
    if not found.ok:
        return refusal(request, found, **REFUSED)
    obligation = found.json()
    fields = of_schema(obligation["evidence_schema"] or {})
    form = await request.form()
    evidence = values_from_form(form, fields)
    answer = await api.post(f"/obligations/{obligation['id']}/completions",
                            {"evidence": evidence})
    if answer.ok:
        # after the post, a page of its own: reloading it records nothing twice
        return RedirectResponse(f"/ui/checks/{obligation['id']}?completed=1", status_code=303)
    posted = {f.name: form.get(f.name) for f in fields}
    return await _page(request, api, obligation, values=posted, problem=answer.problem,
                       status=answer.status)


async def _obligation(api: Api, obligation_id: str) -> Answer:
    # only a plain number names an obligation; anything else is a page that does not exist
    if not obligation_id.isascii() or not obligation_id.isdigit() or len(obligation_id) > 10:
        return Answer(404, {}, b"")
    return await api.get(f"/obligations/{int(obligation_id)}")


async def _page(request: Request, api: Api, obligation: dict[str, Any], *,
                values: dict[str, Any], problem: dict[str, Any], completed: bool = False,
                status: int = 200) -> Response:
    fields = of_schema(obligation.get("evidence_schema") or {})
    errors = field_errors(problem, [f.name for f in fields])
    history = await api.get(f"/obligations/{obligation['id']}/completions")
    completions = history.json() if history.ok else []
    return render(
        request, "checks/detail.html", status=status, obligation=obligation, fields=fields,
        values=values, errors=errors, problem=problem, completed=completed,
        completions=[_completion(c, fields) for c in completions],
        can_complete=obligation["status"] != "done" and obligation["report"] is None)


def _completion(completion: dict[str, Any], fields: list[FormField]) -> dict[str, Any]:
    """A completion with its evidence as label and value, in the schema's order."""
    titles = {f.name: f.title for f in fields}
    order = {key: index for index, key in enumerate(titles)}
    evidence = completion.get("evidence") or {}
    shown = [(titles.get(key, key), value)
             for key, value in sorted(evidence.items(), key=lambda kv: order.get(kv[0], 1_000))]
    return {**completion, "shown": shown}
