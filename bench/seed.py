"""Seed a SQLite file for the API benchmarks: a district of 10 streets and 100 communities,
10k units and N hazards (1M by default) on special-action-2023, written through a bulk path.

The database is first made the ordinary way (migrations, the bundled campaigns, the demo data
and its tokens); the seeded streets are deployed with ``storage.deployments.deploy`` once their
units are in, so the units get their obligations as the storage layer computes them. Orgs, units
and cases go in with SQLAlchemy Core ``executemany`` in batches of ``--batch`` rows, together
with every audit entry and audit head they would have had (a case's head on its row): each case
carries the script of events that brought it to its state (登记, 制定治理方案, 挂牌督办,
申请验收, 退回, 依次签字验收, 上报销号), and its row, its signatures, its running clocks and
its audit chain are what the storage layer writes for that script, hashed with
``storage.audit.entry_hash`` so that ``paicha audit verify`` holds. Timers are not seeded (no
sweeper has run over this data).

Why Core and not sqlite3: inserting 100k case rows took 3.4 s through Core against 2.6 s through
sqlite3 ``executemany`` with the same values encoded by hand (1.3x), and Core encodes every JSON
and datetime column exactly as the application does. Index upkeep and hashing cost more than
the layer above the driver.

``--check N`` replays the scripts of N seeded cases through ``storage.cases.CaseStore`` on a
scratch database and compares the case row and every audit hash with the bulk rows.

Run from the repository root::

    .venv/bin/python -m bench.seed --database /tmp/paicha-1m.db [--cases N] [--units N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from api.services import campaign_loader
from engine.access import Principal
from engine.clocks import due_date
from engine.dates import Deadlines, local_date
from engine.lifecycle import Actor, Lifecycle
from engine.model import Clock
from paicha import demo
from paicha.files import bundled_dir
from storage import audit, tokens
from storage.bootstrap import prepare
from storage.campaigns import CampaignRegistry
from storage.cases import CaseStore
from storage.db import Database
from storage.deployments import deploy
from storage.subjects import create_org, create_unit
from storage.tables import AuditEntry, AuditHead, Case, Org, Unit

case_t = Case.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
head_t = AuditHead.__table__  # type: ignore[attr-defined]

CAMPAIGN_ID = "special-action-2023"
CASE_TYPE = "hazard"
ROOT_ORG = "dongsheng"  # the demo's district
STREETS, COMMUNITIES = 10, 10  # per district, per street
DEFAULT_CASES, DEFAULT_UNITS, DEFAULT_BATCH = 1_000_000, 10_000, 10_000
TOKEN_UNITS = 16  # units that get a principal token, for firing events on their cases
SETUP_AT = dt.datetime(2023, 4, 20, 1, 0, tzinfo=dt.UTC)
PERIOD = (dt.datetime(2023, 5, 1, tzinfo=dt.UTC), dt.datetime(2023, 12, 31, tzinfo=dt.UTC))
SEEDER = Principal(0, "bench seed", frozenset(), "admin")

INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    # industry, name suffix, weight
    ("hazardous_chemicals", "化工有限公司", 0.14), ("fireworks", "烟花爆竹经营部", 0.04),
    ("construction", "建筑工程有限公司", 0.16), ("commerce", "商贸广场", 0.14),
    ("culture_tourism", "宾馆", 0.10), ("manufacturing", "机械制造有限公司", 0.22),
    ("transport", "物流有限公司", 0.12), ("gas", "燃气供应站", 0.08),
)
TAGS = {"hazardous_chemicals": ["major_hazard_source"], "commerce": ["crowded", "mall"],
        "culture_tourism": ["hotel"], "fireworks": ["major_hazard_source"]}
HAZARDS = ("可燃气体报警装置失效", "安全出口被锁闭", "疏散通道堆放杂物", "特种作业人员无证上岗",
           "消防设施未保持完好有效", "有限空间作业未审批", "动火作业未落实监护",
           "危险化学品超量储存", "电气线路私拉乱接", "脚手架未按方案搭设")
SOURCES = ("self_inspection", "department_inspection", "supervised")
PLACES = ("罐区", "仓库", "生产车间", "配电室", "楼梯间", "地下室", "施工现场", "厨房")

# Paths a hazard took to its state: (weight among general hazards, among major ones, triggers).
# `accept` is one event for a general hazard and the four sign-offs for a major one; `sign` is
# one sign-off of a chain still under way.
PATHS: tuple[tuple[float, float, tuple[str, ...]], ...] = (
    (0.12, 0.10, ()),
    (0.16, 0.22, ("plan",)),
    (0.04, 0.05, ("plan", "submit", "reject")),
    (0.02, 0.03, ("supervise",)),
    (0.03, 0.05, ("plan", "supervise")),
    (0.00, 0.02, ("supervise", "plan")),
    (0.06, 0.00, ("fix_now",)),
    (0.04, 0.08, ("plan", "submit")),
    (0.00, 0.05, ("plan", "submit", "sign", "sign")),
    (0.05, 0.00, ("fix_now", "accept")),
    (0.28, 0.00, ("fix_now", "accept", "report_closure")),
    (0.20, 0.40, ("plan", "submit", "accept", "report_closure")),
)


@dataclass(frozen=True)
class Step:
    """One event of a seeded case's script."""

    trigger: str
    role: str
    actor: str
    data: Mapping[str, Any]
    at: dt.datetime


