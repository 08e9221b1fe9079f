"""A problem's `title` is for people, in the language the caller reads (`Accept-Language`,
Chinese by default); its `code` is for machines and the same in every language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.world import World


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
