"""GET /campaigns/{id}/versions/diff: what a new version changes, in the terms a migration is
planned in — the Linyin plan re-published with 动员部署 a week later and one added check."""

from __future__ import annotations

from fastapi.testclient import TestClient

from paicha.files import bundled_dir
from tests.support.world import LINYIN, World

ADDED = """checks:
  - id: night_patrol
    name: 夜间巡查重点场所
    who: locality
    for: {orgs: {level: street}}
    phase: self_check
"""


def _v2() -> str:
    text = (bundled_dir() / f"{LINYIN}.yaml").read_text(encoding="utf-8")
    text = text.replace('{id: mobilize,    due: "2023-05-25"}', '{id: mobilize, due: "2023-06-01"}')
    return text.replace("checks:\n", ADDED, 1)


def test_a_new_version_says_what_it_redates_and_adds(client: TestClient, world: World) -> None:
    published = client.post("/campaigns", content=_v2().encode(), headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert published.status_code == 201, published.text
    answer = client.get(f"/campaigns/{LINYIN}/versions/diff", params={"from": 1},
                        headers=world.auth("safety_office"))
    assert answer.status_code == 200, answer.text
    diff = answer.json()
    assert (diff["from"], diff["to"], diff["period"]) == (1, 2, None)
    assert diff["phases"] == {"added": [], "removed": [], "redated": [{
        "id": "mobilize", "name": diff["phases"]["redated"][0]["name"],
        "from": {"due": "2023-05-25", "start": None}, "to": {"due": "2023-06-01", "start": None}}]}
    assert diff["checks"]["added"] == [{"id": "night_patrol", "name": "夜间巡查重点场所"}]
    assert diff["checks"]["removed"] == []
    # a check due at the re-dated phase's end falls due on another day, itself unchanged
    moved = {c["id"]: c["changed"] for c in diff["checks"]["changed"]}
    assert moved["task_force"] == ["phase_redated"]
    assert all(terms == ["phase_redated"] for terms in moved.values())
    assert diff["cases"] == {}
    same = client.get(f"/campaigns/{LINYIN}/versions/diff", params={"from": 2, "to": 2},
                      headers=world.auth("safety_office")).json()
    assert same["phases"]["redated"] == [] and same["checks"]["added"] == []


def test_versions_that_do_not_exist_are_not_found(client: TestClient, world: World) -> None:
    missing = client.get(f"/campaigns/{LINYIN}/versions/diff", params={"from": 7},
                         headers=world.auth("admin"))
    assert missing.status_code == 404
    assert client.get("/campaigns/nope/versions/diff", params={"from": 1},
                      headers=world.auth("admin")).status_code == 404
    assert client.get(f"/campaigns/{LINYIN}/versions/diff",
                      headers=world.auth("admin")).status_code == 422
