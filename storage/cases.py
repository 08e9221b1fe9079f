"""Cases: open, fire an event, read, list and history.

This is the hot path, so it speaks SQLAlchemy Core: one read of the case, the core's decision,
one guarded update (`WHERE version = :read`), the audit entry and the timers, in one transaction.
A writer that read an older version changes nothing and gets StaleVersion.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, and_, bindparam, insert, not_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from engine import openings, texts
from engine.access import Principal
from engine.clocks import ArmClock, StopClock
from engine.dates import local_date
from engine.errors import InputInvalid, NotFound, OutOfScope, StaleVersion
from engine.lifecycle import Actor, EventForm, Lifecycle, Outcome
from engine.lifecycle import Case as CoreCase
from engine.orgs import Unit as CoreUnit
from engine.signoffs import Signature
from engine.texts import listed
from storage import audit, metrics, timers
from storage.campaigns import CampaignRegistry, Published, deployed_campaigns_at
from storage.prepared import Prepared
from storage.query import (
    BadCursor,
    Days,
    as_days,
    cursor_date,
    cursor_instant,
    cursor_key,
    decode_cursor,
    encode_cursor,
    prefix_condition,
    reach,
)
from storage.tables import Case, Token, Unit, UserAccount

case_t = Case.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
token_t = Token.__table__  # type: ignore[attr-defined]
user_t = UserAccount.__table__  # type: ignore[attr-defined]


class StoredCase(NamedTuple):
    """A case as stored, with what an API needs to show it (a named tuple: every event reads
    one and writes one, the sweep and the lists many, and a frozen dataclass costs several
    times as much to build)."""

    id: str
    campaign_id: str
    campaign_version_id: int
    type: str
    unit_id: str
    org_path: str
    state: str
    final: bool
    data: Mapping[str, Any]
    signatures: tuple[Signature, ...]
    clocks: Mapping[str, Any]
    next_due: dt.date | None
    version: int
    opened_by: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    audit_seq: int = 0  # the head of the case's audit stream (storage.audit)
    audit_hash: str = audit.GENESIS
    # the unit's industry and tags as registered when the case was opened (unit_terms_of)
    unit_terms: Mapping[str, Any] | None = None

    def core(self) -> CoreCase:
        running = frozenset(name for name, clock in self.clocks.items() if clock.get("due"))
        return CoreCase(self.id, self.type, self.state, self.data, self.version, self.signatures,
                        running)

    def written(self, after: CoreCase, *, final: bool, clocks: Mapping[str, Any],
                next_due: dt.date | None, now: dt.datetime, entry: audit.Draft) -> StoredCase:
        """The row as an event on it writes it, `entry` appended to its audit stream (built
        directly: every event's path)."""
        return StoredCase(self.id, self.campaign_id, self.campaign_version_id, self.type,
                          self.unit_id, self.org_path, after.state, final, after.data,
                          after.signatures, clocks, next_due, self.version + 1,
                          self.opened_by, self.opened_at, now, entry.seq, entry.hash,
                          self.unit_terms)


def _signatures(raw: Sequence[Mapping[str, Any]]) -> tuple[Signature, ...]:
    # Signatures stored before they kept a name, their data and the chain's completion name
    # their signer by name and belong to a pending chain.
    # Those stored before a chain's steps could be skipped have no `step`: their position.
    return tuple(Signature(s["transition"], s["role"], s["actor"],
                           dt.datetime.fromisoformat(s["at"]), s.get("name") or s["actor"],
                           s.get("data") or {}, bool(s.get("completed")), s.get("step"))
                 for s in raw)


def _signatures_json(signatures: Sequence[Signature]) -> list[dict[str, Any]]:
    return [{"transition": s.transition, "role": s.role, "actor": s.actor, "name": s.name,
             "at": s.at.astimezone(dt.UTC).isoformat(), "data": dict(s.data),
             "completed": s.completed, "step": s.step} for s in signatures]


def stored_case(row: Any) -> StoredCase:
    return StoredCase(
        row.id, row.campaign_id, row.campaign_version_id, row.type, row.unit_id, row.org_path,
        row.state, row.final, row.data, _signatures(row.signatures), row.clocks, row.next_due,
        row.version, row.opened_by, row.opened_at, row.updated_at, row.audit_seq,
        row.audit_hash or audit.GENESIS, row.unit_terms)


@dataclass(frozen=True)
class EventWrite:
    """One event decided: the case as it will be, and every row it writes."""

    written: StoredCase
    outcome: Outcome
    case_params: Mapping[str, Any]  # for WRITE, guarded by the version read
    audit: audit.Draft
    stops: Sequence[Mapping[str, str]]  # for timers.CANCEL
    timer_rows: Sequence[Mapping[str, Any]]  # for timers.INSERT

    @property
    def read_version(self) -> int:
        return self.written.version - 1


def _entry_data(outcome: Outcome) -> dict[str, Any]:
    """An event's audit data: what it set on the case, and a signer's own fields apart."""
    if not outcome.own:
        return dict(outcome.data)
    data = {k: v for k, v in outcome.data.items() if k not in outcome.own}
    data[audit.SIGNER_FIELDS] = dict(outcome.own)
    return data


def actor_id(principal: Principal) -> str:
    """Who acts, stable and unique: `user:<id>` for a person signed in, `token:<id>` for a
    token; an in-process caller without either (the CLI, a seeder) goes by its name. A name is
    neither stable nor unique: two tokens may share one, and it is only what people read."""
    if principal.user_id:
        return f"user:{principal.user_id}"
    return f"token:{principal.token_id}" if principal.token_id else principal.name


def _actor(principal: Principal) -> Actor:
    return Actor(actor_id(principal), principal.roles, name=principal.name)


def _clocks_after(clocks: Mapping[str, Any], outcome: Outcome
                  ) -> tuple[dict[str, Any], dt.date | None, dict[str, int]]:
    """Each clock's state after the outcome's effects ({"due": ISO date or None when stopped,
    "gen": times armed}), the earliest running deadline, and the generations armed now.

    A stopped clock keeps its count: started again later with the same deadline (a rejected
    acceptance back to the old 整改期限), it arms new timers, not the old keys once more. A
    provisional clock also holds the first uncovered day its dates rest on ("provisional") and
    the day its deadline counts from ("from"), so it can be recomputed when the year comes."""
    state = {k: dict(v) for k, v in clocks.items()}
    generations: dict[str, int] = {}
    for effect in outcome.effects:
        if isinstance(effect, StopClock):
            stopped = state.get(effect.clock_id)
            if stopped is not None:
                stopped["due"] = None
        elif isinstance(effect, ArmClock):
            gen = state.get(effect.clock_id, {}).get("gen", 0) + 1
            generations[effect.clock_id] = gen
            state[effect.clock_id] = clock_state(effect, gen)
    dues = [dt.date.fromisoformat(v["due"]) for v in state.values() if v.get("due")]
    return state, (min(dues) if dues else None), generations


def clock_state(armed: ArmClock, generation: int) -> dict[str, Any]:
    """A running clock as the case row holds it."""
    found: dict[str, Any] = {"due": armed.due_date.isoformat(), "gen": generation}
    if armed.provisional is not None and armed.base is not None:
        found["provisional"] = armed.provisional.isoformat()
        found["from"] = armed.base.isoformat()
    return found


# The hot statements, built once (building one costs more than running it) and run on SQLite's
# driver directly (storage.prepared).
_SELECT = select(case_t).where(case_t.c.id == bindparam("b_id"))
_READ = Prepared(_SELECT)
_READ_LOCKED = Prepared(_SELECT.with_for_update())
WRITE = Prepared(
    update(case_t)
    .where(case_t.c.id == bindparam("b_id"), case_t.c.version == bindparam("b_read"))
    .values(state=bindparam("b_state"), final=bindparam("b_final"),
            data=bindparam("b_data", type_=case_t.c.data.type),
            signatures=bindparam("b_signatures", type_=case_t.c.signatures.type),
            clocks=bindparam("b_clocks", type_=case_t.c.clocks.type),
            next_due=bindparam("b_next_due", type_=case_t.c.next_due.type),
            version=bindparam("b_version"),
            updated_at=bindparam("b_updated_at", type_=case_t.c.updated_at.type),
            audit_seq=bindparam("b_audit_seq"), audit_hash=bindparam("b_audit_hash"),
            audit_mac=bindparam("b_audit_mac")))
_UNIT_OPENED = select(unit_t.c.org_path, unit_t.c.industry, unit_t.c.tags).where(
    unit_t.c.id == bindparam("b_id"))
_UNIT = Prepared(select(unit_t.c.industry, unit_t.c.tags).where(unit_t.c.id == bindparam("b_id")))


def unit_terms_of(industry: str | None, tags: Iterable[str] | None) -> dict[str, Any]:
    """A unit's terms as a case keeps them from its opening: what conditions on the unit read."""
    return {"industry": industry, "tags": sorted(set(tags or ()))}


def _core_unit(unit_id: str, terms: Mapping[str, Any]) -> CoreUnit:
    # conditions on the unit read its industry and tags only (engine.orgs.unit_test)
    return CoreUnit(unit_id, unit_id, "", terms.get("industry"),
                    frozenset(terms.get("tags") or ()))


def case_unit(conn: Connection, lifecycle: Lifecycle, stored: StoredCase) -> CoreUnit | None:
    """The case's unit as conditions on it see it: its industry and tags as registered when
    the case was opened (the row's `unit_terms`), not as the unit is now, so that re-tagging
    the unit mid-case cannot change what the case needs. Only when a condition of the case
    type looks at the unit (else None, and nothing read)."""
    if not lifecycle.needs_unit:
        return None
    terms = stored.unit_terms
    if terms is None:
        # a row some tool inserted without them (open always stores them, and 0010 filled
        # every older row): the unit as it is now, as before
        row = _UNIT.one_or_none(conn, {"b_id": stored.unit_id})
        if row is None:
            return None
        terms = unit_terms_of(row.industry, row.tags)
    return _core_unit(stored.unit_id, terms)


def _opened_unit(conn: Connection, unit_id: str) -> tuple[str, dict[str, Any]]:
    """The unit's org path and its terms, read once when a case is opened for it."""
    row = conn.execute(_UNIT_OPENED, {"b_id": unit_id}).first()
    if row is None:
        raise NotFound("unit", unit_id, texts.t("errors.hint.create_unit"))
    return str(row.org_path), unit_terms_of(row.industry, row.tags)


def new_case_id() -> str:
    return uuid.uuid4().hex


class CaseStore:
    """Reads and writes cases through the campaign registry's lifecycles."""

    def __init__(self, registry: CampaignRegistry) -> None:
        self.registry = registry

    # -- writes ------------------------------------------------------------------------------

    def open(
        self, conn: Connection, principal: Principal, *, campaign_id: str, case_type: str,
        unit_id: str, data: Mapping[str, Any], now: dt.datetime, case_id: str | None = None,
        found_on: dt.date | None = None,
    ) -> tuple[StoredCase, Outcome]:
        """Open a case on the campaign's newest version for a unit the caller reaches; after
        the campaign's end only one recorded late (`found_on`, or the case's own 发现日期,
        inside the period: engine.openings)."""
        path, unit_terms = _opened_unit(conn, unit_id)
        principal.require_unit(unit_id, path)
        published = self.registry.newest(conn, campaign_id)
        if campaign_id not in deployed_campaigns_at(conn, path):
            raise InputInvalid(texts.t("errors.not_deployed.unit", campaign=campaign_id,
                                       unit=unit_id), code="campaign_not_deployed")
        lifecycle = self._lifecycle(published, case_type)
        campaign = published.loaded.campaign
        data = openings.recorded_late(campaign, lifecycle.type, data, found_on,
                                      local_date(now, campaign.timezone))
        case_id = case_id or new_case_id()
        actor = _actor(principal)
        outcome = lifecycle.open(case_id, data, actor, now, unit=_core_unit(
            unit_id, unit_terms) if lifecycle.needs_unit else None)
        clocks, next_due, generations = _clocks_after({}, outcome)
        entry = audit.draft_after(None, audit.GENESIS, key=audit.key_of(conn),
                                  stream=f"case:{case_id}", at=now,
                                  actor=actor.id, role=outcome.role, action="open",
                                  to_state=outcome.target,
                                  data={"campaign_version_id": published.row.id,
                                        "type": case_type, "unit": unit_id,
                                        "unit_terms": unit_terms,
                                        "data": dict(outcome.data)})
        conn.execute(insert(case_t).values(
            id=case_id, campaign_id=campaign_id, campaign_version_id=published.row.id,
            type=case_type, unit_id=unit_id, org_path=path, state=outcome.target,
            final=outcome.target in lifecycle.type.finals, data=dict(outcome.case.data),
            signatures=[], clocks=clocks, next_due=next_due, version=1,
            opened_by=principal.actor, opened_at=now, updated_at=now,
            found_by_path=principal.scope_path if principal.scope_kind == "org" else None,
            unit_terms=unit_terms, audit_seq=entry.seq, audit_hash=entry.hash,
            audit_mac=entry.head_mac))
        audit.write_entry(conn, entry)
        timers.apply_clock_effects(conn, outcome, generations, timers.Owner(
            campaign_id, path, unit_id, lifecycle.type), {})
        opened = StoredCase(case_id, campaign_id, published.row.id, case_type, unit_id, path,
                            outcome.target, outcome.target in lifecycle.type.finals,
                            outcome.case.data, (), clocks, next_due, 1, principal.actor, now, now,
                            entry.seq, entry.hash, unit_terms)
        return opened, outcome

    def fire(
        self, conn: Connection, principal: Principal, case_id: str, *, trigger: str,
        data: Mapping[str, Any], expected_version: int | None, now: dt.datetime,
        actor: Actor | None = None,
    ) -> tuple[StoredCase, Outcome]:
        """Fire `trigger` on a case; StaleVersion when `expected_version` is not current."""
        # Lock the row (PostgreSQL; SQLite's write lock is already held): a concurrent writer
        # waits and then reads this event's result instead of failing on a version it never saw.
        event = self.decide(conn, principal, case_id, trigger=trigger, data=data,
                            expected_version=expected_version, now=now, actor=actor, lock=True)
        self.apply(conn, event)
        return event.written, event.outcome

    def decide(
        self, conn: Connection, principal: Principal, case_id: str, *, trigger: str,
        data: Mapping[str, Any], expected_version: int | None, now: dt.datetime,
        actor: Actor | None = None, lock: bool = False,
    ) -> EventWrite:
        """Everything firing `trigger` writes, decided from the case as read in `conn`, with
        nothing written yet: `apply` writes it, or storage.event_batch with other events."""
        stored = self._load(conn, case_id, lock=lock)
        principal.require_unit(stored.unit_id, stored.org_path)
        if expected_version is not None and expected_version != stored.version:
            raise StaleVersion("case", case_id, expected_version, stored.version)
        published = self.registry.get(conn, stored.campaign_version_id)
        lifecycle = self._lifecycle(published, stored.type)
        actor = actor or _actor(principal)
        outcome = lifecycle.fire(stored.core(), trigger, data, actor, now,
                                 unit=case_unit(conn, lifecycle, stored))
        metrics.event_fired(stored.campaign_id, stored.type, trigger)
        clocks, next_due, generations = _clocks_after(stored.clocks, outcome)
        after = outcome.case
        final = after.state in lifecycle.type.finals
        # chained to the head on the row read: the version guard of WRITE guards it too
        entry = audit.draft_after(stored.audit_seq, stored.audit_hash, key=audit.key_of(conn),
                                  stream=f"case:{case_id}", at=now,
                                  actor=actor.id, role=outcome.role,
                                  action=trigger if outcome.completed else f"{trigger}:signoff",
                                  from_state=outcome.source, to_state=outcome.target,
                                  data=_entry_data(outcome))
        stops, timer_rows = timers.clock_writes(outcome, generations, timers.Owner(
            stored.campaign_id, stored.org_path, stored.unit_id, lifecycle.type), stored.clocks)
        # the row as it will be written, without reading it back
        written = stored.written(after, final=final, clocks=clocks, next_due=next_due, now=now,
                                 entry=entry)
        return EventWrite(written, outcome, {
            "b_id": case_id, "b_read": stored.version, "b_state": after.state,
            "b_final": final, "b_data": dict(after.data),
            "b_signatures": _signatures_json(after.signatures), "b_clocks": clocks,
            "b_next_due": next_due, "b_version": stored.version + 1, "b_updated_at": now,
            "b_audit_seq": entry.seq, "b_audit_hash": entry.hash,
            "b_audit_mac": entry.head_mac,
        }, entry, stops, timer_rows)

    def apply(self, conn: Connection, event: EventWrite) -> None:
        """Write one decided event; StaleVersion if the case changed since it was read."""
        if WRITE.rowcount(conn, event.case_params) != 1:
            case_id = event.written.id
            current = conn.execute(select(case_t.c.version).where(case_t.c.id == case_id)
                                   ).scalar() or event.read_version + 1
            raise StaleVersion("case", case_id, event.read_version, int(current))
        audit.write_entry(conn, event.audit)
        timers.write_clock_writes(conn, event.stops, event.timer_rows)

    # -- reads -------------------------------------------------------------------------------

    def _load(self, conn: Connection, case_id: str, *, lock: bool = False) -> StoredCase:
        row = (_READ_LOCKED if lock else _READ).one_or_none(conn, {"b_id": case_id})
        if row is None:
            raise NotFound("case", case_id)
        return stored_case(row)

    def get(self, conn: Connection, principal: Principal, case_id: str) -> StoredCase:
        stored = self._load(conn, case_id)
        if not principal.reaches_unit(stored.unit_id, stored.org_path):
            raise OutOfScope(texts.t("errors.what.case", id=case_id), principal.scope)
        return stored

    def lifecycle_of(self, conn: Connection, stored: StoredCase) -> Lifecycle:
        return self._lifecycle(self.registry.get(conn, stored.campaign_version_id), stored.type)

    def allowed(self, conn: Connection, principal: Principal, stored: StoredCase) -> list[str]:
        """The triggers the caller may fire on the case now."""
        lifecycle = self.lifecycle_of(conn, stored)
        return lifecycle.allowed_triggers(stored.core(), _actor(principal),
                                          unit=case_unit(conn, lifecycle, stored))

    def forms(self, conn: Connection, principal: Principal, stored: StoredCase
              ) -> list[EventForm]:
        """The form of each trigger the caller may fire on the case now (the screens')."""
        lifecycle = self.lifecycle_of(conn, stored)
        actor, unit = _actor(principal), case_unit(conn, lifecycle, stored)
        core = stored.core()
        found = (lifecycle.form(core, trigger, actor, unit=unit)
                 for trigger in lifecycle.allowed_triggers(core, actor, unit=unit))
        return [form for form in found if form is not None]

    def history(self, conn: Connection, principal: Principal, case_id: str
                ) -> list[dict[str, Any]]:
        """The case's audit entries, oldest first, each with `actor_name`: the name of the
        token behind `actor` (`token:<id>`), or the actor itself (`system`, an entry written
        before actors had ids)."""
        self.get(conn, principal, case_id)
        entries = audit.history(conn, f"case:{case_id}")
        names = actor_names(conn, {e["actor"] for e in entries})
        for entry in entries:
            entry["actor_name"] = names.get(entry["actor"], entry["actor"])
        return entries

    def list(self, conn: Connection, principal: Principal, query: CaseQuery, *,
             today: dt.date | Days) -> tuple[list[StoredCase], str | None]:
        """One page of cases the caller reaches in the query's order (newest first unless it
        says `oldest` or `due`), and the cursor of the next."""
        conditions: list[ColumnElement[bool]] = [reach(principal, case_t.c.org_path,
                                                            case_t.c.unit_id)]
        conditions.extend(query.conditions(today))
        c = case_t.c
        order: tuple[Any, ...]
        if query.sort == "due":
            # soonest running deadline first, cases with none last (NULLs sort first in
            # SQLite and last in PostgreSQL: the IS NULL key orders them alike on both)
            order = (c.next_due.is_(None), c.next_due, c.id)
        elif query.sort == "oldest":
            order = (c.opened_at, c.id)
        else:
            order = (c.opened_at.desc(), c.id.desc())
        if query.cursor is not None:
            conditions.append(_after(query.sort, query.cursor))
        rows = conn.execute(select(case_t).where(*conditions).order_by(*order)
                            .limit(query.limit + 1)).all()
        page = [stored_case(r) for r in rows[: query.limit]]
        cursor = _encode_cursor(page[-1], query.sort) if len(rows) > query.limit else None
        return page, cursor

    def _lifecycle(self, published: Published, case_type: str) -> Lifecycle:
        found = published.lifecycles.get(case_type)
        if found is None:
            known = listed(published.lifecycles) or texts.t("errors.none")
            raise InputInvalid(texts.t("errors.unknown_case_type",
                                       campaign=published.row.campaign_id, case_type=case_type,
                                       known=known),
                               code="unknown_case_type")
        return found


def actor_names(conn: Connection, actors: set[str]) -> dict[str, str]:
    """The names of the tokens and people among `actors` (`token:<id>`, `user:<id>`), in a
    query each (a case's history names a handful)."""
    names: dict[str, str] = {}
    for kind, table in (("token", token_t), ("user", user_t)):
        prefix = f"{kind}:"
        ids = {int(a[len(prefix):]) for a in actors if a.startswith(prefix)
               and a[len(prefix):].isascii() and a[len(prefix):].isdigit()}
        if ids:
            rows = conn.execute(select(table.c.id, table.c.name).where(table.c.id.in_(ids)))
            names.update((f"{prefix}{row.id}", row.name) for row in rows)
    return names


def rewrite_clocks(conn: Connection, stored: StoredCase, clocks: Mapping[str, Any], *,
                   now: dt.datetime, actor: str, action: str,
                   data: Mapping[str, Any]) -> StoredCase:
    """Store a case's clocks as the system recomputed them (a calendar year added): a new
    version of the row, audited in the case's stream; StaleVersion if it moved meanwhile."""
    dues = [dt.date.fromisoformat(v["due"]) for v in clocks.values() if v.get("due")]
    next_due = min(dues) if dues else None
    entry = audit.draft_after(stored.audit_seq, stored.audit_hash, key=audit.key_of(conn),
                              stream=f"case:{stored.id}", at=now, actor=actor, role=None,
                              action=action, from_state=stored.state,
                              to_state=stored.state, data=dict(data))
    written = stored.written(stored.core(), final=stored.final, clocks=clocks,
                             next_due=next_due, now=now, entry=entry)
    params = {"b_id": stored.id, "b_read": stored.version, "b_state": stored.state,
              "b_final": stored.final, "b_data": dict(stored.data),
              "b_signatures": _signatures_json(stored.signatures), "b_clocks": dict(clocks),
              "b_next_due": next_due, "b_version": stored.version + 1, "b_updated_at": now,
              "b_audit_seq": entry.seq, "b_audit_hash": entry.hash,
              "b_audit_mac": entry.head_mac}
    if WRITE.rowcount(conn, params) != 1:
        raise StaleVersion("case", stored.id, stored.version, stored.version + 1)
    audit.write_entry(conn, entry)
    return written


CaseSort = Literal["newest", "oldest", "due"]


def _encode_cursor(case: StoredCase, sort: CaseSort = "newest") -> str:
    """Where the next page starts, in the page's order; a `newest` cursor keeps the shape it
    always had (two values), the others name their order, so a cursor is not read in
    another."""
    if sort == "newest":
        return encode_cursor([case.opened_at.isoformat(), case.id])
    if sort == "oldest":
        return encode_cursor([sort, case.opened_at.isoformat(), case.id])
    due = case.next_due.isoformat() if case.next_due is not None else None
    return encode_cursor([sort, due, case.id])


def _after(sort: CaseSort, cursor: str) -> ColumnElement[bool]:
    """The rows after a cursor of `sort`'s order."""
    c = case_t.c
    if sort == "newest":
        at, last = decode_cursor(cursor, 2)
        instant, last_id = cursor_instant(at), cursor_key(last)
        return or_(c.opened_at < instant, and_(c.opened_at == instant, c.id < last_id))
    marker, key, last = decode_cursor(cursor, 3)
    if marker != sort:
        raise BadCursor()
    last_id = cursor_key(last)
    if sort == "oldest":
        instant = cursor_instant(key)
        return or_(c.opened_at > instant, and_(c.opened_at == instant, c.id > last_id))
    if key is None:  # among the cases without a deadline, which come last
        return and_(c.next_due.is_(None), c.id > last_id)
    due = cursor_date(key)
    return or_(c.next_due.is_(None), c.next_due > due,
               and_(c.next_due == due, c.id > last_id))


@dataclass(frozen=True)
class CaseQuery:
    """Filters for listing cases; `fields` compares case data values as text."""

    campaign: str | None = None
    type: str | None = None
    state: str | None = None
    unit: str | None = None
    org_path: str | None = None
    overdue: bool | None = None
    open: bool | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    fields: tuple[tuple[str, str], ...] = ()
    limit: int = 50
    cursor: str | None = None
    sort: CaseSort = "newest"

    def conditions(self, today: dt.date | Days) -> list[ColumnElement[bool]]:
        """The filters as SQL; `today` judges "overdue" (each campaign's own, storage.query.
        Days)."""
        c = case_t.c
        days = as_days(today)
        found: list[ColumnElement[bool]] = []
        if self.campaign:
            found.append(c.campaign_id == self.campaign)
        if self.type:
            found.append(c.type == self.type)
        if self.state:
            found.append(c.state == self.state)
        if self.unit:
            found.append(c.unit_id == self.unit)
        if self.org_path:
            found.append(prefix_condition(c.org_path, self.org_path))
        if self.open is not None:
            found.append(c.final.is_(not self.open))
        if self.overdue is True:
            found.append(days.before(c.next_due, c.campaign_id))
        elif self.overdue is False:
            found.append(or_(c.next_due.is_(None), not_(days.before(c.next_due,
                                                                      c.campaign_id))))
        if self.due_from:
            found.append(c.next_due >= self.due_from)
        if self.due_to:
            found.append(c.next_due <= self.due_to)
        for name, value in self.fields:
            found.append(c.data[name].as_string() == value)
        return found
