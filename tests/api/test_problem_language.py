"""A problem's `title` is for people, in the language the caller reads (`Accept-Language`,
Chinese by default); its `code` is for machines and the same in every language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from engine import texts
from engine.errors import (
    CaseNotFound,
    PaichaError,
    RoleNotAllowed,
    StaleVersion,
    TransitionNotAllowed,
)
from tests.support.world import World

# what these tests read is the Chinese a person gets by default
pytestmark = pytest.mark.usefixtures("chinese")


@pytest.mark.parametrize(("accept", "title"), [
    (None, "未找到"), ("zh-CN,zh;q=0.9", "未找到"), ("en", "Not found"),
    ("en-US,en;q=0.9,zh;q=0.5", "Not found"), ("fr,en;q=0.1", "Not found"),
    ("en;q=0.2,zh;q=0.8", "未找到"), ("en;q=0", "未找到"),
])
def test_a_domain_problem_is_titled_in_the_callers_language(
        client: TestClient, world: World, accept: str | None, title: str) -> None:
    headers = world.auth("admin") | ({"Accept-Language": accept} if accept else {})
    answer = client.get("/cases/no-such-case", headers=headers)
    assert answer.status_code == 404
    body = answer.json()
    assert (body["code"], body["title"]) == ("not_found", title)


@pytest.mark.parametrize("accept", [b"\xff\xfe en", b"en;q=nan", b"en;q=-1", b"*;q=1, en;q=0.5",
                                    b"de;q=0.9, " * 4000])
def test_an_accept_language_that_asks_for_nothing_readable_is_answered_in_chinese(
        client: TestClient, world: World, accept: bytes) -> None:
    answer = client.get("/cases/no-such-case",
                        headers=world.auth("admin") | {"Accept-Language": accept})
    assert answer.status_code == 404 and answer.json()["title"] == "未找到"


def test_the_frameworks_own_problems_and_their_fixed_details_follow_the_language(
        client: TestClient, world: World) -> None:
    zh = client.get("/no/such/route", headers=world.auth("admin")).json()
    en = client.get("/no/such/route", headers=world.auth("admin") | {
        "Accept-Language": "en"}).json()
    assert (zh["code"], zh["title"]) == ("no_such_route", "没有该接口")
    assert (en["code"], en["title"]) == ("no_such_route", "No such route")
    refused = client.delete("/health", headers={"Accept-Language": "en"}).json()
    chinese = client.delete("/health").json()
    assert refused["code"] == chinese["code"] == "method_not_allowed"
    assert refused["detail"] == "DELETE is not a method of /health; it takes GET"
    assert chinese["detail"] == "/health不支持DELETE方法；可用：GET"


def test_a_request_without_a_token_is_told_so_in_its_language(client: TestClient) -> None:
    chinese = client.get("/cases").json()
    assert (chinese["title"], chinese["detail"]) == (
        "未认证",
        "该接口需要令牌：请发送 Authorization: Bearer <令牌>（用 `paicha token create` 生成）")
    english = client.get("/cases", headers={"Accept-Language": "en"}).json()
    assert (english["code"], english["title"]) == ("unauthenticated", "Unauthenticated")
    assert english["detail"].startswith("this route needs a bearer token")
    unknown = client.get("/cases", headers={"Authorization": "Bearer nope"}).json()
    assert unknown["detail"].startswith("令牌无效")


def test_the_refusals_people_meet_most_are_told_in_their_language(
        client: TestClient, world: World) -> None:
    opened = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": "special-action-2023-linyin", "unit": "u-chem-01",
        "data": {"source": "self_inspection", "grade": "major",
                 "industry": "hazardous_chemicals", "description": "配电室线路老化",
                 "found_on": "2023-06-01"}})
    assert opened.status_code == 201, opened.text
    events = f"/cases/{opened.json()['id']}/events"
    accept = {"trigger": "accept", "data": {}}
    chinese = client.post(events, json=accept, headers=world.auth("acceptance_team")).json()
    english = client.post(events, json=accept, headers=world.auth("acceptance_team") | {
        "Accept-Language": "en"}).json()
    assert chinese["code"] == english["code"] == "transition_not_allowed"
    assert "状态下不能办理'accept'；当前可办理：" in chinese["detail"]
    assert "'accept' is not allowed in state" in english["detail"]
    assert chinese["allowed"] == english["allowed"]  # the machine's part is the same
    plan = {"trigger": "plan", "data": {}}
    refused = client.post(events, json=plan, headers=world.auth("regulator")).json()
    assert refused["code"] == "role_not_allowed"
    assert "'plan'须由以下角色之一办理：principal；你的角色：" in refused["detail"]
    missing = client.post(events, json=plan, headers=world.auth("principal")).json()
    assert missing["code"] == "missing_fields" and "'plan'须填写" in missing["detail"]


@pytest.mark.parametrize(("error", "zh", "en"), [
    (lambda: CaseNotFound("c-1"), "没有案件'c-1'", "no case 'c-1'"),
    (lambda: StaleVersion("case", "c-1", 3, 4), "记录（案件 c-1）当前为第4版，不是第3版：",
     "case c-1 is at version 4, not 3: someone changed it since you read it"),
    (lambda: RoleNotAllowed("c-1", "accept", ["city_regulator"], [], signoff=True),
     "案件c-1：'accept'的下一个签名须由city_regulator签署；你的角色：无",
     "case c-1: 'accept' the next sign-off needs city_regulator; you hold no role"),
    (lambda: TransitionNotAllowed("c-1", "closed", "accept", []),
     "案件c-1：'closed'状态下不能办理'accept'；当前可办理：无（案件已办结）",
     "case c-1: 'accept' is not allowed in state 'closed'; allowed now: none: the case is "
     "closed"),
])
def test_a_domain_errors_detail_in_either_language(
        error: Callable[[], PaichaError], zh: str, en: str) -> None:
    """An error words itself in the language it is raised in (a request's, a command's)."""
    assert str(error()).startswith(zh)
    with texts.use("en"):
        assert str(error()).startswith(en)
