"""工作台: what is due and overdue for me, by date; the campaigns' phases with days left; the
targets' status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import services_of
from api.services import Services, run_db
from engine.dates import local_date
from engine.notices import kind_name
from web.client import Api
from web.render import render
from web.session import SignedIn

router = APIRouter(prefix="/ui")

SOON_DAYS = 14  # the desk shows what falls due within two weeks


@router.get("/")
async def desk(request: Request, session: SignedIn) -> Response:
    api = Api(request, session.principal)
    today = local_date(services_of(request).now(), "Asia/Shanghai")
    due = await api.get("/deadlines", {"due_to": today + dt.timedelta(days=SOON_DAYS),
                                       "limit": 100})
    overdue = await api.get("/cases", {"overdue": "true", "open": "true", "limit": 20})
    duties = await api.get("/obligations", {"status": "missed", "limit": 20})
    campaigns = await api.get("/campaigns")
    services = services_of(request)
    phases = await run_db(_phases, services, campaigns.json() if campaigns.ok else [], today)
    phases.sort(key=lambda p: p["days_left"])
    return render(request, "home.html", today=today,
                  deadlines=[_deadline(d) for d in (due.json()["data"] if due.ok else [])],
                  overdue_cases=overdue.json()["data"] if overdue.ok else [],
                  overdue_duties=duties.json()["data"] if duties.ok else [],
                  phases=phases[:10], soon_days=SOON_DAYS)


# the kinds of timer a case's clock arms (its subject is the case's id)
CASE_KINDS = frozenset({"remind", "overdue", "overdue_repeat", "escalate", "calendar"})


def _deadline(item: dict[str, Any]) -> dict[str, Any]:
    """A deadline of GET /deadlines as the desk lists it: its day, what it is, and the page
    of its hazard or check."""
    subject: str = item["subject"]
    href = None
    if subject.startswith("obligation:"):
        href = f"/ui/checks/{subject.removeprefix('obligation:')}"
    elif item["kind"] in CASE_KINDS:
        href = f"/ui/hazards/{subject}"
    return {**item, "what": kind_name(item["kind"]), "href": href}


def _phases(services: Services, campaigns: list[dict[str, Any]], today: dt.date
            ) -> list[dict[str, Any]]:
    """The phases still ahead in the campaigns that run today, with the days left."""
    found = []
    with services.db.read() as conn:
        for summary in campaigns:
            model = services.registry.get(conn, summary["version_id"]).loaded.campaign
            if not model.period_start <= today <= model.period_end:
                continue
            for phase in model.phases:
                if phase.due >= today:
                    found.append({"campaign": model.title, "name": phase.name,
                                  "due": phase.due.isoformat(),
                                  "days_left": (phase.due - today).days})
    return found
