"""Obligations (规定动作): a campaign's checks expanded into dated rows for its units and orgs
when the campaign is deployed or a subject is added, listed within the caller's scope, and
completed with evidence checked against the check's schema.

Expansion streams: subjects are read page by page and rows are written in batches, so that
deploying to a province never holds its units or their obligations in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, Literal

from jsonschema import Draft202012Validator
from sqlalchemy import (
    Connection,
    and_,
    case,
    delete,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from engine import limits, texts
from engine import orgs as core
from engine.access import Principal
from engine.checks import Expander
from engine.dates import local_date
from engine.document import format_path
from engine.errors import Conflict, Forbidden, InputInvalid, NotFound, OutOfScope
from engine.limits import DateRange
from engine.model import ROLE_SEPARATOR, Check, roles_of
from engine.schema import format_checker
from engine.texts import listed
from storage import audit, timers
from storage.campaigns import (
    CampaignRegistry,
    Published,
    VersionRow,
    by_number,
    deployed_campaigns_at,
    deployments,
)
from storage.query import (
    Days,
    as_days,
    cursor_date,
    cursor_row_id,
    decode_cursor,
    encode_cursor,
    prefix_condition,
    reach,
)
from storage.tables import Completion, Obligation, Org, Unit
from storage.types import UTCDateTime

obligation_t = Obligation.__table__  # type: ignore[attr-defined]
completion_t = Completion.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]

Status = Literal["open", "done", "missed"]
# An engine subject and the org path its obligations are filed under (a unit's org's path, or
# an org's own): the engine's Unit and Org know their parent's id, not the stored path.
Placed = tuple[core.Unit | core.Org, str]

INSERT_BATCH = 5000
SUBJECT_BATCH = 1000
_UNIQUE = ("campaign_id", "check_id", "subject_id", "due", "period")


# -- expansion -------------------------------------------------------------------------------

def materialize(conn: Connection, published: Published, subjects: Iterable[Placed], *,
                start: dt.date | None = None, since: dt.date | None = None,
                checks: Collection[str] | None = None, now: dt.datetime | None = None) -> int:
    """Store the campaign's obligations of `subjects` (due on or after `start`, of a period
    that ends on or after `since`, of `checks` only, when given), skipping those stored
    already, and arm their reminders that are still ahead of `now`; the number of rows
    inserted."""
    campaign = published.loaded.campaign
    expander = Expander(campaign, published.deadlines, start=start)
    statement = _insert_ignoring_duplicates(conn)
    inserted = 0
    batch: list[dict[str, Any]] = []
    for subject, path in subjects:
        for o in expander.for_subject(subject):
            if since is not None and max(o.last or o.due, o.due) < since:
                continue  # a period that ended before the subject came (or the check did)
            if checks is not None and o.check not in checks:
                continue
            batch.append({
                "campaign_id": campaign.id, "campaign_version_id": published.row.id,
                "check_id": o.check, "name": o.name, "role": o.role,
                "subject_kind": o.subject_kind, "subject_id": o.subject, "org_path": path,
                "period": o.period or "", "due": o.due, "times": o.times, "done": 0,
                "variant": o.variant, "report": o.report, "completed_at": None,
                "provisional_day": o.provisional})
        if len(batch) >= INSERT_BATCH:
            inserted += _write(conn, published, statement, batch, now)
            batch = []
    return inserted + (_write(conn, published, statement, batch, now) if batch else 0)


_ARMED = (obligation_t.c.id, obligation_t.c.check_id, obligation_t.c.due, obligation_t.c.role,
          obligation_t.c.org_path, obligation_t.c.subject_kind, obligation_t.c.subject_id,
          obligation_t.c.provisional_day)


def _write(conn: Connection, published: Published, statement: Any,
           rows: list[dict[str, Any]], now: dt.datetime | None) -> int:
    # executemany's rowcount is -1 on psycopg; RETURNING (batched by SQLAlchemy's
    # insertmanyvalues on both dialects) yields exactly the rows that went in, which are
    # the ones whose reminders need arming.
    stored = conn.execute(statement.returning(*_ARMED), rows).all()
    timers.insert_new(conn, timers.obligation_timer_rows(published, stored, now=now))
    return len(stored)


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    # Re-expanding (a second deployment above, a retried request) must not fail on rows that
    # exist; the unique key says which those are.
    if conn.dialect.name == "postgresql":
        return postgresql.insert(obligation_t).on_conflict_do_nothing(index_elements=_UNIQUE)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(obligation_t).on_conflict_do_nothing(index_elements=_UNIQUE)
    raise RuntimeError(f"obligations are not supported on {conn.dialect.name}")


def subtree_subjects(conn: Connection, path: str, *,
                     batch: int = SUBJECT_BATCH) -> Iterator[Placed]:
    """Every org and unit in the subtree at `path`, read one page at a time."""
    last_path = ""
    while True:
        rows = conn.execute(select(org_t).where(prefix_condition(org_t.c.path, path),
                                                org_t.c.path > last_path)
                            .order_by(org_t.c.path).limit(batch)).all()
        for r in rows:
            yield core.Org(r.id, r.name, r.level, r.parent_id), r.path
        if len(rows) < batch:
            break
        last_path = rows[-1].path
    after: tuple[str, str] | None = None
    while True:
        query = select(unit_t).where(prefix_condition(unit_t.c.org_path, path))
        if after is not None:
            query = query.where(or_(unit_t.c.org_path > after[0],
                                    and_(unit_t.c.org_path == after[0], unit_t.c.id > after[1])))
        rows = conn.execute(query.order_by(unit_t.c.org_path, unit_t.c.id).limit(batch)).all()
        for r in rows:
            yield core.Unit(r.id, r.name, r.org_id, r.industry, frozenset(r.tags)), r.org_path
        if len(rows) < batch:
            break
        after = (rows[-1].org_path, rows[-1].id)


def for_new_subjects(conn: Connection, registry: CampaignRegistry, subjects: Iterable[Placed],
                     *, now: dt.datetime) -> int:
    """Obligations of units or orgs just added (or moved), under the campaigns deployed at or
    above them. A subject added later owes the current period's duties and those after it (a
    unit added in June owes June's monthly inspection, even once its due day has passed), and
    the one-off duties still ahead; not those of periods that ended before it came."""
    campaigns_at: dict[str, list[str]] = {}
    by_campaign: dict[str, list[Placed]] = defaultdict(list)
    for placed in subjects:
        path = placed[1]
        if path not in campaigns_at:
            campaigns_at[path] = deployed_campaigns_at(conn, path)
        for campaign_id in campaigns_at[path]:
            by_campaign[campaign_id].append(placed)
    inserted = 0
    for campaign_id, placed_ones in sorted(by_campaign.items()):
        published = registry.newest(conn, campaign_id)
        today = local_date(now, published.loaded.campaign.timezone)
        inserted += materialize(conn, published, placed_ones, since=today, now=now)
    return inserted


def reclassified(conn: Connection, registry: CampaignRegistry,
                 changes: Iterable[tuple[core.Unit | core.Org, core.Unit | core.Org, str]], *,
                 now: dt.datetime) -> int:
    """Obligations of units or orgs whose industry, tags or level changed (`before`, `after`,
    path): they owe what a subject just added there would (the current period's duties and
    later ones, `for_new_subjects`), and the duties they no longer owe — of periods not yet
    ended, not done at all — are withdrawn with their pending reminders, so a plant corrected
    from 危险化学品 to 其他 is no longer reminded monthly. A duty done, or done in part, stays:
    it is a record. The number withdrawn."""
    withdrawn = 0
    placed: list[Placed] = []
    # one lookup per org path and one expander per campaign, however many subjects an import
    # re-classifies: an expander computes each schedule once for all the subjects it is given
    campaigns_at: dict[str, list[str]] = {}
    expanders: dict[str, tuple[Expander, dt.date]] = {}
    for before, after, path in changes:
        placed.append((after, path))
        if path not in campaigns_at:
            campaigns_at[path] = deployed_campaigns_at(conn, path)
        for campaign_id in campaigns_at[path]:
            if campaign_id not in expanders:
                published = registry.newest(conn, campaign_id)
                campaign = published.loaded.campaign
                expanders[campaign_id] = (Expander(campaign, published.deadlines),
                                          local_date(now, campaign.timezone))
            expander, today = expanders[campaign_id]
            gone = _owed(expander, before, today) - _owed(expander, after, today)
            if gone:
                withdrawn += _withdraw(conn, campaign_id, after, gone)
    for_new_subjects(conn, registry, placed, now=now)
    return withdrawn


def _owed(expander: Expander, subject: core.Unit | core.Org,
          today: dt.date) -> set[tuple[str, dt.date, str]]:
    """The duties a subject owes of periods not ended by `today` (check, due, period)."""
    return {(o.check, o.due, o.period or "") for o in expander.for_subject(subject)
            if max(o.last or o.due, o.due) >= today}


def _withdraw(conn: Connection, campaign_id: str, subject: core.Unit | core.Org,
              gone: set[tuple[str, dt.date, str]]) -> int:
    kind = "unit" if isinstance(subject, core.Unit) else "org"
    rows = conn.execute(select(obligation_t.c.id, obligation_t.c.check_id, obligation_t.c.due,
                               obligation_t.c.period)
                        .where(obligation_t.c.campaign_id == campaign_id,
                               obligation_t.c.subject_kind == kind,
                               obligation_t.c.subject_id == subject.id,
                               obligation_t.c.done == 0)).all()
    ids = [r.id for r in rows if (r.check_id, r.due, r.period) in gone]
    if ids:
        timers.cancel_obligation_timers(conn, ids)
        conn.execute(delete(obligation_t).where(obligation_t.c.id.in_(ids)))
    return len(ids)


def after_publishing(conn: Connection, registry: CampaignRegistry, row: VersionRow, *,
                     now: dt.datetime) -> int:
    """What a version just published owes the places its campaign runs: the checks its
    previous version lacked (for_new_checks); the number of obligations stored."""
    if row.number <= 1:
        return 0
    previous = registry.get(conn, by_number(conn, row.campaign_id, row.number - 1).id)
    return for_new_checks(conn, registry, registry.get(conn, row.id), previous, now=now)


def for_new_checks(conn: Connection, registry: CampaignRegistry, published: Published,
                   previous: Published | None, *, now: dt.datetime) -> int:
    """A new version's checks that the previous version lacked, reaching every org and unit
    where the campaign is deployed: their current and later periods' duties (as for a subject
    added now). Checks the versions share keep the obligations they have."""
    if previous is None:
        return 0
    known = {c.id for c in previous.loaded.campaign.checks}
    added = {c.id for c in published.loaded.campaign.checks} - known
    if not added:
        return 0
    today = local_date(now, published.loaded.campaign.timezone)
    inserted = 0
    for deployment in deployments(conn, published.row.campaign_id):
        inserted += materialize(conn, published, subtree_subjects(conn, deployment["org_path"]),
                                since=today, checks=added, now=now)
    return inserted


# -- reading ---------------------------------------------------------------------------------

def status_of(done: int, times: int, due: dt.date, today: dt.date) -> Status:
    if done >= times:
        return "done"
    return "missed" if due < today else "open"


def obligation_dict(row: Any, today: dt.date) -> dict[str, Any]:
    return {"id": row.id, "campaign": row.campaign_id, "check": row.check_id, "name": row.name,
            "role": row.role, "subject_kind": row.subject_kind, "subject": row.subject_id,
            "org_path": row.org_path, "period": row.period or None, "due": row.due,
            "times": row.times, "done": row.done,
            "status": status_of(row.done, row.times, row.due, today), "variant": row.variant,
            "report": row.report, "completed_at": row.completed_at,
            # counted over a year nobody covers yet: recomputed when that year is added
            "provisional": row.provisional_day is not None}


def _scope(principal: Principal) -> ColumnElement[bool]:
    mine = reach(principal, obligation_t.c.org_path, obligation_t.c.subject_id)
    # org and unit ids are separate namespaces: a unit token's rows are unit obligations
    return and_(mine, obligation_t.c.subject_kind == "unit") if (
        principal.scope_kind == "unit") else mine


def _status_condition(status: Status, today: Days) -> ColumnElement[bool]:
    c = obligation_t.c
    if status == "done":
        finished: ColumnElement[bool] = c.done >= c.times
        return finished
    passed = today.before(c.due, c.campaign_id)  # in the campaign's own time zone
    if status == "missed":
        return and_(c.done < c.times, passed)
    return and_(c.done < c.times, not_(passed))


def _org_path(conn: Connection, org_id: str) -> str:
    path = conn.execute(select(org_t.c.path).where(org_t.c.id == org_id)).scalar()
    if path is None:
        raise NotFound("org", org_id)
    return str(path)


def list_obligations(
    conn: Connection, principal: Principal, *, unit: str | None = None, org: str | None = None,
    status: Status | None = None, due_from: dt.date | None = None,
    due_to: dt.date | None = None, check: str | None = None, campaign: str | None = None,
    role: str | None = None, limit: int, cursor: str | None, today: dt.date | Days,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the obligations the caller reaches, by due date then id; the next cursor.
    `today` judges "missed": each campaign's own day (storage.query.Days) or one for all."""
    c = obligation_t.c
    days = as_days(today)
    conditions = [_scope(principal)]
    if unit is not None:
        conditions.append(and_(c.subject_kind == "unit", c.subject_id == unit))
    if org is not None:
        conditions.append(prefix_condition(c.org_path, _org_path(conn, org)))
    if status is not None:
        conditions.append(_status_condition(status, days))
    if due_from is not None:
        conditions.append(c.due >= due_from)
    if due_to is not None:
        conditions.append(c.due <= due_to)
    for column, value in ((c.check_id, check), (c.campaign_id, campaign)):
        if value is not None:
            conditions.append(column == value)
    if role is not None:  # one of a duty's roles, when it has several (ids hold no comma)
        sep = ROLE_SEPARATOR
        conditions.append(or_(c.role == role, (literal(sep) + c.role + literal(sep))
                              .contains(sep + role + sep, autoescape=True)))
    if cursor is not None:
        due, last_id = _decode(cursor)
        conditions.append(or_(c.due > due, and_(c.due == due, c.id > last_id)))
    rows = conn.execute(select(obligation_t).where(*conditions).order_by(c.due, c.id)
                        .limit(limit + 1)).all()
    page = [obligation_dict(r, days.of(r.campaign_id)) for r in rows[:limit]]
    more = len(rows) > limit
    return page, (encode_cursor([page[-1]["due"].isoformat(), page[-1]["id"]]) if more else None)


