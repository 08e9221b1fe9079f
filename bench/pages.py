"""Benchmark: the screens' speed bar — every page's first screen in ≤ 150 ms of server time on
the 1M-case database.

**The data.** ``bench.seed``'s database (a district of 10 streets and 100 communities, 10k
units, ``--cases`` hazards, 1M by default): ``--database PATH`` reuses the file when it exists
(its ``.manifest.json`` beside it; migrated to the code's schema first, as ``paicha db
upgrade`` would) and seeds it there otherwise, keeping it; without it the seed goes to a
temporary folder removed at the end. The seed's replay check is off (``check=0``): the
measurement reads the data, it does not vouch for it. Then one account per person below,
with a known password (``storage.users.create``; kept when the file is reused), each signed in
with ``storage.users.sign_in`` for a session cookie, and an API token of the same roles and
scope (``storage.tokens.create``) for the reference:

* ``district``: the district office (东胜区: regulator, enforcement, safety office, government),
  which reaches every seeded hazard;
* ``street``: a street office (第1街道, s01, the roles of the demo's other street), the street
  with the most hazards (units hold hazards unevenly: ``places.street_cases``);
* ``principal``: the principal of that street's unit with the most hazards;
* ``admin``: the setup account, for the accounts page.

The seed deploys special-action-2023 at its streets; it is deployed at the district too (once,
88 more obligations of the district's own), since the reports page offers a person only the
campaigns deployed at or above their org.

**The measurement.** The app as ``paicha serve`` builds it (``api.app.create_app`` on the file,
a fixed clock at 2023-12-01 09:00 in Shanghai, inside the seeded campaign's period), driven
in-process through its ASGI callable by ``httpx.AsyncClient`` with ``ASGITransport``: a page is
the whole request, session lookup, the API calls it makes and the template. Each page is asked
once to warm up, then ``--repeat`` times; after each ask of a page, the API calls it is built on
are asked directly with the person's token, one after another (``api_p50_ms`` is the p50 of
their sum, ``api`` each call's p50), so a busy spell of the shared machine hits both alike.
p50 and p95 per page; ``within`` is p95 ≤ ``bar_ms``. A page's ``adds_ms`` is its p50 less the
API's. ``cpu_p50_ms`` is this process's CPU time during the page (the app, its thread pool and
SQLite all run in it): on a busy shared machine the wall time stretches, the CPU time much
less. A page that took over ``SLOW_MS`` (10× the bar) once is asked ``SLOW_REPEAT`` times only
(``asks`` says how often): at 1M a district's list takes seconds, and three asks say so. Before
the pages, the sign-in form and ``/health`` are asked once, so that the first page measured
does not pay for the app's first request. For a page over the bar, ``slowest_statement`` is
the slowest SQL statement of its warm-up (its ms, the statements' count and total ms, the end
of its text, and SQLite's plan for it). Floors: a bare render of a 50-row table by the
screens' own Jinja2 environment, and ``GET /health`` through the same client (the transport's
and the app's outer layers' own cost).

A page that no route answers (404 with no matching route: not written yet) is reported as
``"missing"``; one that answers anything but 200 is reported with its status and measured no
further. "Next page" follows the first screen's link to the next page (a link with
``cursor=``), and the API's reference follows ``next_cursor``.

Prints one JSON object to stdout (progress to stderr); exit 0 when measured, bar met or not.

Run from the repository root::

    .venv/bin/python -m bench.pages [--database PATH] [--cases N] [--repeat N] [--only TEXT]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import html
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx
from fastapi import FastAPI
from sqlalchemy import Connection, event, func, select
from starlette.routing import Match

from bench import seed as seeding
from bench.seed import ROOT_ORG
from web.session import COOKIE

BAR_MS = 150.0
DEFAULT_REPEAT = 20  # p95 by nearest rank: of 20, one outlier is let go
SLOW_MS, SLOW_REPEAT = 10 * BAR_MS, 3
NOW = dt.datetime(2023, 12, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai, in the seed's period
CAMPAIGN = seeding.CAMPAIGN_ID
STREET = "s01"
TIMELINE_ROWS = 1000  # the rows of a unit's timeline web/pages/campaigns.py asks for
PASSWORD = "bench-pages-Passw0rd"  # the accounts are the bench's own, on a bench database
LINK = re.compile(r'<a\s[^>]*href="([^"]*cursor=[^"]*)"[^>]*>')


@dataclass(frozen=True)
class Person:
    login: str
    roles: tuple[str, ...]
    scope_kind: str
    scope_id: str | None


def people(unit: str) -> dict[str, Person]:
    """The people whose scope matters, by name."""
    return {
        "district": Person("bench-district",
                           ("regulator", "enforcement", "safety_office", "government"),
                           "org", ROOT_ORG),
        "street": Person("bench-street", ("locality", "community", "acceptance_team",
                                          "government", "safety_office", "regulator"),
                         "org", STREET),
        "principal": Person("bench-principal", ("principal",), "unit", unit),
        "admin": Person("bench-admin", (), "admin", None),
    }


@dataclass(frozen=True)
class Page:
    """A first screen to measure: as whom, its URL, and the API calls it is built on."""

    key: str
    person: str | None  # None: nobody signed in
    url: str
    api: tuple[str, ...] = ()
    next_of: str | None = None  # measure the next page of this page (its key)


@dataclass(frozen=True)
class Places:
    """What the seeded database holds that the pages are asked about."""

    street_cases: int
    unit: str  # the street's unit with the most hazards
    unit_org: str
    unit_cases: int
    long_case: str  # a hazard of the street with the most events
    long_case_events: int
    long_case_unit: str
    obligation: int  # an obligation of that unit
    campaigns: tuple[str, ...]  # every published campaign (the campaigns page asks each's places)
    case_types: tuple[str, ...]  # the case types of CAMPAIGN (its page draws each)


def plan(places: Places) -> list[Page]:
    unit, case, duty = places.unit, places.long_case, places.obligation
    dispatch = f"campaign={CAMPAIGN}&report=dispatch"
    cases = "/cases?type=hazard&limit=50"  # as web/pages/hazards.py asks
    # the campaigns and where each is deployed: what the campaigns, reports and org pages offer
    offered = ("/campaigns", *(f"/campaigns/{c}/deployments" for c in places.campaigns))
    pages = [
        Page("sign-in form", None, "/ui/login"),
        Page("desk (district)", "district", "/ui/", _desk_api()),
        Page("desk (street)", "street", "/ui/", _desk_api()),
        Page("desk (principal)", "principal", "/ui/", _desk_api()),
        Page("hazards (district)", "district", "/ui/hazards", (cases,)),
        Page("hazards (street)", "street", "/ui/hazards", (cases,)),
        Page("hazards (principal)", "principal", "/ui/hazards", (cases,)),
        Page("hazards ?state=rectifying (district)", "district",
             "/ui/hazards?state=rectifying", (f"{cases}&state=rectifying",)),
        Page("hazards ?grade=major (district)", "district", "/ui/hazards?grade=major",
             (f"{cases}&field=grade:major",)),
        Page("hazards ?overdue=true (district)", "district", "/ui/hazards?overdue=true",
             (f"{cases}&overdue=true",)),
        Page(f"hazards ?org={STREET} (district)", "district", f"/ui/hazards?org={STREET}",
             (f"{cases}&org={STREET}",)),
        Page("hazards ?unit= (district)", "district", f"/ui/hazards?unit={unit}",
             (f"{cases}&unit={unit}",)),
        Page("hazards ?sort=oldest (district)", "district", "/ui/hazards?sort=oldest",
             (f"{cases}&sort=oldest",)),
        Page("hazards ?sort=due (district)", "district", "/ui/hazards?sort=due",
             (f"{cases}&sort=due",)),
        Page("hazards, next page (district)", "district", "", (cases,),
             next_of="hazards (district)"),
        Page("hazard with a long history (district)", "district", f"/ui/hazards/{case}",
             (f"/cases/{case}", f"/cases/{case}/history", f"/units/{places.long_case_unit}")),
        Page("new hazard form (principal)", "principal", "/ui/hazards/new"),
        Page("new hazard form (street)", "street", "/ui/hazards/new", ("/units?limit=500",)),
        Page("checks (district)", "district", "/ui/checks",
             ("/obligations?status=open&limit=50", "/campaigns")),
        Page("checks (street)", "street", "/ui/checks",
             ("/obligations?status=open&limit=50", "/campaigns")),
        Page("checks (principal)", "principal", "/ui/checks",
             ("/obligations?status=open&limit=50", "/campaigns")),
        Page("check (principal)", "principal", f"/ui/checks/{duty}",
             (f"/obligations/{duty}", f"/obligations/{duty}/completions")),
        Page("report of a street", "street", f"/ui/reports?{dispatch}&org={STREET}",
             (*offered, f"/campaigns/{CAMPAIGN}/reports/dispatch?org={STREET}")),
        Page("report of the district", "district", f"/ui/reports?{dispatch}&org={ROOT_ORG}",
             (*offered, f"/campaigns/{CAMPAIGN}/reports/dispatch?org={ROOT_ORG}")),
        Page("campaigns (district)", "district", "/ui/campaigns", offered),
        Page("campaign (district)", "district", f"/ui/campaigns/{CAMPAIGN}",
             (f"/campaigns/{CAMPAIGN}", f"/campaigns/{CAMPAIGN}/versions",
              f"/campaigns/{CAMPAIGN}/deployments",
              *(f"/campaigns/{CAMPAIGN}/diagram?case={c}" for c in places.case_types))),
        Page("campaign timeline (principal)", "principal", f"/ui/campaigns/{CAMPAIGN}/timeline",
             (f"/campaigns/{CAMPAIGN}", "/units?limit=1000",
              f"/campaigns/{CAMPAIGN}/timeline?unit={unit}&limit={TIMELINE_ROWS}")),
        Page("campaign timeline of a unit (street)", "street",
             f"/ui/campaigns/{CAMPAIGN}/timeline?unit={unit}",
             (f"/campaigns/{CAMPAIGN}", "/units?limit=1000",
              f"/campaigns/{CAMPAIGN}/timeline?unit={unit}&limit={TIMELINE_ROWS}")),
        Page("campaign check form (district)", "district", "/ui/campaigns/validate"),
        Page("orgs (district)", "district", "/ui/orgs",
             (f"/orgs/{ROOT_ORG}", f"/orgs?parent={ROOT_ORG}&limit=50")),
        Page("org: a street (district)", "district", f"/ui/orgs/{STREET}",
             (f"/orgs/{STREET}", f"/orgs/{ROOT_ORG}", f"/orgs?parent={STREET}&limit=50",
              f"/units?org={STREET}&limit=50", *offered)),
        Page("org's children, the tree's fragment (district)", "district",
             f"/ui/orgs/{ROOT_ORG}/children", (f"/orgs?parent={ROOT_ORG}&limit=50",)),
        Page("orgs import form (district)", "district", "/ui/orgs/import"),
        Page("units import form (district)", "district", "/ui/units/import"),
        Page("unit (street)", "street", f"/ui/units/{unit}",
             (f"/units/{unit}", f"/orgs/{places.unit_org}",
              f"/cases?unit={unit}&open=true&limit=50", f"/obligations?unit={unit}&limit=50")),
        Page("notices (street)", "street", "/ui/notices",
             ("/deliveries?limit=50", "/deliveries?status=dead&limit=50")),
        Page("subscriptions (street)", "street", "/ui/notices/subscriptions",
             ("/subscriptions", "/campaigns")),
        Page("users (admin)", "admin", "/ui/users"),
    ]
    return pages


def _desk_api() -> tuple[str, ...]:
    """The calls web/pages/home.py makes (its dates as the fixed clock gives them)."""
    soon = (NOW.date() + dt.timedelta(days=14)).isoformat()
    return (f"/deadlines?due_to={soon}&limit=100", "/cases?overdue=true&open=true&limit=20",
            "/obligations?status=missed&limit=20", "/campaigns")


# -- the database and the people -----------------------------------------------------------------

def _progress(message: str) -> None:
    print(f"bench.pages: {message}", file=sys.stderr, flush=True)


def seeded(path: Path, cases: int) -> seeding.Manifest:
    """The seeded database at `path`: reused when there, seeded (and kept) otherwise."""
    manifest_path = path.with_suffix(".manifest.json")
    if path.exists():
        from storage.db import upgrade

        manifest = seeding.Manifest.read(manifest_path)
        _progress(f"reusing {manifest.cases} seeded cases in {path}")
        upgrade(f"sqlite:///{path}")  # as `paicha db upgrade` after the code moved on
        return manifest
    _progress(f"seeding {cases} cases into {path} (a while at 1M)")
    manifest = seeding.seed(path, cases=cases, check=0)
    manifest.write(manifest_path)
    return manifest


def find_places(conn: Connection, registry: Any) -> Places:
    from storage.campaigns import newest_versions
    from storage.tables import Case, Obligation, Org, Unit

    case_t = Case.__table__  # type: ignore[attr-defined]
    duty_t = Obligation.__table__  # type: ignore[attr-defined]
    org_t = Org.__table__  # type: ignore[attr-defined]
    unit_t = Unit.__table__  # type: ignore[attr-defined]
    street = conn.execute(select(org_t.c.path).where(org_t.c.id == STREET)).scalar_one()
    street_cases = conn.execute(select(func.count()).select_from(case_t).where(
        case_t.c.org_path >= street, case_t.c.org_path < street[:-1] + "0")).scalar_one()
    # in the street, so that the street office reaches it too
    unit, count = conn.exec_driver_sql(
        "SELECT unit_id, count(*) AS n FROM case_record WHERE org_path >= ? AND org_path < ? "
        "GROUP BY unit_id ORDER BY n DESC, unit_id LIMIT 1",
        (street, street[:-1] + "0")).one()
    unit_org = conn.execute(select(unit_t.c.org_id).where(unit_t.c.id == unit)).scalar_one()
    long_case, events, case_unit = conn.execute(
        select(case_t.c.id, case_t.c.version, case_t.c.unit_id).where(
            case_t.c.org_path >= street, case_t.c.org_path < street[:-1] + "0")
        .order_by(case_t.c.version.desc(), case_t.c.id).limit(1)).one()
    duty = conn.execute(select(duty_t.c.id).where(duty_t.c.subject_id == unit)
                        .order_by(duty_t.c.due, duty_t.c.id).limit(1)).scalar_one()
    newest = newest_versions(conn)
    model = next(registry.get(conn, v.id).loaded.campaign for v in newest
                 if v.campaign_id == CAMPAIGN)
    return Places(int(street_cases), str(unit), str(unit_org), int(count), str(long_case),
                  int(events), str(case_unit), int(duty), tuple(v.campaign_id for v in newest),
                  tuple(model.cases))


def deploy_at_district(conn: Connection, registry: Any) -> bool:
    """Deploy CAMPAIGN at the district too (once; whether it was now): the seed deploys it at
    the streets, and the reports page offers a person the campaigns deployed at or above
    their org, so without it the district office has no report to open."""
    from storage.campaigns import deployments
    from storage.deployments import deploy

    if any(d["org"] == ROOT_ORG for d in deployments(conn, CAMPAIGN)):
        return False
    deploy(conn, seeding.SEEDER, registry.newest(conn, CAMPAIGN), ROOT_ORG, now=seeding.SETUP_AT)
    return True


@dataclass
class Credentials:
    cookies: dict[str, str] = field(default_factory=dict)  # person -> session secret
    tokens: dict[str, str] = field(default_factory=dict)  # person -> API token


def credentials(conn: Connection, registry: Any, who: dict[str, Person]) -> Credentials:
    """An account (made once) and a token (new each run) per person; each signed in."""
    from engine.errors import NotFound
    from storage import tokens, users
    from storage.campaigns import vocabulary

    words = vocabulary(registry, conn)
    found = Credentials()
    for name, person in who.items():
        kind: Any = person.scope_kind
        try:
            users.by_login(conn, person.login)
        except NotFound:  # the first run on this file
            users.create(conn, login=person.login, name=f"bench {name}", password=PASSWORD,
                         roles=person.roles, scope_kind=kind, scope_id=person.scope_id,
                         now=NOW, by="bench.pages", vocabulary=words)
        signed = users.sign_in(conn, person.login, PASSWORD, now=NOW)
        if signed.secret is None:
            raise RuntimeError(f"{person.login} could not sign in: {signed.refusal}")
        found.cookies[name] = signed.secret
        found.tokens[name] = tokens.create(
            conn, name=f"bench.pages {name}", roles=person.roles, scope_kind=kind,
            scope_id=person.scope_id, now=NOW, by="bench.pages", vocabulary=words).secret
    return found


# -- measuring -----------------------------------------------------------------------------------

def _matching(app: FastAPI, path: str) -> list[Any]:
    scope = {"type": "http", "method": "GET", "path": path}
    return [route for route in app.router.routes if route.matches(scope)[0] == Match.FULL]


def routed(app: FastAPI, url: str) -> bool:
    """Whether a page of the app takes this path: a route other than the catch-all that
    answers every unknown /ui path with a 404 page (a 404 without one: the page is missing)."""
    catch_all = _matching(app, "/ui/no-such-page/of/any/kind")
    return any(route not in catch_all for route in _matching(app, urlsplit(url).path))


def next_link(body: str, url: str) -> str | None:
    """A page's link to the next page of its list (rel="next", else the first link with
    `cursor=`), as a path from the page's `url`."""
    found = [(html.unescape(m.group(1)), 'rel="next"' in m.group(0)) for m in LINK.finditer(body)]
    chosen = next((href for href, is_next in found if is_next), found[0][0] if found else None)
    if chosen is None:
        return None
    joined = urlsplit(urljoin(f"http://paicha.bench{url}", chosen))
    return joined.path + (f"?{joined.query}" if joined.query else "")


