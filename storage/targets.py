"""Targets measured from the record for an org's subtree at a date (engine.targets decides the
status): the measure, its denominator and the compared figure counted as storage.reports counts
a report's figures — every target's at `as_of` in one pass, and, for targets whose date has
passed, at that date (one pass per distinct date)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from engine import reports as core
from engine import targets as core_targets
from engine.model import Campaign, Measure, Target
from storage import reports
from storage.report_views import OrgRow


def _readings(conn: Connection, campaign: Campaign, chosen: Sequence[Target], org_path: str,
              day: dt.date) -> dict[str, core_targets.Reading]:
    measures: list[tuple[str, Measure]] = []
    for target in chosen:
        measures.append((f"{target.id}\0measure", target.measure))
        if target.per is not None:
            measures.append((f"{target.id}\0per", target.per))
        if target.compare is not None:
            measures.append((f"{target.id}\0compared", target.compare))
    scope = reports.Scope(campaign.id, org_path, day, campaign.timezone,
                          core.period_of("month", day))
    found = reports.compute(conn, scope, measures, children=False).total

    def number(key: str) -> float | None:
        figure = found.get(key)
        return float(figure) if isinstance(figure, int | float) else None

    return {t.id: core_targets.Reading(number(f"{t.id}\0measure") or 0.0,
                                       number(f"{t.id}\0per"), number(f"{t.id}\0compared"))
            for t in chosen}


def targets_at(conn: Connection, campaign: Campaign, org: OrgRow,
               as_of: dt.date) -> list[dict[str, Any]]:
    """Every target of the campaign for the org's subtree at `as_of`."""
    return measured(conn, campaign, campaign.targets, org.path, as_of)


def measured(conn: Connection, campaign: Campaign, chosen: Sequence[Target], org_path: str,
             as_of: dt.date) -> list[dict[str, Any]]:
    """The chosen targets for the subtree at `org_path` at `as_of`: value, goal, status."""
    if not chosen:
        return []
    now = _readings(conn, campaign, chosen, org_path, as_of)
    passed: dict[dt.date, list[Target]] = defaultdict(list)
    for target in chosen:
        if as_of >= target.by:
            passed[target.by].append(target)
    at_by: dict[str, core_targets.Reading] = {}
    for day, due in passed.items():
        at_by.update(_readings(conn, campaign, due, org_path, day))
    found = []
    for target in chosen:
        then = at_by.get(target.id)
        status, rule = core_targets.status(target, as_of, now[target.id], then)
        shown = core_targets.value(target, then if then is not None else now[target.id])
        if shown is not None and float(shown).is_integer():
            shown = int(shown)
        found.append({"id": target.id, "name": target.name, "by": target.by, "value": shown,
                      "goal": core_targets.goal_text(target), "status": status, "rule": rule,
                      "percent": target.per is not None})
    return found