def _decode(cursor: str) -> tuple[dt.date, int]:
    due, last_id = decode_cursor(cursor, 2)
    return cursor_date(due), cursor_row_id(last_id)


def _row(conn: Connection, principal: Principal, obligation_id: int) -> Any:
    row = conn.execute(select(obligation_t).where(obligation_t.c.id == obligation_id)
                       ).one_or_none()
    if row is None:
        raise NotFound("obligation", obligation_id)
    reached = (principal.reaches_unit(row.subject_id, row.org_path)
               if row.subject_kind == "unit" else principal.reaches_org(row.org_path))
    if not reached:
        raise OutOfScope(texts.t("errors.what.obligation", id=obligation_id,
                                 subject=texts.t(f"errors.what.{row.subject_kind}",
                                                 id=row.subject_id)), principal.scope)
    return row


def _check(published: Published, check_id: str) -> Check:
    return next(c for c in published.loaded.campaign.checks if c.id == check_id)


def get_obligation(conn: Connection, principal: Principal, obligation_id: int, *,
                   registry: CampaignRegistry, today: dt.date | Days) -> dict[str, Any]:
    """One obligation the caller reaches, with the evidence schema a completion must meet."""
    row = _row(conn, principal, obligation_id)
    published = registry.get(conn, row.campaign_version_id)
    check = _check(published, row.check_id)
    return {**obligation_dict(row, as_days(today).of(row.campaign_id)),
            "campaign_version": published.row.number,
            "evidence_schema": check.evidence, "basis": check.basis}


