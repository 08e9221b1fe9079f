"""Bulk import of orgs and units from a sheet, keyed by the caller's ids: every row is checked
(on its own by engine.subject_rows, then against what is stored) before anything is written,
then new rows are inserted, changed ones updated and the rest left alone, all in the caller's
transaction. The same import serves `POST /orgs/import`, `POST /units/import` and `paicha
import`.

The sheet is anything shaped like `paicha.sheets.Sheet` (storage does not import the reader).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine import orgs as core
from engine import texts
from engine.access import Principal
from engine.errors import Conflict, OutOfScope, scope_words
from engine.subject_rows import (
    Progress,
    Report,
    Sheet,
    check_orgs,
    check_units,
    no_checkpoint,
    no_progress,
)
from engine.vocabulary import Vocabulary
from storage import audit, obligations
from storage.campaigns import CampaignRegistry
from storage.subjects import (
    _move_subtree,
    case_t,
    core_org,
    core_unit,
    obligation_t,
    org_t,
    timer_t,
    unit_t,
    words,
)

Counts = dict[str, int]  # created, updated, unchanged

CHUNK = 500  # ids per IN (...) lookup: SQLite caps bound parameters
MAX_PATH = 2000


@dataclass
class Outcome:
    """What an import did (or, with a dry run, would do): the counts, and each record created
    or updated with the values written (for an update, only those that change)."""

    created: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    updated: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def counts(self) -> Counts:
        return {"created": len(self.created), "updated": len(self.updated),
                "unchanged": self.unchanged}

    def records(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(action: create or update, id, values) of each record written, the new ones first."""
        for action, records in (("create", self.created), ("update", self.updated)):
            for key, values in records:
                yield action, key, values


def _report(sheet: Sheet, principal: Principal, what: str) -> Report:
    if principal.scope_kind == "unit":
        raise OutOfScope(texts.t(f"errors.what.importing_{what}"), principal.scope)
    return Report.of(sheet)


def _words(conn: Connection, registry: CampaignRegistry | None,
           vocabulary: Vocabulary | None) -> Vocabulary:
    return words(conn, registry, vocabulary) or Vocabulary({})


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    wanted = sorted(set(ids))
    return (wanted[start:start + CHUNK] for start in range(0, len(wanted), CHUNK))


def _existing(conn: Connection, table: Any, ids: Iterable[str]) -> dict[str, Any]:
    return {r.id: r for chunk in _chunks(ids)
            for r in conn.execute(select(table).where(table.c.id.in_(chunk)))}


