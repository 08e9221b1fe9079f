"""POST /campaigns/validate returns the warnings of a campaign that also has errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.world import World

BODY = """\
paicha: 1
id: town-2023
extends: special-action-2023
title: 某镇重大事故隐患专项排查整治2023行动实施方案
phases:
  - {id: mobilize, due: 2023-05-25}
checks:
  - id: safety_month
    times: {times}
"""


def _validate(client: TestClient, world: World, times: str) -> dict[str, object]:
    answer = client.post("/campaigns/validate", content=BODY.replace("{times}", times).encode(),
                         headers={**world.auth("admin"), "Content-Type": "application/yaml"})
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_warnings_come_back_with_errors(client: TestClient, world: World) -> None:
    result = _validate(client, world, "zero")
    assert result["valid"] is False
    problems = result["problems"]
    assert isinstance(problems, list)
    found = {(p["path"], p["severity"]) for p in problems}
    assert found == {("$.checks[0].times", "error"), ("$.phases[0].due", "warning")}


def test_the_warning_alone_leaves_the_campaign_valid(client: TestClient, world: World) -> None:
    result = _validate(client, world, "2")
    assert result["valid"] is True
    problems = result["problems"]
    assert isinstance(problems, list)
    assert [(p["path"], p["severity"]) for p in problems] == [("$.phases[0].due", "warning")]
