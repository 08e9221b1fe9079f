"""Orgs (the administrative tree) and units: create, update, read and list, keeping every
stored org path (on orgs, units, cases, obligations and deployments) in step when one moves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from engine import orgs as core
from engine import texts
from engine.access import Principal, org_path
from engine.errors import Conflict, InputInvalid, NotFound, OutOfScope, StaleVersion, kind_name
from engine.subject_rows import ID_PATTERN, id_rule
from engine.vocabulary import Kind, Vocabulary, check_all
from storage import audit, deliveries, obligations
from storage.campaigns import CampaignRegistry, vocabulary
from storage.query import ancestor_paths, list_contains, prefix_condition, reach
from storage.tables import Case, Delivery, Deployment, Obligation, Org, Subscription, Unit
from storage.tables import Timer as TimerRow

org_t = Org.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
case_t = Case.__table__  # type: ignore[attr-defined]
obligation_t = Obligation.__table__  # type: ignore[attr-defined]
deployment_t = Deployment.__table__  # type: ignore[attr-defined]
timer_t = TimerRow.__table__  # type: ignore[attr-defined]
delivery_t = Delivery.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]



def check_id(kind: str, value: str) -> None:
    if not ID_PATTERN.match(value):
        raise InputInvalid(texts.t("errors.invalid_id", kind=kind_name(kind), value=value,
                                   rule=id_rule()),
                           code="invalid_id")


def words(conn: Connection, registry: CampaignRegistry | None,
          given: Vocabulary | None = None) -> Vocabulary | None:
    """The vocabulary levels, industries and tags are resolved with: the one given, else the
    published campaigns' (with a registry); None (values kept as written) without either."""
    if given is not None or registry is None:
        return given
    return vocabulary(registry, conn)


def resolve_terms(terms: Vocabulary | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """`level`, `industry` and `tags` of an org's or unit's values as ids (engine.vocabulary);
    UnknownTerm naming every unknown one. Other values pass as they are."""
    kinds: dict[str, Kind] = {"level": "level", "industry": "industry", "tags": "tag"}
    if terms is None:
        return dict(values)
    found = check_all(terms, {key: (kinds[key], value) for key, value in values.items()
                              if key in kinds and value is not None})
    return {**values, **found}


def org_row(conn: Connection, org_id: str) -> Any:
    row = conn.execute(select(org_t).where(org_t.c.id == org_id)).one_or_none()
    if row is None:
        raise NotFound("org", org_id)
    return row


def unit_row(conn: Connection, unit_id: str) -> Any:
    row = conn.execute(select(unit_t).where(unit_t.c.id == unit_id)).one_or_none()
    if row is None:
        raise NotFound("unit", unit_id)
    return row


def org_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "level": row.level, "parent": row.parent_id,
            "path": row.path, "version": row.version, "created_at": row.created_at,
            "updated_at": row.updated_at}


def unit_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "org": row.org_id, "industry": row.industry,
            "tags": list(row.tags), "version": row.version, "created_at": row.created_at,
            "updated_at": row.updated_at}


# -- orgs ------------------------------------------------------------------------------------

def create_org(
    conn: Connection, principal: Principal, *, id: str, name: str, level: str,
    parent: str | None, now: dt.datetime, registry: CampaignRegistry | None = None,
    vocabulary: Vocabulary | None = None,
) -> dict[str, Any]:
    """A new org under `parent` (a root org needs an admin token), its level an id or a
    declared name (stored as the id). With `registry`, it gets the obligations of the campaigns
    deployed at or above it, and its level is checked against the published campaigns."""
    check_id("org", id)
    if parent is None:
        if not principal.admin:
            raise OutOfScope(texts.t("errors.what.root_org"), principal.scope)
        path = org_path([id])
    else:
        parent_row = org_row(conn, parent)
        principal.require_org(parent, parent_row.path)
        path = parent_row.path + f"{id}/"
    level = resolve_terms(words(conn, registry, vocabulary), {"level": level})["level"]
    if conn.execute(select(org_t.c.id).where(org_t.c.id == id)).first() is not None:
        raise Conflict(texts.t("errors.exists.org", id=id),
                       code="already_exists")
    conn.execute(insert(org_t).values(id=id, name=name, level=level, parent_id=parent,
                                      path=path, version=1, created_at=now, updated_at=now))
    audit.append(conn, stream=f"org:{id}", at=now, actor=principal.actor, role=None,
                 action="create", data={"name": name, "level": level, "parent": parent})
    if registry is not None:
        obligations.for_new_subjects(conn, registry, [(core.Org(id, name, level, parent), path)],
                                     now=now)
    return org_dict(org_row(conn, id))


