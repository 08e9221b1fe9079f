from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.world import World

HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "储罐区可燃气体报警装置失效", "found_on": "2023-06-01"}


def test_open_and_plan(client: TestClient, world: World) -> None:
    r = client.post("/cases", json={"campaign": "special-action-2023-linyin", "type": "hazard",
                                    "unit": "u-chem-01", "data": HAZARD},
                    headers=world.auth("principal"))
    assert r.status_code == 201, r.text
    case = r.json()
    r = client.post(f"/cases/{case['id']}/events", headers=world.auth("principal"), json={
        "trigger": "plan", "version": 1, "data": {
            "goals_and_tasks": "更换", "measures": "停用", "funds_and_materials": "自筹",
            "responsible": "设备部", "deadline": "2023-07-31", "safety_measures": "巡检"}})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rectifying"
