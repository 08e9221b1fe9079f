"""工作台: what is due and overdue for me, by date; the campaigns' phases with days left; the
targets' status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import services_of
from api.services import DEFAULT_TIMEZONE, Services, run_db
from engine.dates import local_date, runs_on
from engine.notices import kind_name
from web.client import Api
from web.render import render, subject_href
from web.session import SignedIn

router = APIRouter(prefix="/ui")

SOON_DAYS = 14  # the desk shows what falls due within two weeks


@router.get("/")
async def desk(request: Request, session: SignedIn) -> Response:
    api = Api(request, session.principal)
    services = services_of(request)
    today = local_date(services.now(), DEFAULT_TIMEZONE)
    campaigns = await api.get("/campaigns")
    running, phases = await run_db(_running, services,
                                   campaigns.json() if campaigns.ok else [])
    due = await api.get("/deadlines", {"due_to": today + dt.timedelta(days=SOON_DAYS),
                                       "limit": 100})
    overdue = await api.get("/cases", {"overdue": "true", "open": "true", "sort": "due",
                                       "limit": 20})
    # the duties missed in the campaigns that run: those of an ended campaign are its record,
    # not today's work
    duties: list[dict[str, Any]] = []
    for campaign in running:
        missed = await api.get("/obligations", {"status": "missed", "campaign": campaign,
                                                "limit": 20})
        duties += missed.json()["data"] if missed.ok else []
    duties.sort(key=lambda d: (d["due"], d["id"]))
    titles = {c["campaign"]: c["title"] for c in (campaigns.json() if campaigns.ok else [])}
    return render(request, "home.html", today=today,
                  deadlines=[_deadline(d, titles) for d in
                             (due.json()["data"] if due.ok else [])],
                  overdue_cases=overdue.json()["data"] if overdue.ok else [],
                  overdue_duties=duties[:20], phases=phases[:10], soon_days=SOON_DAYS)


def _deadline(item: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """A deadline of GET /deadlines as the desk lists it: its day, what it is, and the page
    of its hazard or check."""
    return {**item, "what": kind_name(item["kind"]),
            "href": subject_href(item["subject"], item["kind"]),
            "campaign_title": titles.get(item["campaign"], item["campaign"])}


def _running(services: Services, campaigns: list[dict[str, Any]]
             ) -> tuple[list[str], list[dict[str, Any]]]:
    """The campaigns that run today (in each one's time zone), and their phases still ahead
    with the days left, soonest first."""
    running: list[str] = []
    phases: list[dict[str, Any]] = []
    with services.db.read() as conn:
        for summary in campaigns:
            model = services.registry.get(conn, summary["version_id"]).loaded.campaign
            if not runs_on(model, services.now()):
                continue
            day = local_date(services.now(), model.timezone)  # where the campaign runs
            running.append(model.id)
            for phase in model.phases:
                if phase.due >= day:
                    phases.append({"campaign": model.title, "name": phase.name,
                                   "due": phase.due.isoformat(),
                                   "days_left": (phase.due - day).days})
    phases.sort(key=lambda p: p["days_left"])
    return running, phases