@dataclass
class Folded:
    """What the storage layer stores for a case after its script: its row (with the head of its
    audit stream) and audit entries."""

    row: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Manifest:
    """What a benchmark needs to know about a seeded database."""

    database: str
    cases: int
    units: int
    orgs: int
    audit_entries: int
    obligations: int
    tokens: dict[str, str]
    principals: dict[str, str]  # unit id -> principal token
    streets: list[str]
    read_sample: list[str]
    fire: list[dict[str, str]]  # rectifying cases of the token units: {"case", "unit"}
    seconds: dict[str, float]
    checked: int  # cases replayed through the storage layer and found identical

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, ensure_ascii=False, indent=1),
                        encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def _hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


class Scripts:
    """Random, realistic hazard scripts and their fold into stored rows."""

    def __init__(self, lifecycle: Lifecycle, version_id: int) -> None:
        self.lifecycle = lifecycle
        self.version_id = version_id
        self.tz = lifecycle.campaign.timezone
        self.deadlines: Deadlines = lifecycle.deadlines
        self.clocks: dict[str, Clock] = {c.id: c for c in lifecycle.type.clocks}
        self.finals = lifecycle.type.finals
        self.signoffs = next(t.signoffs for t in lifecycle.type.transitions if t.signoffs)
        self.signoff_id = next(t.id for t in lifecycle.type.transitions if t.signoffs)
        self.general = list(itertools.accumulate(p[0] for p in PATHS))
        self.major = list(itertools.accumulate(p[1] for p in PATHS))

    def script(self, rng: random.Random, unit: str, industry: str, street: str) -> list[Step]:
        """A case's events from 登记 on."""
        grade = "major" if rng.random() < 0.2 else "general"
        weights = self.major if grade == "major" else self.general
        path = rng.choices(PATHS, cum_weights=weights)[0][2]
        span = (PERIOD[1] - PERIOD[0]).total_seconds()
        at = PERIOD[0] + dt.timedelta(seconds=rng.random() * span)
        found = local_date(at, self.tz)
        source = rng.choices(SOURCES, cum_weights=(0.6, 0.92, 1.0))[0]
        opened = {"source": source, "grade": grade, "industry": industry,
                  "description": rng.choice(HAZARDS), "location": rng.choice(PLACES),
                  "found_on": found.isoformat(),
                  "found_by": "企业自查" if source == "self_inspection" else "区应急管理局"}
        if grade == "major":
            opened["criterion"] = "重大事故隐患判定标准第" + str(rng.randint(1, 20)) + "条"
        steps = [Step("open", "principal", f"principal {unit}", opened, at)]
        signed = 0
        planned = found
        for trigger in path:
            at += dt.timedelta(days=rng.randint(1, 6), seconds=rng.randint(0, 86_399))
            day = local_date(at, self.tz)
            if trigger == "plan":
                deadline = planned = day + dt.timedelta(days=rng.randint(15, 90))
                steps.append(Step("plan", "principal", f"principal {unit}", {
                    "goals_and_tasks": "消除隐患，恢复安全状态", "measures": "停用整改，更换部件",
                    "funds_and_materials": "企业自筹", "funds_amount": rng.randint(1, 200) / 2,
                    "responsible": "安全管理部", "deadline": deadline.isoformat(),
                    "safety_measures": "整改期间专人巡检，落实应急预案"}, at))
            elif trigger == "supervise":
                steps.append(Step("supervise", "regulator", f"regulator {street}", {
                    "supervision_document": f"东应急督〔2023〕{rng.randint(1, 999)}号",
                    "supervised_by": "区应急管理局"}, at))
            elif trigger in ("submit", "fix_now"):
                steps.append(Step(trigger, "principal", f"principal {unit}", {
                    "rectified_on": day.isoformat(), "rectification_result": "已整改完毕"}, at))
            elif trigger == "reject":
                # Later than the plan's by more than any roll to a working day: re-arming the
                # clock on a due date it had before collides with its old timer keys.
                deadline = planned + dt.timedelta(days=rng.randint(20, 45))
                steps.append(Step("reject", "acceptance_team", f"acceptance_team {street}", {
                    "reason": "整改不到位", "deadline": deadline.isoformat()}, at))
            elif trigger == "accept" and grade == "general":
                steps.append(Step("accept", "acceptance_team", f"acceptance_team {street}",
                                  {"acceptance_opinion": "验收合格，同意销号"}, at))
            elif trigger in ("accept", "sign"):
                chain = self.signoffs if trigger == "accept" else self.signoffs[signed:signed + 1]
                for role in chain:
                    data = ({"acceptance_opinion": "验收合格，同意销号"}
                            if role == self.signoffs[-1] else {})
                    steps.append(Step("accept", role, f"{role} {street}", data, at))
                    signed += 1
                    at += dt.timedelta(hours=rng.randint(1, 48))
            elif trigger == "report_closure":
                steps.append(Step("report_closure", "locality", f"locality {street}",
                                  {"closure_reported_on": day.isoformat()}, at))
        return steps

    def _due(self, clock_id: str, facts: Mapping[str, Any], at: dt.datetime) -> str:
        due = due_date(self.clocks[clock_id], facts, local_date(at, self.tz), self.deadlines)
        if due is None:
            raise RuntimeError(f"clock {clock_id} has no due date for {dict(facts)}")
        return due.isoformat()

    def fold(self, case_id: str, unit: str, org_path: str, steps: Sequence[Step]) -> Folded:
        """The stored case after `steps`, with its audit chain, as CaseStore writes them."""
        first = steps[0]
        state = self.lifecycle.type.initial
        facts: dict[str, Any] = dict(first.data)
        signatures: list[dict[str, Any]] = []
        running: dict[str, dict[str, Any]] = {}
        stream = f"case:{case_id}"
        entries: list[dict[str, Any]] = []
        prev = audit.GENESIS

        def log(step: Step, action: str, source: str | None, target: str,
                data: Mapping[str, Any]) -> None:
            nonlocal prev
            seq = len(entries) + 1
            digest = audit.entry_hash(stream=stream, seq=seq, at=step.at, actor=step.actor,
                                      role=step.role, action=action, from_state=source,
                                      to_state=target, data=data, prev_hash=prev)
            entries.append({"stream": stream, "seq": seq, "at": step.at, "actor": step.actor,
                            "role": step.role, "action": action, "from_state": source,
                            "to_state": target, "data": dict(data), "prev_hash": prev,
                            "hash": digest})
            prev = digest

        log(first, "open", None, state, {"campaign_version_id": self.version_id,
                                         "type": CASE_TYPE, "unit": unit, "data": facts})
        facts = dict(facts)

        def arm(clock_id: str, at: dt.datetime) -> None:
            # a clock counts its armings across stops (storage.cases._clocks_after)
            gen = running.get(clock_id, {}).get("gen", 0) + 1
            running[clock_id] = {"due": self._due(clock_id, facts, at), "gen": gen}

        def stop(clock_id: str) -> None:
            if clock_id in running:
                running[clock_id] = {**running[clock_id], "due": None}

        for step in steps[1:]:
            facts.update(step.data)
            source, action = state, step.trigger
            if step.trigger == "plan" and state == "supervised":  # plan_under_supervision
                stop("rectification")
                arm("rectification", step.at)
            elif step.trigger == "plan" or step.trigger == "reject":
                state = "rectifying"
                signatures = []
                arm("rectification", step.at)
            elif step.trigger == "supervise":
                state = "supervised"  # the clock runs on, or stays unarmed without a deadline
            elif step.trigger in ("submit", "fix_now"):
                state = "awaiting_acceptance"
                stop("rectification")
            elif step.trigger == "accept" and step.role in self.signoffs and (
                    facts["grade"] == "major"):
                signatures.append({"transition": self.signoff_id, "role": step.role,
                                   "actor": step.actor, "name": step.actor,
                                   "at": step.at.astimezone(dt.UTC).isoformat(),
                                   "data": dict(step.data), "completed": False})
                if len(signatures) < len(self.signoffs):
                    action = "accept:signoff"
                else:  # the completed chain stays on the case
                    state = "closed"
                    signatures = [{**s, "completed": True} for s in signatures]
            elif step.trigger == "accept":
                state = "closed"
            elif step.trigger == "report_closure":
                stop("closure_report")
            if state == "closed" and source != "closed":
                arm("closure_report", step.at)
            log(step, action, source, state, step.data)
        dues = [dt.date.fromisoformat(v["due"]) for v in running.values() if v["due"]]
        row = {"id": case_id, "campaign_id": CAMPAIGN_ID, "campaign_version_id": self.version_id,
               "type": CASE_TYPE, "unit_id": unit, "org_path": org_path, "state": state,
               "final": state in self.finals, "data": facts, "signatures": signatures,
               "clocks": running, "next_due": min(dues) if dues else None,
               "version": len(steps), "opened_by": first.actor, "opened_at": first.at,
               "updated_at": steps[-1].at, "audit_seq": len(entries), "audit_hash": prev}
        return Folded(row, entries)