def _org_paths(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    return {key: path for chunk in _chunks(ids) for key, path in
            conn.execute(select(org_t.c.id, org_t.c.path).where(org_t.c.id.in_(chunk)))}


def _audit(conn: Connection, principal: Principal, stream: str, now: dt.datetime,
           data: Mapping[str, Any]) -> None:
    audit.append(conn, stream=stream, at=now, actor=principal.actor, role=None, action="import",
                 data=data)


def _written(error: IntegrityError) -> Conflict:
    return Conflict(texts.t("errors.import.concurrent"), code="concurrent_write")


# -- orgs ------------------------------------------------------------------------------------

def import_orgs(conn: Connection, principal: Principal, sheet: Sheet, now: dt.datetime, *,
                dry_run: bool = False, registry: CampaignRegistry | None = None,
                vocabulary: Vocabulary | None = None,
                checkpoint: Callable[[], None] = no_checkpoint,
                progress: Progress = no_progress) -> Outcome:
    """Create or update the sheet's orgs (columns id, name, level, parent; parents may come
    after their children; levels by id or declared name, stored as ids); raises InputInvalid
    listing every bad row, writing nothing. The vocabulary is the published campaigns' (with
    `registry`) unless one is given."""
    report = _report(sheet, principal, "orgs")
    checked = check_orgs(sheet, report, _words(conn, registry, vocabulary),
                         checkpoint=checkpoint, progress=progress)
    rows = {key: found.row for key, found in checked.items()}
    in_file = {row.values["id"] for row in sheet.rows}
    existing = _existing(conn, org_t, rows)
    # A file without a parent column leaves stored orgs where they are.
    parents: dict[str, str | None] = {
        key: found.values["parent"] if "parent" in found.values
        else (existing[key].parent_id if key in existing else None)
        for key, found in checked.items()}
    stored = _org_paths(conn, (p for p in parents.values() if p and p not in rows))
    for key, above in parents.items():
        # a parent on a bad row of this file is reported there, not again here
        if above is not None and above not in in_file and above not in stored:
            report.add(rows[key], "parent", texts.t("errors.row.unknown_parent", id=above),
                       texts.t("errors.row.unknown_parent.hint"))
    paths, cycles = _final_paths(parents, stored)
    for key, loop in cycles.items():
        report.add(rows[key], "parent", texts.t("errors.row.own_ancestor", id=key,
                                                loop=" → ".join(loop)),
                   texts.t("errors.row.own_ancestor.hint"))
    for key, path in paths.items():
        old = existing[key].path if key in existing else None
        if len(path) > MAX_PATH:
            report.add(rows[key], "parent", texts.t("errors.row.too_deep"))
        elif old is not None and not principal.reaches_org(old):
            report.add(rows[key], "id", texts.t("errors.row.org_out_of_scope", id=key,
                                                scope=scope_words(principal.scope)),
                       texts.t("errors.row.leave_out"))
        elif not principal.reaches_org(path) and parents[key] is None:
            report.add(rows[key], "parent", texts.t("errors.row.root_needs_admin"),
                       texts.t("errors.row.root_needs_admin.hint"))
        elif not principal.reaches_org(path):
            report.add(rows[key], "parent", texts.t("errors.row.parent_out_of_scope",
                                                    id=parents[key],
                                                    scope=scope_words(principal.scope)),
                       texts.t("errors.row.parent_out_of_scope.hint"))
    report.raise_any()
    checkpoint()  # the last moment to stop: what follows writes

    new: list[dict[str, Any]] = []
    changed: list[tuple[Any, dict[str, Any]]] = []
    outcome = Outcome()
    for key, found in checked.items():
        values = {"name": found.values["name"], "level": found.values["level"],
                  "parent_id": parents[key]}
        old = existing.get(key)
        shown = {"name": values["name"], "level": values["level"], "parent": parents[key]}
        if old is None:
            new.append({"id": key, **values, "path": paths[key], "version": 1,
                        "created_at": now, "updated_at": now})
            outcome.created.append((key, shown))
        elif any(getattr(old, k) != v for k, v in values.items()):
            changed.append((old, {"o_id": key, **{f"o_{k}": v for k, v in values.items()}}))
            before = {"name": old.name, "level": old.level, "parent": old.parent_id}
            outcome.updated.append((key, {k: v for k, v in shown.items() if before[k] != v}))
        else:
            outcome.unchanged += 1
    progress("写入", 0, None)
    if dry_run:
        return outcome
    try:
        _write_orgs(conn, new, changed, paths, now)
    except IntegrityError as exc:
        raise _written(exc) from exc
    for created in new:
        _audit(conn, principal, f"org:{created['id']}", now,
               {"name": created["name"], "level": created["level"],
                "parent": created["parent_id"], "file": sheet.source})
    for old, values in changed:
        diff = {k: values[f"o_{k}"] for k in ("name", "level", "parent_id")
                if getattr(old, k) != values[f"o_{k}"]}
        if "parent_id" in diff:
            diff["parent"] = diff.pop("parent_id")
        _audit(conn, principal, f"org:{old.id}", now, {**diff, "file": sheet.source})
    if registry is not None:  # what a new, moved or re-levelled org owes (as PATCH /orgs)
        obligations.for_new_subjects(conn, registry, [
            (core.Org(v["id"], v["name"], v["level"], v["parent_id"]), v["path"]) for v in new],
            now=now)
        for old, values in changed:
            if old.parent_id != values["o_parent_id"]:
                obligations.for_new_subjects(
                    conn, registry, obligations.subtree_subjects(conn, paths[old.id]), now=now)
        obligations.reclassified(conn, registry, [
            (core_org(old), core.Org(old.id, values["o_name"], values["o_level"],
                                     values["o_parent_id"]), paths[old.id])
            for old, values in changed if old.level != values["o_level"]], now=now)
    return outcome


def _write_orgs(conn: Connection, new: list[dict[str, Any]],
                changed: list[tuple[Any, dict[str, Any]]], paths: Mapping[str, str],
                now: dt.datetime) -> None:
    # New orgs first, parents before children, so that every parent_id (also a stored org's
    # new parent) names a row. They go in at their final paths, which no move below touches:
    # a move only rewrites paths under the mover's old path.
    if new:
        conn.execute(insert(org_t), sorted(new, key=lambda values: values["path"].count("/")))
    if not changed:
        return
    conn.execute(update(org_t).where(org_t.c.id == bindparam("o_id"))
                 .values(name=bindparam("o_name"), level=bindparam("o_level"),
                         parent_id=bindparam("o_parent_id"),
                         version=org_t.c.version + 1, updated_at=now),
                 [values for _, values in changed])
    # Shallowest first: by the time an org moves, its new ancestors are where they will stay,
    # and whatever it carries along is moved on later from wherever it then is.
    moved = sorted((old.id for old, values in changed
                    if old.parent_id != values["o_parent_id"]),
                   key=lambda key: paths[key].count("/"))
    for key in moved:
        current = conn.execute(select(org_t.c.path).where(org_t.c.id == key)).scalar_one()
        if current != paths[key]:
            _move_subtree(conn, current, paths[key])


def _final_paths(parents: Mapping[str, str | None], stored: Mapping[str, str]
                 ) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each imported org's path once the import is done, and the orgs caught in a loop (with
    the loop). A stored parent's path may itself change when an org above it is imported with
    another parent, so every path hangs from the nearest imported org above it."""
    steps: dict[str, tuple[str | None, str]] = {}  # org -> (imported org above, path between)
    for key, parent in parents.items():
        if parent is None:
            steps[key] = (None, "/")
        elif parent in parents:
            steps[key] = (parent, "")
        elif parent in stored:
            segments = stored[parent].strip("/").split("/")
            cut = max((i for i, s in enumerate(segments) if s in parents), default=None)
            if cut is None:
                steps[key] = (None, stored[parent])
            else:
                steps[key] = (segments[cut], "".join(f"{s}/" for s in segments[cut + 1:]))
    paths: dict[str, str] = {}
    failed: set[str] = set()
    cycles: dict[str, list[str]] = {}
    for start in steps:
        chain: list[str] = []
        at = start
        while at not in paths and at not in failed and at in steps and at not in chain:
            chain.append(at)
            above = steps[at][0]
            if above is None:
                break
            at = above
        if at in chain and steps[at][0] is not None:
            loop = chain[chain.index(at):]
            for turn in range(len(loop)):
                walk = loop[turn:] + loop[:turn]
                # name the stored orgs in between too: they are the ones to look at
                cycles[walk[0]] = [*(hop for key in walk
                                     for hop in [key, *reversed(steps[key][1].split("/")[:-1])]),
                                   walk[0]]
        for key in reversed(chain):
            above, between = steps[key]
            if key in cycles:
                failed.add(key)
            elif above is None:
                paths[key] = f"{between}{key}/"
            elif above in paths:
                paths[key] = f"{paths[above]}{between}{key}/"
            else:
                failed.add(key)
    return paths, cycles


# -- units -----------------------------------------------------------------------------------

def import_units(conn: Connection, principal: Principal, sheet: Sheet, now: dt.datetime, *,
                 dry_run: bool = False, registry: CampaignRegistry | None = None,
                 vocabulary: Vocabulary | None = None,
                 checkpoint: Callable[[], None] = no_checkpoint,
                 progress: Progress = no_progress) -> Outcome:
    """Create or update the sheet's units (columns id, name, org, industry, tags; industries
    and tags by id or declared name, stored as ids); raises InputInvalid listing every bad row,
    writing nothing. The vocabulary is the published campaigns' (with `registry`) unless one is
    given."""
    report = _report(sheet, principal, "units")
    checked = check_units(sheet, report, _words(conn, registry, vocabulary),
                          checkpoint=checkpoint, progress=progress)
    rows: dict[str, tuple[Any, dict[str, Any]]] = {}
    for key, found in checked.items():
        # a column the file does not have is left as it is on stored units
        values = {("org_id" if k == "org" else k): v for k, v in found.values.items()}
        rows[key] = (found.row, values)
    existing = _existing(conn, unit_t, rows)
    org_paths = _org_paths(conn, (values["org_id"] for _, values in rows.values()))
    for key, (row, values) in rows.items():
        org = values["org_id"]
        old = existing.get(key)
        if old is not None and not principal.reaches_unit(key, old.org_path):
            report.add(row, "id", texts.t("errors.row.unit_out_of_scope", id=key,
                                          scope=scope_words(principal.scope)),
                       texts.t("errors.row.leave_out"))
        elif org not in org_paths:
            report.add(row, "org", texts.t("errors.row.unknown_org", id=org),
                       texts.t("errors.row.unknown_org.hint"))
        elif not principal.reaches_org(org_paths[org]):
            report.add(row, "org", texts.t("errors.row.org_out_of_scope", id=org,
                                           scope=scope_words(principal.scope)),
                       texts.t("errors.row.org_out_of_scope.hint"))
    report.raise_any()
    checkpoint()  # the last moment to stop: what follows writes

    new: list[dict[str, Any]] = []
    changed: list[tuple[Any, dict[str, Any], dict[str, Any]]] = []
    outcome = Outcome()

    def shown(values: Mapping[str, Any]) -> dict[str, Any]:
        return {("org" if k == "org_id" else k): v for k, v in values.items()}

    for key, (_, values) in rows.items():
        old = existing.get(key)
        if old is None:
            new.append({"id": key, "industry": None, "tags": [], **values,
                        "org_path": org_paths[values["org_id"]], "version": 1,
                        "created_at": now, "updated_at": now})
            outcome.created.append((key, shown({k: v for k, v in new[-1].items()
                                                if k in ("name", "org_id", "industry", "tags")})))
            continue
        current = {"name": old.name, "org_id": old.org_id, "industry": old.industry,
                   "tags": sorted(old.tags)}
        diff = {k: v for k, v in values.items() if current[k] != v}
        if diff:
            merged = {**current, **values, "org_path": org_paths[values["org_id"]]}
            changed.append((old, diff, {f"u_{k}": v for k, v in {**merged, "id": key}.items()}))
            outcome.updated.append((key, shown(diff)))
        else:
            outcome.unchanged += 1
    progress("写入", 0, None)
    if dry_run:
        return outcome
    try:
        _write_units(conn, new, [(old, values) for old, _, values in changed], now)
    except IntegrityError as exc:
        raise _written(exc) from exc
    for values in new:
        _audit(conn, principal, f"unit:{values['id']}", now,
               {"name": values["name"], "org": values["org_id"], "industry": values["industry"],
                "tags": values["tags"], "file": sheet.source})
    for old, diff, _ in changed:
        _audit(conn, principal, f"unit:{old.id}", now, {**shown(diff), "file": sheet.source})
    if registry is not None:  # what a new, moved or re-classified unit owes (as PATCH /units)
        placed = [(core.Unit(v["id"], v["name"], v["org_id"], v["industry"],
                             frozenset(v["tags"])), v["org_path"]) for v in new]
        reclassified = []
        for old, _, v in changed:
            before, after = core_unit(old), core.Unit(
                v["u_id"], v["u_name"], v["u_org_id"], v["u_industry"], frozenset(v["u_tags"]))
            if (before.industry, before.tags) != (after.industry, after.tags):
                reclassified.append((before, after, v["u_org_path"]))
            elif old.org_path != v["u_org_path"]:
                placed.append((after, v["u_org_path"]))
        obligations.for_new_subjects(conn, registry, placed, now=now)
        obligations.reclassified(conn, registry, reclassified, now=now)
    return outcome


def _write_units(conn: Connection, new: list[dict[str, Any]],
                 changed: list[tuple[Any, dict[str, Any]]], now: dt.datetime) -> None:
    if new:
        conn.execute(insert(unit_t), new)
    if not changed:
        return
    conn.execute(update(unit_t).where(unit_t.c.id == bindparam("u_id"))
                 .values(name=bindparam("u_name"), org_id=bindparam("u_org_id"),
                         org_path=bindparam("u_org_path"), industry=bindparam("u_industry"),
                         tags=bindparam("u_tags", type_=unit_t.c.tags.type),
                         version=unit_t.c.version + 1, updated_at=now),
                 [values for _, values in changed])
    # a unit's cases and obligations are filed under its org's path: they move with it
    moves: dict[str, list[str]] = {}
    for old, values in changed:
        if old.org_path != values["u_org_path"]:
            moves.setdefault(values["u_org_path"], []).append(old.id)
    for path, ids in moves.items():
        for chunk in _chunks(ids):
            conn.execute(update(case_t).where(case_t.c.unit_id.in_(chunk))
                         .values(org_path=path))
            conn.execute(update(obligation_t).where(obligation_t.c.subject_kind == "unit",
                                                    obligation_t.c.subject_id.in_(chunk))
                         .values(org_path=path))
            conn.execute(update(timer_t).where(timer_t.c.unit_id.in_(chunk))
                         .values(org_path=path))
