"""bench.pages measures what it says: each page's first screen beside the API calls it is built
on, the next page of a list through the page's own link, a page not written yet as "missing",
and a refusal by its status — here on the demo world, not the seeded million."""

from __future__ import annotations

import asyncio

import pytest

from api.app import create_app
from bench import pages as bench
from storage import users
from tests.support.world import World, password
from web.pages import hazards as hazard_pages


def test_the_arguments() -> None:
    args = bench.parser().parse_args(["--database", "/tmp/x.db", "--repeat", "3",
                                      "--cases", "100_000"])
    assert (str(args.database), args.repeat, args.cases, args.only) == ("/tmp/x.db", 3,
                                                                       100_000, None)
    defaults = bench.parser().parse_args([])
    assert (defaults.database, defaults.cases, defaults.repeat) == (None, 1_000_000, 20)
    with pytest.raises(SystemExit):
        bench.parser().parse_args(["--repeat", "0"])


def test_the_next_link_is_the_pages_own() -> None:
    body = ('<a href="?state=closed">first</a>'
            '<a href="?state=closed&amp;cursor=abc" rel="next">next</a>')
    assert bench.next_link(body, "/ui/hazards?state=closed") == (
        "/ui/hazards?state=closed&cursor=abc")
    assert bench.next_link('<a href="/ui/checks?cursor=x%3D">more</a>', "/ui/checks") == (
        "/ui/checks?cursor=x%3D")
    assert bench.next_link('<a href="/ui/hazards">first</a>', "/ui/hazards") is None


def test_quantiles_are_nearest_rank() -> None:
    assert bench.quantiles([float(n) for n in range(1, 21)]) == (10.5, 19.0)
    assert bench.quantiles([4.0]) == (4.0, 4.0)


def test_a_run_on_the_demo_world(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hazard_pages, "PAGE_SIZE", 1)  # two hazards make two pages
    opened = [world.open_hazard() for _ in range(2)]
    with world.services.db.write() as conn:
        signed = {login: users.sign_in(conn, login, password(login), now=world.clock())
                  for login in ("safety_office", "hotel_principal")}
    creds = bench.Credentials({k: v.secret or "" for k, v in signed.items()}, world.tokens)
    hazards = "/cases?type=hazard&limit=1"
    plan = [
        bench.Page("sign-in", None, "/ui/login"),
        bench.Page("list", "safety_office", "/ui/hazards", (hazards,)),
        bench.Page("list, next page", "safety_office", "", (hazards,), next_of="list"),
        bench.Page("not written", "safety_office", "/ui/no-such-page"),
        bench.Page("next of one not written", "safety_office", "", next_of="not written"),
        bench.Page("another unit's hazard", "hotel_principal", f"/ui/hazards/{opened[0]}",
                   (f"/cases/{opened[0]}",)),
    ]
    app = create_app(services=world.services)
    found = asyncio.run(bench.measure(app, plan, creds, repeat=2))

    results = found["pages"]
    assert set(results["sign-in"]) >= {"p50_ms", "p95_ms", "bar_ms", "within"}
    listed = results["list"]
    assert listed["asks"] == 2 and listed["api_status"] == [200]
    assert set(listed["api"]) == {hazards} and listed["api_p50_ms"] > 0
    assert listed["within"] == (listed["p95_ms"] <= bench.BAR_MS)
    following = results["list, next page"]
    assert following["url"].startswith("/ui/hazards?cursor=")
    assert next(iter(following["api"])).startswith(f"{hazards}&cursor=")
    assert results["not written"] == "missing"
    assert results["next of one not written"] == "missing"
    assert results["another unit's hazard"]["status"] in (403, 404)
    assert set(found["floors"]) == {"jinja2_table_of_50_rows", "asgi_get_health"}