def update_org(
    conn: Connection, principal: Principal, org_id: str, changes: Mapping[str, Any], *,
    expected_version: int | None, now: dt.datetime, vocabulary: Vocabulary | None = None,
    registry: CampaignRegistry | None = None,
) -> dict[str, Any]:
    """Change an org's name, level (checked against `vocabulary`) or parent; a move carries
    its whole subtree along and, with `registry`, gives it the obligations of the campaigns
    deployed at its new place."""
    row = org_row(conn, org_id)
    principal.require_org(org_id, row.path)
    changes = resolve_terms(vocabulary, changes)
    if expected_version is not None and expected_version != row.version:
        raise StaleVersion("org", org_id, expected_version, row.version)
    values: dict[str, Any] = {k: changes[k] for k in ("name", "level") if k in changes}
    if "parent" in changes and changes["parent"] != row.parent_id:
        new_parent = changes["parent"]
        if new_parent is None:
            if not principal.admin:
                raise OutOfScope(texts.t("errors.what.making_root_org"), principal.scope)
            new_path = org_path([org_id])
        else:
            target = org_row(conn, new_parent)
            principal.require_org(new_parent, target.path)
            if target.path.startswith(row.path):
                raise InputInvalid(texts.t("errors.org_cycle", org=org_id, parent=new_parent),
                                   code="org_cycle")
            new_path = target.path + f"{org_id}/"
        values.update(parent_id=new_parent)
        _move_subtree(conn, row.path, new_path)
    if not values:
        return org_dict(row)
    changed = conn.execute(update(org_t).where(org_t.c.id == org_id,
                                               org_t.c.version == row.version)
                           .values(**values, version=row.version + 1, updated_at=now))
    if changed.rowcount != 1:
        raise StaleVersion("org", org_id, row.version, row.version + 1)
    audit.append(conn, stream=f"org:{org_id}", at=now, actor=principal.actor, role=None,
                 action="update", data={k: v for k, v in changes.items()})
    after = org_row(conn, org_id)
    if registry is not None and after.path != row.path:
        obligations.for_new_subjects(conn, registry,
                                     obligations.subtree_subjects(conn, after.path), now=now)
    if registry is not None and after.level != row.level:
        obligations.reclassified(conn, registry, [(core_org(row), core_org(after), after.path)],
                                 now=now)
    return org_dict(after)


def core_org(row: Any) -> core.Org:
    """A stored org as the engine sees it (its level decides its duties)."""
    return core.Org(row.id, row.name, row.level, row.parent_id)


def _move_subtree(conn: Connection, old: str, new: str) -> None:
    # Every stored copy of the path moves, also those the deadlines keep: a timer, delivery or
    # subscription left at the old path would show to (and notify) the old subtree.
    for table, column in ((org_t, "path"), (unit_t, "org_path"), (case_t, "org_path"),
                          (obligation_t, "org_path"), (deployment_t, "org_path"),
                          (timer_t, "org_path"), (delivery_t, "org_path"),
                          (subscription_t, "org_path")):
        col = table.c[column]
        rest = func.substr(col, len(old) + 1)
        conn.execute(update(table).where(prefix_condition(col, old))
                     .values({column: literal(new) + rest}))
    # A subscription above the old place (a district's) no longer reaches what moved out of
    # its subtree: what waited for it is cancelled, not sent to the old district.
    deliveries.cancel_unbound(conn, prefix_condition(delivery_t.c.org_path, new))


def get_org(conn: Connection, principal: Principal, org_id: str) -> dict[str, Any]:
    row = org_row(conn, org_id)
    if not principal.sees_org(row.path):
        raise OutOfScope(texts.t("errors.what.org", id=org_id), principal.scope)
    return org_dict(row)


