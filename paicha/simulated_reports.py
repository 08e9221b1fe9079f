"""The reports due in a `paicha simulate` window, computed from the simulated cases by the same
SQL as the server's (storage.reports) on a throwaway in-memory database, so an author sees the
forms filled before publishing the campaign.

The simulation knows no org tree for its cases: every case and duty counts for one org, the
simulated whole. A case counts for the unit its events file names (`unit:`, with that unit's
industry and tags), else for one simulated unit. Duties are never done in a simulation, so
`done` rows are 0 and past ones `missed`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Engine, create_engine, delete, insert
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

from engine import reports as core
from engine.checks import Obligation
from engine.model import Campaign
from engine.orgs import Unit as UnitSubject
from engine.simulation import SimulatedCase
from storage import reports
from storage.tables import Case, CaseHistory, Unit
from storage.tables import Obligation as ObligationRow

case_t = Case.__table__  # type: ignore[attr-defined]
history_t = CaseHistory.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
obligation_t = ObligationRow.__table__  # type: ignore[attr-defined]
PATH = "/simulated/"
UNIT = "simulated-unit"


class SimulatedRecord:
    """An in-memory database holding the simulation's duties and, at each report, its cases."""

    def __init__(self, campaign: Campaign, obligations: Sequence[Obligation],
                 units: Sequence[UnitSubject] = ()) -> None:
        self.campaign = campaign
        self.engine: Engine = create_engine("sqlite://", poolclass=StaticPool)
        # the tables the report's queries read
        SQLModel.metadata.create_all(self.engine,
                                     tables=[case_t, history_t, obligation_t, unit_t])
        rows = [{"campaign_id": campaign.id, "campaign_version_id": 0, "check_id": o.check,
                 "name": o.name, "role": o.role, "subject_kind": o.subject_kind,
                 "subject_id": o.subject, "org_path": PATH, "period": o.period or "",
                 "due": o.due, "times": o.times, "done": 0, "report": o.report}
                for o in obligations]
        with self.engine.begin() as conn:
            if rows:
                conn.execute(insert(obligation_t), rows)
            # the units cases name, with the attributes reports filter on
            stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            for unit in [*units, UnitSubject(UNIT, "（模拟单位）", "simulated")]:
                conn.execute(insert(unit_t).values(
                    id=unit.id, name=unit.name, org_id="simulated", org_path=PATH,
                    industry=unit.industry, tags=sorted(unit.tags), created_at=stamp,
                    updated_at=stamp))

    def form(self, report_id: str, cases: Sequence[SimulatedCase],
             as_of: dt.date) -> core.FilledForm:
        """The report at the end of `as_of` with the cases as they are."""
        form = self.campaign.reports[report_id]
        with self.engine.begin() as conn:
            conn.execute(delete(case_t))
            if cases:
                conn.execute(insert(case_t), [{
                    "id": c.case.id, "campaign_id": self.campaign.id, "campaign_version_id": 0,
                    "type": c.case.type, "unit_id": c.unit or UNIT, "org_path": PATH,
                    "state": c.case.state,
                    "final": c.case.state in self.campaign.cases[c.case.type].finals,
                    "data": dict(c.case.data), "signatures": [], "clocks": {},
                    "next_due": c.next_due, "version": c.case.version, "opened_by": "simulate",
                    "opened_at": c.opened_at, "updated_at": c.opened_at, "audit_seq": 0,
                    "audit_hash": ""} for c in cases])
            scope = reports.Scope(self.campaign.id, PATH, as_of, self.campaign.timezone,
                                  core.period_of(form.period, as_of))
            figures = reports.compute(conn, scope, core.measured(form), children=False)
        return core.fill(self.campaign, form, figures.total, org_id="simulated",
                         org_name="（模拟）", as_of=as_of)

    def close(self) -> None:
        self.engine.dispose()