def _completion_dict(row: Any, due: dt.date, timezone: str) -> dict[str, Any]:
    return {"id": row.id, "obligation_id": row.obligation_id, "actor": row.actor,
            "role": row.role, "at": row.at, "evidence": row.evidence,
            "late": local_date(row.at, timezone) > due}


def list_completions(conn: Connection, principal: Principal, obligation_id: int, *,
                     registry: CampaignRegistry) -> list[dict[str, Any]]:
    """Every completion of an obligation, oldest first (at most `times` of them)."""
    row = _row(conn, principal, obligation_id)
    timezone = registry.get(conn, row.campaign_version_id).loaded.campaign.timezone
    found = conn.execute(select(completion_t).where(completion_t.c.obligation_id == row.id)
                         .order_by(completion_t.c.at, completion_t.c.id))
    return [_completion_dict(r, row.due, timezone) for r in found]


# -- completing ------------------------------------------------------------------------------

def evidence_problems(schema: Mapping[str, Any] | None, evidence: Mapping[str, Any],
                      dates: DateRange | None = None) -> list[dict[str, str]]:
    """Every way `evidence` fails the check's schema, each with its JSON path; first the
    bounds every record keeps (engine.limits: nesting, text, size; dates near the campaign),
    before the schema walks data that may break them."""
    breaches = limits.problems(evidence)
    if breaches:
        return [{"path": "$" + (f".{b.path}" if b.path else ""), "message": b.message}
                for b in breaches]
    problems = list(_nul_problems(evidence, []))
    if dates is not None and isinstance(schema, Mapping):
        problems.extend(_date_problems(schema, evidence, dates))
    if schema is None:
        return problems
    validator = Draft202012Validator(schema, format_checker=format_checker())
    errors = sorted(validator.iter_errors(evidence), key=lambda e: format_path(e.absolute_path))
    for error in errors:
        parts = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            properties = error.schema.get("properties", {}) if isinstance(error.schema,
                                                                          dict) else {}
            for name in error.validator_value:
                if name not in error.instance:
                    title = properties.get(name, {}).get("title")
                    problems.append({"path": format_path([*parts, name]),
                                     "message": f"missing required field {name!r}"
                                                + (f" ({title})" if title else "")})
            continue
        title = error.schema.get("title") if isinstance(error.schema, dict) else None
        problems.append({"path": format_path(parts),
                         "message": error.message + (f" ({title})" if title else "")})
    return problems


