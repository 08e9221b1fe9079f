"""Pages from Jinja2 templates (web/templates), in the language of the request.

Autoescaping is on for every template: what a person typed (a hazard's description, a unit's
name) is shown as text, never as markup. Templates read what people read from the catalogue
(`t`, areas `web*`), as everything else in paicha does (engine.texts).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from engine import texts
from storage.users import Session
from web.client import Answer

environment = Environment(
    loader=PackageLoader("web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a misspelt name in a template fails its test, not a page
    trim_blocks=True, lstrip_blocks=True,
)

# The sections of the screens, in the order of the menu: (path, catalogue id, who sees it).
# None: everyone signed in; "admin": setup accounts; "office": org scopes (not principals).
SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("/ui/", "web.nav.home", None),
    ("/ui/hazards", "web.nav.hazards", None),
    ("/ui/checks", "web.nav.checks", None),
    ("/ui/reports", "web.nav.reports", "office"),
    ("/ui/campaigns", "web.nav.campaigns", None),
    ("/ui/orgs", "web.nav.orgs", "office"),
    ("/ui/notices", "web.nav.notices", "office"),
    ("/ui/users", "web.nav.users", "admin"),
)


def sections(session: Session | None) -> list[tuple[str, str]]:
    if session is None:
        return []
    principal = session.principal
    shown = []
    for path, key, who in SECTIONS:
        if who == "admin" and not principal.admin:
            continue
        if who == "office" and principal.scope_kind == "unit":
            continue
        shown.append((path, texts.t(key)))
    return shown


def _date(value: Any) -> str:
    """A date or an ISO date string as people read it (2026-12-18)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text[:16].replace("T", " ") if "T" in text else text


def _with_cursor(params: Any, cursor: str) -> str:
    """The page's query with another cursor: the next page under the same filters."""
    kept = [(k, v) for k, v in params.multi_items() if k != "cursor"]
    return urlencode([*kept, ("cursor", cursor)])


def _without_cursor(params: Any) -> str:
    return urlencode([(k, v) for k, v in params.multi_items() if k != "cursor"])


environment.filters["date"] = _date
environment.filters["pager_with_cursor"] = _with_cursor
environment.filters["pager_without_cursor"] = _without_cursor
environment.globals["t"] = texts.t


def render(request: Request, template: str, *, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    session: Session | None = getattr(request.state, "session", None)
    here = request.url.path
    body = environment.get_template(template).render(
        request=request, session=session, lang=texts.current(), sections=sections(session),
        here=here, csrf=session.csrf if session else "", **context)
    response = HTMLResponse(body, status_code=status, headers=headers)
    # pages hold what a person may see: not kept by shared caches, not framed by other sites
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# the kinds of timer and message a case's clock makes (their subject is the case's id)
CASE_KINDS = frozenset({"remind", "overdue", "overdue_repeat", "escalate", "calendar"})


def subject_href(subject: str, kind: str) -> str | None:
    """The page of what a deadline or a message is about: a check's (`obligation:<id>`), a
    hazard's (a case clock's kinds), or none (a phase, a target)."""
    if subject.startswith("obligation:"):
        return f"/ui/checks/{subject.removeprefix('obligation:')}"
    if kind in CASE_KINDS:
        return f"/ui/hazards/{subject}"
    return None


def refusal(request: Request, answer: Answer, *, forbidden: str = "web.error.forbidden.detail",
            not_found: str | None = None) -> HTMLResponse:
    """The page of an API refusal of a whole page, with its status and nothing of what was
    asked for: a 403 in the screens' words (`forbidden`, a catalogue id: the API's detail may
    name the unit or org a record belongs to), a 404 in the page's words (`not_found`) or the
    API's (it names only what was asked for), anything else in the API's words."""
    if answer.status == 403:
        return refused(request, forbidden)
    if answer.status == 404:
        if not_found is not None:
            return render(request, "error.html", status=404,
                          title_key="web.error.not_found.title", detail_key=not_found)
        return render(request, "error.html", status=404, title_key="web.error.not_found.title",
                      detail=answer.problem.get("detail", ""))
    return render(request, "error.html", status=answer.status,
                  title_key="web.error.failed.title", detail=answer.problem.get("detail", ""))


def refused(request: Request, detail_key: str = "web.error.forbidden.detail") -> HTMLResponse:
    """The 403 page of a page the person may not open, in the screens' words."""
    return render(request, "error.html", status=403, title_key="web.error.forbidden.title",
                  detail_key=detail_key)


# Scripts and styles only from paicha itself (web/static): nothing from another host, no inline
# script (mermaid renders its diagrams with inline styles, hence 'unsafe-inline' for styles).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