def quantiles(samples: Sequence[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) in ms, rounded."""
    ordered = sorted(samples)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return round(statistics.median(ordered), 2), round(p95, 2)


@dataclass(frozen=True)
class Asked:
    """One request: its wall time, this process's CPU time meanwhile (the app's, its thread
    pool's and SQLite's: all in this process), and the answer."""

    ms: float
    cpu_ms: float
    answer: httpx.Response


async def _timed(client: httpx.AsyncClient, url: str, cookie: str | None = None,
                 token: str | None = None) -> Asked:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if cookie:
        headers["cookie"] = f"{COOKIE}={cookie}"
    client.cookies.clear()  # only what the page is asked with, never what it set before
    began, cpu = time.perf_counter(), time.process_time()
    answer = await client.get(url, headers=headers)
    return Asked((time.perf_counter() - began) * 1000, (time.process_time() - cpu) * 1000,
                 answer)


async def _api_once(client: httpx.AsyncClient, calls: Sequence[str], token: str | None
                    ) -> tuple[list[float], float, list[int]]:
    """Each call's ms, their CPU ms together, and their statuses, asked one after another as
    the page asks them."""
    spent, cpu, statuses = [], 0.0, []
    for call in calls:
        asked = await _timed(client, call, token=token)
        spent.append(asked.ms)
        cpu += asked.cpu_ms
        statuses.append(asked.answer.status_code)
    return spent, cpu, statuses


class Statements:
    """The SQL statements run while it is entered (the warm-up of a page): for a page over the
    bar, the slowest, with its time and its plan, says where the time went."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.seen: list[tuple[float, str, Any]] = []

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any,
                _many: bool) -> None:
        conn.info["bench.pages.began"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, params: Any, _context: Any,
               _many: bool) -> None:
        began = conn.info.pop("bench.pages.began", None)
        if began is not None:
            self.seen.append(((time.perf_counter() - began) * 1000, statement, params))

    def slowest(self, db: Any) -> dict[str, Any] | None:
        if not self.seen:
            return None
        ms, statement, params = max(self.seen, key=lambda seen: seen[0])
        found: dict[str, Any] = {"ms": round(ms, 1), "statements": len(self.seen),
                                 "all_ms": round(sum(seen[0] for seen in self.seen), 1),
                                 "sql": " ".join(statement.split())[-400:]}
        if db.engine.dialect.name == "sqlite" and not isinstance(params, list):
            with db.read() as conn:
                found["plan"] = [str(row[-1]) for row in conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", params)]
        return found


async def measure_page(app: FastAPI, client: httpx.AsyncClient, page: Page, url: str,
                       creds: Credentials, repeat: int, api_calls: Sequence[str]
                       ) -> dict[str, Any]:
    cookie = creds.cookies.get(page.person) if page.person else None
    token = creds.tokens.get(page.person) if page.person else None
    with Statements(app.state.services.db.engine) as statements:
        first = (await _timed(client, url, cookie)).answer  # the warm-up
    if first.status_code == 404 and not routed(app, url):
        return {"url": url, "person": page.person, "missing": True}
    if first.status_code != 200:
        return {"url": url, "person": page.person, "status": first.status_code,
                "answer": first.text[:300]}
    await _api_once(client, api_calls, token)
    asks = repeat
    page_ms: list[float] = []
    cpu_ms: list[float] = []
    api_ms: list[list[float]] = []  # per repeat, each call's
    api_cpu_ms: list[float] = []
    api_status: set[int] = set()
    while len(page_ms) < asks:
        asked = await _timed(client, url, cookie)
        page_ms.append(asked.ms)
        cpu_ms.append(asked.cpu_ms)
        if asked.ms > SLOW_MS:
            asks = min(asks, SLOW_REPEAT)
        if api_calls:
            spent, cpu, statuses = await _api_once(client, api_calls, token)
            api_ms.append(spent)
            api_cpu_ms.append(cpu)
            api_status.update(statuses)
    p50, p95 = quantiles(page_ms)
    result: dict[str, Any] = {"url": url, "person": page.person, "p50_ms": p50, "p95_ms": p95,
                              "cpu_p50_ms": quantiles(cpu_ms)[0], "asks": asks,
                              "bytes": len(first.content)}
    if api_ms:
        api_p50, api_p95 = quantiles([sum(each) for each in api_ms])
        result.update(api_p50_ms=api_p50, api_p95_ms=api_p95,
                      api_cpu_p50_ms=quantiles(api_cpu_ms)[0],
                      adds_ms=round(p50 - api_p50, 2),
                      api={call: quantiles([each[i] for each in api_ms])[0]
                           for i, call in enumerate(api_calls)},
                      api_status=sorted(api_status))
    result.update(bar_ms=BAR_MS, within=p95 <= BAR_MS)
    if not result["within"]:
        result["slowest_statement"] = statements.slowest(app.state.services.db)
    return result


async def _api_next(client: httpx.AsyncClient, calls: Sequence[str], token: str | None
                    ) -> list[str]:
    """The API's second page: the first call asked again with its `next_cursor`."""
    answer = (await _timed(client, calls[0], token=token)).answer
    cursor = answer.json().get("next_cursor") if answer.status_code == 200 else None
    if not cursor:
        return []
    return [f"{calls[0]}&cursor={cursor}"]


async def measure(app: FastAPI, pages: Sequence[Page], creds: Credentials, repeat: int
                  ) -> dict[str, Any]:
    results: dict[str, Any] = {}
    bodies: dict[str, tuple[str, str]] = {}  # page -> its url and body
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://paicha.bench") as client:
        for first in ("/health", "/ui/login"):  # the app's first request pays for more
            await _timed(client, first)
        for page in pages:
            url, api_calls = page.url, list(page.api)
            if page.next_of is not None:
                first_url, body = bodies.get(page.next_of, ("", ""))
                found = next_link(body, first_url)
                if found is None:
                    results[page.key] = ("missing" if page.next_of not in bodies
                                         else {"status": "no next link on its first page"})
                    continue
                url = found
                token = creds.tokens.get(page.person) if page.person else None
                api_calls = await _api_next(client, api_calls, token) if api_calls else []
            _progress(f"{page.key}: {url}")
            result = await measure_page(app, client, page, url, creds, repeat, api_calls)
            if result.get("missing"):
                results[page.key] = "missing"
                continue
            if "p50_ms" in result:
                cookie = creds.cookies.get(page.person) if page.person else None
                bodies[page.key] = (url, (await _timed(client, url, cookie)).answer.text)
            results[page.key] = result
        floors = await _floors(client, repeat)
    return {"pages": results, "floors": floors}


FLOOR_TEMPLATE = """<table class="stack"><thead><tr>{% for h in heads %}<th scope="col">{{ h }}
</th>{% endfor %}</tr></thead><tbody>{% for row in rows %}<tr>{% for cell in row %}
<td data-label="{{ heads[loop.index0] }}">{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</tbody></table>"""


async def _floors(client: httpx.AsyncClient, repeat: int) -> dict[str, Any]:
    from web.render import environment

    template = environment.from_string(FLOOR_TEMPLATE)
    heads = ["编号", "单位", "隐患", "等级", "状态", "期限"]
    rows = [[f"{i:032x}", "东胜00001化工有限公司", "可燃气体报警装置失效", "重大", "整改中",
             "2023-12-01"] for i in range(50)]
    renders = []
    for _ in range(max(repeat, 20)):
        began = time.perf_counter()
        template.render(heads=heads, rows=rows)
        renders.append((time.perf_counter() - began) * 1000)
    health = [(await _timed(client, "/health")).ms for _ in range(max(repeat, 20))]
    render_p50, render_p95 = quantiles(renders)
    health_p50, health_p95 = quantiles(health)
    return {"jinja2_table_of_50_rows": {"p50_ms": render_p50, "p95_ms": render_p95},
            "asgi_get_health": {"p50_ms": health_p50, "p95_ms": health_p95}}


# -- main ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def _database(path: Path | None) -> Iterator[Path]:
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="paicha-bench-pages-") as folder:
        yield Path(folder) / "pages.db"