# -- orgs and units ------------------------------------------------------------------------------

def _audit_rows(stream: str, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    digest = audit.entry_hash(stream=stream, seq=1, at=SETUP_AT, actor=SEEDER.name, role=None,
                              action="create", from_state=None, to_state=None, data=data,
                              prev_hash=audit.GENESIS)
    entry = {"stream": stream, "seq": 1, "at": SETUP_AT, "actor": SEEDER.name, "role": None,
             "action": "create", "from_state": None, "to_state": None, "data": dict(data),
             "prev_hash": audit.GENESIS, "hash": digest}
    return entry, {"stream": stream, "seq": 1, "hash": digest}


def _orgs(root_path: str) -> list[dict[str, Any]]:
    orgs: list[dict[str, Any]] = []
    for s in range(1, STREETS + 1):
        street = f"s{s:02d}"
        path = f"{root_path}{street}/"
        orgs.append({"id": street, "name": f"第{s}街道", "level": "street",
                     "parent_id": ROOT_ORG, "path": path})
        for c in range(1, COMMUNITIES + 1):
            community = f"{street}-c{c:02d}"
            orgs.append({"id": community, "name": f"第{s}街道第{c}社区", "level": "community",
                         "parent_id": street, "path": f"{path}{community}/"})
    for org in orgs:
        org.update(version=1, created_at=SETUP_AT, updated_at=SETUP_AT)
    return orgs


def _units(count: int, communities: Sequence[dict[str, Any]], rng: random.Random
           ) -> list[dict[str, Any]]:
    units = []
    weights = [w for _, _, w in INDUSTRIES]
    for i in range(count):
        org = communities[i % len(communities)]
        industry, suffix, _ = rng.choices(INDUSTRIES, weights)[0]
        tags = sorted(TAGS.get(industry, [])) if rng.random() < 0.6 else []
        units.append({"id": f"u-{i:05d}", "name": f"东胜{i:05d}{suffix}", "org_id": org["id"],
                      "org_path": org["path"], "industry": industry, "tags": tags,
                      "version": 1, "created_at": SETUP_AT, "updated_at": SETUP_AT})
    return units


def _insert(conn: Connection, table: Any, rows: Sequence[dict[str, Any]], batch: int) -> None:
    for start in range(0, len(rows), batch):
        conn.execute(insert(table), list(rows[start:start + batch]))


def _subjects(conn: Connection, units: Sequence[dict[str, Any]], orgs: Sequence[dict[str, Any]],
              batch: int) -> None:
    entries, heads = [], []
    for org in orgs:
        e, h = _audit_rows(f"org:{org['id']}", {"name": org["name"], "level": org["level"],
                                               "parent": org["parent_id"]})
        entries.append(e)
        heads.append(h)
    for unit in units:
        e, h = _audit_rows(f"unit:{unit['id']}", {"name": unit["name"], "org": unit["org_id"],
                                                 "industry": unit["industry"],
                                                 "tags": unit["tags"]})
        entries.append(e)
        heads.append(h)
    _insert(conn, org_t, orgs, batch)
    _insert(conn, unit_t, units, batch)
    _insert(conn, entry_t, entries, batch)
    _insert(conn, head_t, heads, batch)


# -- the seed ----------------------------------------------------------------------------------

def _progress(message: str) -> None:
    print(f"bench.seed: {message}", file=sys.stderr, flush=True)


Chunk = list[tuple[Folded, list[Step] | None]]  # scripts kept for one case of each shape
PlacedUnit = tuple[str, str, str, str]  # id, industry, org path, street


def _make_chunk(scripts: Scripts, units: Sequence[PlacedUnit], rng: random.Random, size: int
                ) -> Chunk:
    chunk: Chunk = []
    shapes: set[tuple[str, ...]] = set()
    for _ in range(size):
        # squared: some units have many hazards, most a few
        unit_id, industry, org_path, street = units[int(len(units) * rng.random() ** 2)]
        steps = scripts.script(rng, unit_id, industry, street)
        folded = scripts.fold(_hex_id(rng), unit_id, org_path, steps)
        shape = _shape(folded)
        chunk.append((folded, None if shape in shapes else steps))
        shapes.add(shape)
    return chunk


def _shape(folded: Folded) -> tuple[str, ...]:
    return (str(folded.row["data"]["grade"]), *(e["action"] for e in folded.entries))


def _chunks(scripts: Scripts, units: Sequence[PlacedUnit], *, cases: int, batch: int,
            rng: random.Random) -> Iterator[Chunk]:
    for start in range(0, cases, batch):
        yield _make_chunk(scripts, units, rng, min(batch, cases - start))


def _write_cases(db: Database, chunks: Iterator[Chunk], *, cases: int, batch: int,
                 check: int) -> tuple[int, list[str], list[tuple[Folded, list[Step]]]]:
    """Insert every chunk; (audit entries written, ids to read, cases to replay)."""
    began = time.perf_counter()
    written = entries = 0
    sample: list[str] = []
    replay: list[tuple[Folded, list[Step]]] = []
    each = max(1, check // (2 * len(PATHS)))
    shapes: dict[tuple[str, ...], int] = {}
    for chunk in chunks:
        audit_rows = [e for f, _ in chunk for e in f.entries]
        with db.write() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            _insert(conn, case_t, [f.row for f, _ in chunk], batch)
            _insert(conn, entry_t, audit_rows, batch)
        entries += len(audit_rows)
        sample.extend(f.row["id"] for f, _ in chunk[:: max(1, cases // 5000)])
        for folded, steps in chunk:
            shape = _shape(folded)
            if steps is not None and len(replay) < check and shapes.get(shape, 0) < each:
                shapes[shape] = shapes.get(shape, 0) + 1
                replay.append((folded, steps))
        written += len(chunk)
        if written % 100_000 < batch or written == cases:
            _progress(f"{written} cases, {entries} audit entries, "
                      f"{time.perf_counter() - began:.1f} s")
    return entries, sample, replay


def seed(path: Path, *, cases: int = DEFAULT_CASES, units: int = DEFAULT_UNITS,
         batch: int = DEFAULT_BATCH, rng_seed: int = 2023, check: int = 20) -> Manifest:
    """Make `path` a seeded database (it must not exist); the manifest of what is in it."""
    if path.exists():
        raise FileExistsError(f"{path} exists; seed a new file")
    url = f"sqlite:///{path}"
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    db = Database(url)
    registry = CampaignRegistry(campaign_loader)
    try:
        prepare(db, registry, bundled_dir(), now=SETUP_AT)
        with db.write() as conn:
            loaded = demo.load(conn, registry, now=SETUP_AT)
            if loaded is None:
                raise RuntimeError("the demo was loaded before: seed a new file")
            published = registry.newest(conn, CAMPAIGN_ID)
            root_path = str(conn.execute(select(org_t.c.path).where(org_t.c.id == ROOT_ORG)
                                         ).scalar_one())
        seconds["prepare"] = time.perf_counter() - began
        rng = random.Random(rng_seed)
        orgs = _orgs(root_path)
        unit_rows = _units(units, [o for o in orgs if o["level"] == "community"], rng)
        step = time.perf_counter()
        with db.write() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            _subjects(conn, unit_rows, orgs, batch)
        seconds["orgs_units"] = time.perf_counter() - step

        step = time.perf_counter()
        placed = [(u["id"], u["industry"], u["org_path"], u["org_path"].split("/")[2])
                  for u in unit_rows]
        scripts = Scripts(published.lifecycles[CASE_TYPE], published.row.id)
        chunks = _chunks(scripts, placed, cases=cases, batch=batch, rng=rng)
        entries, sample, replay = _write_cases(db, chunks, cases=cases, batch=batch,
                                               check=check)
        seconds["cases"] = time.perf_counter() - step

        step = time.perf_counter()
        obligations_before = _count(db, "obligation")
        with db.write() as conn:
            for org in orgs:
                if org["level"] == "street":
                    deploy(conn, SEEDER, published, org["id"], now=SETUP_AT)
        obligations = _count(db, "obligation") - obligations_before
        seconds["deploy"] = time.perf_counter() - step

        token_units = [u["id"] for u in unit_rows[:TOKEN_UNITS]]
        with db.write() as conn:
            principals = {unit: tokens.create(
                conn, name=f"bench principal {unit}", roles=["principal"], scope_kind="unit",
                scope_id=unit, now=SETUP_AT, by=SEEDER.name).secret for unit in token_units}
            street_token = tokens.create(conn, name="bench locality s01", roles=["locality"],
                                         scope_kind="org", scope_id="s01", now=SETUP_AT,
                                         by=SEEDER.name).secret
        with db.read() as conn:
            fire = [{"case": r.id, "unit": r.unit_id} for r in conn.execute(
                select(case_t.c.id, case_t.c.unit_id).where(
                    case_t.c.unit_id.in_(token_units), case_t.c.state == "rectifying")
                .order_by(case_t.c.id).limit(2000))]
    finally:
        db.dispose()
    if check:
        step = time.perf_counter()
        _check(replay, root_path)
        seconds["check"] = time.perf_counter() - step
    seconds["total"] = time.perf_counter() - began
    return Manifest(url, cases, units, len(orgs), entries, obligations,
                    {**loaded.tokens, "street_locality": street_token}, principals,
                    [o["id"] for o in orgs if o["level"] == "street"], sample, fire,
                    {k: round(v, 3) for k, v in seconds.items()}, len(replay))


def _count(db: Database, table: str) -> int:
    with db.read() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


# -- the check: the same scripts through the storage layer ------------------------------------

def _check(replay: Sequence[tuple[Folded, list[Step]]], root_path: str) -> None:
    """Fire each script through CaseStore on a scratch database; raise on any difference."""
    with tempfile.TemporaryDirectory(prefix="paicha-seed-check-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'check.db'}")
        registry = CampaignRegistry(campaign_loader)
        store = CaseStore(registry)
        try:
            prepare(db, registry, bundled_dir(), now=SETUP_AT)
            with db.write() as conn:
                demo.load(conn, registry, now=SETUP_AT)
                published = registry.newest(conn, CAMPAIGN_ID)
                made: set[str] = set()
                for folded, _ in replay:
                    org_path = folded.row["org_path"]
                    street, community = org_path.removeprefix(root_path).strip("/").split("/")
                    for org, parent, level in ((street, ROOT_ORG, "street"),
                                               (community, street, "community")):
                        if org not in made:
                            create_org(conn, SEEDER, id=org, name=org, level=level,
                                       parent=parent, now=SETUP_AT)
                            made.add(org)
                    unit = folded.row["unit_id"]
                    if unit not in made:
                        create_unit(conn, SEEDER, id=unit, name=unit, org=community,
                                    industry=None, tags=[], now=SETUP_AT)
                        made.add(unit)
                    if f"deployed {street}" not in made:
                        deploy(conn, SEEDER, published, street, now=SETUP_AT)
                        made.add(f"deployed {street}")
            for folded, steps in replay:
                with db.write() as conn:
                    _replay(conn, store, folded, steps)
        finally:
            db.dispose()


def _replay(conn: Connection, store: CaseStore, folded: Folded, steps: Sequence[Step]) -> None:
    case_id = folded.row["id"]
    first = steps[0]
    opener = Principal(0, first.actor, frozenset({first.role}), "admin")
    store.open(conn, opener, campaign_id=CAMPAIGN_ID, case_type=CASE_TYPE,
               unit_id=folded.row["unit_id"], data=first.data, now=first.at, case_id=case_id)
    for step in steps[1:]:
        store.fire(conn, SEEDER, case_id, trigger=step.trigger, data=step.data,
                   expected_version=None, now=step.at,
                   actor=Actor(step.actor, frozenset({step.role})))
    row = conn.execute(select(case_t).where(case_t.c.id == case_id)).one()._asdict()
    if row != folded.row:
        diff = {k: (row.get(k), v) for k, v in folded.row.items() if row.get(k) != v}
        raise RuntimeError(f"seeded case {case_id} differs from the storage layer's: {diff}")
    stored = conn.execute(select(entry_t.c.seq, entry_t.c.hash).where(
        entry_t.c.stream == f"case:{case_id}").order_by(entry_t.c.seq)).all()
    if [tuple(r) for r in stored] != [(e["seq"], e["hash"]) for e in folded.entries]:
        raise RuntimeError(f"seeded audit chain of case {case_id} differs from the storage "
                           f"layer's: {[e['action'] for e in folded.entries]}")


def _positive(value: str) -> int:
    number = int(value.replace("_", ""))
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, metavar="PATH",
                        help="the SQLite file to make (must not exist)")
    parser.add_argument("--cases", type=_positive, default=DEFAULT_CASES, metavar="N")
    parser.add_argument("--units", type=_positive, default=DEFAULT_UNITS, metavar="N")
    parser.add_argument("--batch", type=_positive, default=DEFAULT_BATCH, metavar="N")
    parser.add_argument("--seed", type=int, default=2023, help="random seed")
    parser.add_argument("--check", type=int, default=20, metavar="N",
                        help="cases replayed through the storage layer and compared (0: none)")
    args = parser.parse_args(argv)
    manifest = seed(args.database, cases=args.cases, units=args.units, batch=args.batch,
                    rng_seed=args.seed, check=args.check)
    out = args.database.with_suffix(".manifest.json")
    manifest.write(out)
    print(json.dumps({"database": manifest.database, "manifest": str(out),
                      "cases": manifest.cases, "units": manifest.units, "orgs": manifest.orgs,
                      "audit_entries": manifest.audit_entries,
                      "obligations": manifest.obligations, "checked": manifest.checked,
                      "seconds": manifest.seconds},
                     ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