def _org_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.admin:
        return true()
    if principal.scope_kind == "unit":
        # a principal sees its unit's org and the orgs above it
        above: ColumnElement[bool] = org_t.c.path.in_(
            ancestor_paths(principal.unit_org_path or "/"))
        return above
    return prefix_condition(org_t.c.path, principal.scope_path or "\0")


def list_orgs(
    conn: Connection, principal: Principal, *, parent: str | None = None,
    level: str | None = None, under: str | None = None, after: str | None = None,
    limit: int = 100, vocabulary: Vocabulary | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of orgs the caller sees, by id; the id to continue after, if there are more.
    `level` may be a declared name too."""
    level = resolve_terms(vocabulary, {"level": level})["level"]
    conditions = [_org_scope(principal)]
    if parent is not None:
        conditions.append(org_t.c.parent_id == parent)
    if level is not None:
        conditions.append(org_t.c.level == level)
    if under is not None:
        conditions.append(prefix_condition(org_t.c.path, org_row(conn, under).path))
    if after is not None:
        conditions.append(org_t.c.id > after)
    rows = conn.execute(select(org_t).where(*conditions).order_by(org_t.c.id)
                        .limit(limit + 1)).all()
    page = [org_dict(r) for r in rows[:limit]]
    return page, (page[-1]["id"] if len(rows) > limit else None)


# -- units -----------------------------------------------------------------------------------

def create_unit(
    conn: Connection, principal: Principal, *, id: str, name: str, org: str,
    industry: str | None, tags: list[str], now: dt.datetime,
    registry: CampaignRegistry | None = None, vocabulary: Vocabulary | None = None,
) -> dict[str, Any]:
    """A new unit under `org`, its industry and tags ids or declared names (stored as ids).
    With `registry`, it gets the obligations of the campaigns deployed at or above its org, and
    its industry and tags are checked against the published campaigns."""
    check_id("unit", id)
    org_record = org_row(conn, org)
    principal.require_org(org, org_record.path)
    terms = resolve_terms(words(conn, registry, vocabulary), {"industry": industry, "tags": tags})
    industry, tags = terms["industry"], terms["tags"]
    if conn.execute(select(unit_t.c.id).where(unit_t.c.id == id)).first() is not None:
        raise Conflict(texts.t("errors.exists.unit", id=id),
                       code="already_exists")
    clean_tags = sorted(set(tags))
    conn.execute(insert(unit_t).values(id=id, name=name, org_id=org, org_path=org_record.path,
                                       industry=industry, tags=clean_tags, version=1,
                                       created_at=now, updated_at=now))
    audit.append(conn, stream=f"unit:{id}", at=now, actor=principal.actor, role=None,
                 action="create", data={"name": name, "org": org, "industry": industry,
                                        "tags": clean_tags})
    if registry is not None:
        subject = core.Unit(id, name, org, industry, frozenset(clean_tags))
        obligations.for_new_subjects(conn, registry, [(subject, org_record.path)], now=now)
    return unit_dict(unit_row(conn, id))


def update_unit(
    conn: Connection, principal: Principal, unit_id: str, changes: Mapping[str, Any], *,
    expected_version: int | None, now: dt.datetime, vocabulary: Vocabulary | None = None,
    registry: CampaignRegistry | None = None,
) -> dict[str, Any]:
    """Change a unit's name, org, industry or tags (checked against `vocabulary`); moved to
    another org with `registry`, it gets the obligations of the campaigns deployed there
    (current and later periods), as a unit added there would."""
    row = unit_row(conn, unit_id)
    principal.require_unit(unit_id, row.org_path)
    if principal.scope_kind == "unit":
        raise OutOfScope(texts.t("errors.what.changing_unit", id=unit_id), principal.scope)
    changes = resolve_terms(vocabulary, changes)
    if expected_version is not None and expected_version != row.version:
        raise StaleVersion("unit", unit_id, expected_version, row.version)
    values: dict[str, Any] = {k: changes[k] for k in ("name", "industry") if k in changes}
    if "tags" in changes:
        values["tags"] = sorted(set(changes["tags"] or []))
    if "org" in changes and changes["org"] != row.org_id:
        target = org_row(conn, changes["org"])
        principal.require_org(changes["org"], target.path)
        values.update(org_id=changes["org"], org_path=target.path)
        _move_unit(conn, unit_id, target.path)
    if not values:
        return unit_dict(row)
    changed = conn.execute(update(unit_t).where(unit_t.c.id == unit_id,
                                                unit_t.c.version == row.version)
                           .values(**values, version=row.version + 1, updated_at=now))
    if changed.rowcount != 1:
        raise StaleVersion("unit", unit_id, row.version, row.version + 1)
    audit.append(conn, stream=f"unit:{unit_id}", at=now, actor=principal.actor, role=None,
                 action="update", data=dict(changes))
    after = unit_row(conn, unit_id)
    if registry is not None:
        before_s, after_s = core_unit(row), core_unit(after)
        if (before_s.industry, before_s.tags) != (after_s.industry, after_s.tags):
            obligations.reclassified(conn, registry, [(before_s, after_s, after.org_path)],
                                     now=now)
        elif after.org_path != row.org_path:
            obligations.for_new_subjects(conn, registry, [(after_s, after.org_path)], now=now)
    return unit_dict(after)


def core_unit(row: Any) -> core.Unit:
    """A stored unit as the engine sees it (its industry and tags decide its duties)."""
    return core.Unit(row.id, row.name, row.org_id, row.industry, frozenset(row.tags or ()))


def _move_unit(conn: Connection, unit_id: str, path: str) -> None:
    """Carry a unit's cases, obligations, timers and deliveries to the org at `path`, so that
    the new street sees, is reminded of and redrives them, and the old one no longer does."""
    conn.execute(update(case_t).where(case_t.c.unit_id == unit_id).values(org_path=path))
    conn.execute(update(obligation_t).where(obligation_t.c.subject_kind == "unit",
                                            obligation_t.c.subject_id == unit_id)
                 .values(org_path=path))
    conn.execute(update(timer_t).where(timer_t.c.unit_id == unit_id).values(org_path=path))
    # A delivery knows its unit through the timer that queued it (case and obligation timers
    # carry the unit; timers are kept once handled).
    mine = delivery_t.c.timer_id.in_(select(timer_t.c.id).where(timer_t.c.unit_id == unit_id))
    conn.execute(update(delivery_t).where(mine).values(org_path=path))
    # Those still to send to the old street's subscription are cancelled, not sent there.
    deliveries.cancel_unbound(conn, mine)


def get_unit(conn: Connection, principal: Principal, unit_id: str) -> dict[str, Any]:
    row = unit_row(conn, unit_id)
    principal.require_unit(unit_id, row.org_path)
    return unit_dict(row)


def list_units(
    conn: Connection, principal: Principal, *, org: str | None = None,
    industry: str | None = None, tag: str | None = None, after: str | None = None,
    limit: int = 100, vocabulary: Vocabulary | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of units the caller reaches (under `org` if given), by id; `industry` and `tag`
    may be declared names too."""
    terms = resolve_terms(vocabulary, {"industry": industry, "tags": [tag] if tag else None})
    industry, tag = terms["industry"], (terms["tags"] or [None])[0]
    conditions = [reach(principal, unit_t.c.org_path, unit_t.c.id)]
    if org is not None:
        conditions.append(prefix_condition(unit_t.c.org_path, org_row(conn, org).path))
    if industry is not None:
        conditions.append(unit_t.c.industry == industry)
    if after is not None:
        conditions.append(unit_t.c.id > after)
    if tag is not None:
        conditions.append(list_contains(conn, unit_t.c.tags, tag))
    rows = conn.execute(select(unit_t).where(*conditions).order_by(unit_t.c.id)
                        .limit(limit + 1)).all()
    page = [unit_dict(r) for r in rows[:limit]]
    return page, (page[-1]["id"] if len(rows) > limit else None)


def unit_names(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """The names of these units, in one query (a page of cases names at most a page's)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(unit_t.c.id, unit_t.c.name).where(unit_t.c.id.in_(wanted)))
    return {row.id: row.name for row in rows}