def _date_problems(schema: Mapping[str, Any], evidence: Mapping[str, Any],
                   dates: DateRange) -> Iterator[dict[str, str]]:
    """The evidence's dates (properties of `format: date` or `date-time`) far from the
    campaign: 0001-01-01 is a typing error, not a date an inspection was made."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return
    for name, value in evidence.items():
        spec = properties.get(name)
        kind = spec.get("format") if isinstance(spec, Mapping) else None
        if kind in ("date", "date-time"):
            found = dates.problem(name, value, datetime=kind == "date-time")
            if found:
                yield {"path": format_path([name]), "message": found.message}


def _nul_problems(value: Any, parts: list[str | int]) -> Iterator[dict[str, str]]:
    # PostgreSQL cannot store U+0000 in text or JSONB; refuse it on every database alike.
    if isinstance(value, str) and "\x00" in value:
        yield {"path": format_path(parts), "message": "text may not contain U+0000 (NUL)"}
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if "\x00" in str(key):
                yield {"path": format_path(parts), "message": "a key contains U+0000 (NUL)"}
            else:
                yield from _nul_problems(item, [*parts, str(key)])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_problems(item, [*parts, index])


def complete(
    conn: Connection, principal: Principal, obligation_id: int, *,
    evidence: Mapping[str, Any], registry: CampaignRegistry, now: dt.datetime,
) -> dict[str, Any]:
    """Record one completion with its evidence; late when made after the due date."""
    row = _row(conn, principal, obligation_id)
    # a duty of several roles (各社区和各有关部门) is done by a holder of any of them
    mine = [r for r in roles_of(row.role) if r in principal.roles]
    if not mine:
        held = listed(sorted(principal.roles)) or texts.t("problem.no_role")
        needed = listed(map(repr, roles_of(row.role)), "errors.list.or")
        raise Forbidden(texts.t("errors.action.complete", id=obligation_id, check=row.check_id),
                        texts.t("errors.needs.role", roles=needed, held=held))
    if row.done >= row.times:
        raise _already_done(row)
    if row.report is not None:
        # a reporting duty is done by filing the report: its figures are the evidence
        raise Conflict(texts.t("errors.report_required", id=obligation_id, check=row.check_id,
                               report=row.report, period=row.period or row.due,
                               campaign=row.campaign_id),
                       code="report_required")
    published = registry.get(conn, row.campaign_version_id)
    check = _check(published, row.check_id)
    problems = evidence_problems(check.evidence, evidence,
                                 DateRange.for_campaign(published.loaded.campaign))
    if problems:
        where = listed((texts.t("errors.term.problem", field=p["path"], message=p["message"])
                        for p in problems[:5]), "list.semicolon")
        raise InputInvalid(texts.t("errors.evidence_invalid", id=obligation_id,
                                   check=row.check_id, where=where),
                           problems, code="evidence_invalid")
    c = obligation_t.c
    # The increment is guarded by `done < times` so that concurrent completions can never
    # push an obligation past its count; SET expressions see the row as it was.
    changed = conn.execute(
        update(obligation_t).where(c.id == row.id, c.done < c.times)
        .values(done=c.done + 1,
                completed_at=case((c.done + 1 >= c.times, literal(now, UTCDateTime())),
                                  else_=c.completed_at))
        .returning(c.done)).scalar_one_or_none()
    if changed is None:
        raise _already_done(row)
    timezone = published.loaded.campaign.timezone
    late = local_date(now, timezone) > row.due
    completion_id = conn.execute(insert(completion_t).values(
        obligation_id=row.id, actor=principal.actor, role=mine[0], at=now,
        evidence=dict(evidence)).returning(completion_t.c.id)).scalar_one()
    audit.append(conn, stream=f"obligation:{row.id}", at=now, actor=principal.actor,
                 role=mine[0], action="complete",
                 data={"completion": completion_id, "evidence": dict(evidence),
                       "done": changed, "times": row.times, "late": late})
    after = conn.execute(select(obligation_t).where(c.id == row.id)).one()
    completion = conn.execute(select(completion_t).where(completion_t.c.id == completion_id)
                              ).one()
    return {"completion": _completion_dict(completion, row.due, timezone),
            "obligation": obligation_dict(after, local_date(now, timezone))}


def _already_done(row: Any) -> Conflict:
    return Conflict(texts.t("errors.already_done", id=row.id, check=row.check_id, due=row.due,
                            times=row.times),
                    code="already_done")