def run(path: Path, *, cases: int, repeat: int, only: str | None = None) -> dict[str, Any]:
    from api.app import create_app
    from api.services import Settings

    manifest = seeded(path, cases)
    load_before = os.getloadavg()
    app = create_app(Settings(database_url=f"sqlite:///{path}"), clock=lambda: NOW)
    services = app.state.services
    try:
        began = time.perf_counter()
        with services.db.read() as conn:
            places = find_places(conn, services.registry)
        who = people(places.unit)
        with services.db.write() as conn:
            deploy_at_district(conn, services.registry)
            creds = credentials(conn, services.registry, who)
        setup_s = time.perf_counter() - began
        pages = [p for p in plan(places) if only is None or only in p.key]
        measured = asyncio.run(measure(app, pages, creds, repeat))
    finally:
        services.close()
    results = measured["pages"]
    timed = {k: v for k, v in results.items() if isinstance(v, dict) and "p95_ms" in v}
    return {
        "benchmark": "pages", "cases": manifest.cases, "units": manifest.units,
        "repeat": repeat, "bar_ms": BAR_MS, "clock": NOW.isoformat(), "cores": os.cpu_count(),
        # the machine is shared: its load (1, 5, 15 min) when the run began and ended
        "load_average": {"before": [round(x, 2) for x in load_before],
                         "after": [round(x, 2) for x in os.getloadavg()]},
        "people": {name: {"login": p.login, "roles": list(p.roles), "scope": p.scope_kind,
                          "scope_id": p.scope_id} for name, p in who.items()},
        "places": places.__dict__, "setup_s": round(setup_s, 2),
        "pages": results, "floors": measured["floors"],
        "measured": len(timed),
        "missing": [k for k, v in results.items() if v == "missing"],
        "not_200": [k for k, v in results.items() if isinstance(v, dict) and "status" in v],
        "over_bar": [k for k, v in timed.items() if not v["within"]],
    }


def _positive(value: str) -> int:
    return seeding._positive(value)


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(prog="bench.pages", description=__doc__.splitlines()[0])
    made.add_argument("--database", type=Path, default=None, metavar="PATH",
                      help="a bench.seed file to reuse, or where to seed one and keep it "
                           "(default: a temporary file, removed afterwards)")
    made.add_argument("--cases", type=_positive, default=seeding.DEFAULT_CASES, metavar="N",
                      help="hazards to seed when the file is new (default 1000000)")
    made.add_argument("--repeat", type=_positive, default=DEFAULT_REPEAT, metavar="N",
                      help=f"timed asks of each page after its warm-up (default {DEFAULT_REPEAT})")
    made.add_argument("--only", default=None, metavar="TEXT",
                      help="measure only the pages whose name holds TEXT")
    return made


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with _database(args.database) as path:
        report = run(path, cases=args.cases, repeat=args.repeat, only=args.only)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
