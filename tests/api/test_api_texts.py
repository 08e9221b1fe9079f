"""What the HTTP layer itself says to people (area `api` of the catalogue) is in the caller's
language: a malformed body (a field missing, of the wrong type, unknown or too long, pydantic's
messages included), a query parameter the route does not take or cannot read, an upload it
cannot use, an idempotency key reused; Chinese under `Accept-Language: zh`, and under `en` the
English the API has always said."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import HAZARD, LINYIN, World

ZH = {"Accept-Language": "zh"}
EN = {"Accept-Language": "en"}
CASE = {"campaign": LINYIN, "unit": "u-chem-01", "data": HAZARD}


def _chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _both(client: TestClient, world: World, who: str, method: str, path: str,
          **sent: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The problem of one request asked in Chinese, then in English: same status and code."""
    said = []
    extra = sent.pop("headers", {})
    for language in (ZH, EN):
        headers = world.auth(who) | language | extra
        answer = client.request(method, path, headers=headers, **sent)
        assert answer.status_code >= 400, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        said.append(answer.json())
    zh, en = said
    assert (zh["status"], zh["code"]) == (en["status"], en["code"])
    return zh, en


def _message(body: dict[str, Any], location: str) -> str:
    found: list[str] = [p["message"] for p in body["problems"] if p["location"] == location]
    assert len(found) == 1, body["problems"]
    return found[0]


def test_a_missing_field_is_told_in_the_callers_language(client: TestClient,
                                                          world: World) -> None:
    body = {k: v for k, v in CASE.items() if k != "unit"}
    zh, en = _both(client, world, "principal", "POST", "/cases", json=body)
    assert zh["code"] == "request_invalid"
    assert _message(zh, "body.unit") == "缺少必填字段"
    assert zh["detail"] == "请求有误：body.unit：缺少必填字段"
    assert _message(en, "body.unit") == "Field required"
    assert en["detail"] == "the request is not valid: body.unit: Field required"


def test_a_value_of_the_wrong_type_is_told_in_the_callers_language(client: TestClient,
                                                                    world: World) -> None:
    zh, en = _both(client, world, "principal", "POST", "/cases", json={**CASE, "type": 5})
    assert _message(zh, "body.type") == "应为字符串"
    assert _message(en, "body.type") == "Input should be a valid string"
    zh, en = _both(client, world, "principal", "POST", "/cases",
                   json={**CASE, "found_on": "2023-13-01"})
    assert _message(zh, "body.found_on") == "应为有效的日期或日期时间：月份超出1-12的范围"
    assert _message(en, "body.found_on") == (
        "Input should be a valid date or datetime, month value is outside expected range of 1-12")
    # a model's own check (api.schemas), said where the request is
    zh, en = _both(client, world, "admin", "PATCH", "/orgs/linyin", json={"name": None})
    assert _message(zh, "body") == "name不能为null；如要保留原值，请不传该字段"
    assert _message(en, "body") == "name cannot be null; leave it out to keep it"


def test_an_unknown_key_is_told_in_the_callers_language(client: TestClient,
                                                        world: World) -> None:
    body = {k: v for k, v in CASE.items() if k != "unit"} | {"units": "u-chem-01"}
    zh, en = _both(client, world, "principal", "POST", "/cases", json=body)
    assert _message(zh, "body.units").startswith("未知的键：该请求体没有这个键；请删除（")
    assert "'unit'" in _message(zh, "body.units")
    assert _message(en, "body.units") == (
        "unknown key: this body has no such key; leave it out (did you mean 'unit'?)")
    assert zh["detail"].startswith("请求有误：") and "body.units：未知的键" in zh["detail"]
    # a body that is not JSON at all
    zh, en = _both(client, world, "principal", "POST", "/cases", content=b"unit=u-chem-01",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert _message(zh, "body") == ("请求体须为JSON，并以 Content-Type: application/json 发送"
                                    "（而不是application/x-www-form-urlencoded）")
    assert _message(en, "body") == ("the body must be JSON, sent with Content-Type: "
                                    "application/json (not application/x-www-form-urlencoded)")
    zh, en = _both(client, world, "principal", "POST", "/cases", content=b'{"unit": ',
                   headers={"Content-Type": "application/json"})
    assert _message(zh, "body") == "请求体不是有效的JSON：此处应为一个值"
    assert _message(en, "body") == "the body is not JSON: Expecting value"
    # the event route reads its own body, and its parser says where
    zh, en = _both(client, world, "principal", "POST", "/cases/c-1/events",
                   content=b'{"trigger": "plan",}', headers={"Content-Type": "application/json"})
    assert _message(zh, "body") == "请求体不是有效的JSON：多余的逗号（第1行第20列）"
    assert _message(en, "body") == "the body is not JSON: trailing comma at line 1 column 20"


def test_a_string_too_long_is_told_in_the_callers_language(client: TestClient,
                                                           world: World) -> None:
    zh, en = _both(client, world, "principal", "POST", "/cases",
                   json={**CASE, "campaign": "c" * 65})
    assert _message(zh, "body.campaign") == "最多64个字符"
    assert _message(en, "body.campaign") == "String should have at most 64 characters"
    zh, en = _both(client, world, "admin", "POST", "/units", json={
        "id": "u-many", "name": "多标签单位", "org": "linyin-c1", "tags": ["t"] * 51})
    assert _message(zh, "body.tags") == "列表最多50项，实际为51项"
    assert _message(en, "body.tags") == (
        "List should have at most 50 items after validation, not 51")


def test_a_bad_query_parameter_is_told_in_the_callers_language(client: TestClient,
                                                               world: World) -> None:
    zh, en = _both(client, world, "admin", "GET", "/cases?stat=closed")
    assert _message(zh, "query.stat").startswith("未知的查询参数；")
    assert "'state'" in _message(zh, "query.stat")
    assert _message(en, "query.stat") == "unknown query parameter; did you mean 'state'?"
    zh, en = _both(client, world, "admin", "GET", "/cases?limit=abc&due_from=2023-6-1")
    assert _message(zh, "query.limit") == "应为整数：无法将该字符串解析为整数"
    assert _message(en, "query.limit") == (
        "Input should be a valid integer, unable to parse string as an integer")
    assert _message(zh, "query.due_from") == "日期应写作YYYY-MM-DD，例如2023-06-30"
    assert _message(en, "query.due_from") == "a date is written YYYY-MM-DD, e.g. 2023-06-30"
    zh, en = _both(client, world, "admin", "GET", "/cases?limit=0&open=maybe")
    assert _message(zh, "query.limit") == "应大于或等于1"
    assert _message(en, "query.limit") == "Input should be greater than or equal to 1"
    assert _message(zh, "query.open") == "应为布尔值（true或false）：无法识别该输入"
    assert _message(en, "query.open") == (
        "Input should be a valid boolean, unable to interpret input")
    # a route's own refusal of a filter
    zh, en = _both(client, world, "admin", "GET", "/cases?field=grade")
    assert zh["code"] == "bad_filter"
    assert zh["detail"] == "字段筛选条件'grade'应写作name:value，例如grade:major"
    assert en["detail"] == "field filter 'grade' needs the form name:value, e.g. grade:major"


def test_a_bad_upload_is_told_in_the_callers_language(client: TestClient,
                                                      world: World) -> None:
    zh, en = _both(client, world, "admin", "POST", "/units/import",
                   content=b'{"id": "u-1"}', headers={"Content-Type": "application/json"})
    assert zh["code"] == "unsupported_media_type"
    assert zh["detail"] == ("请以text/csv、application/vnd.openxmlformats-officedocument."
                            "spreadsheetml.sheet或multipart/form-data（字段`file`）发送文件，"
                            "而不是application/json")
    assert en["detail"] == ("send the file as text/csv, application/vnd.openxmlformats-"
                            "officedocument.spreadsheetml.sheet or multipart/form-data (field "
                            "`file`), not application/json")
    zh, en = _both(client, world, "admin", "POST", "/units/import",
                   files={"upload": ("units.csv", b"id,name,org\n", "text/csv")})
    assert zh["code"] == "multipart_invalid"
    assert zh["detail"] == "multipart请求体的`file`字段中没有文件"
    assert en["detail"] == "the multipart body has no file in a `file` field"


def test_an_idempotency_key_reused_is_told_in_the_callers_language(client: TestClient,
                                                                   world: World) -> None:
    key = {"Idempotency-Key": "hazard-17"}
    first = client.post("/cases", json=CASE, headers=world.auth("principal") | key)
    assert first.status_code == 201, first.text
    other = {**CASE, "data": {**HAZARD, "description": "储罐区报警装置失效"}}
    zh, en = _both(client, world, "principal", "POST", "/cases", json=other, headers=key)
    assert zh["code"] == "idempotency_key_reused" and zh["status"] == 409
    assert zh["detail"] == "Idempotency-Key 'hazard-17'已用于另一个请求；新的请求请使用新的键值"
    assert en["detail"] == ("Idempotency-Key 'hazard-17' was used for a different request; "
                            "use a new key for a new case")
    assert _chinese(zh["detail"]) and not _chinese(en["detail"])


def test_an_empty_campaign_and_a_body_past_its_cap_are_told_in_the_callers_language(
        client: TestClient, world: World) -> None:
    zh, en = _both(client, world, "admin", "POST", "/campaigns/validate", content=b"  ",
                   headers={"Content-Type": "application/yaml"})
    assert zh["code"] == "request_invalid"
    assert zh["detail"] == "请求有误：body：请求体为空：请以YAML文本发送行动方案文件"
    assert en["detail"] == ("the request is not valid: body: the body is empty: send the "
                            "campaign as YAML text")
    huge = b'{"trigger": "plan", "data": {"x": "' + b"x" * (1024 * 1024) + b'"}}'
    zh, en = _both(client, world, "principal", "POST", "/cases/c-1/events", content=huge,
                   headers={"Content-Type": "application/json"})
    assert zh["code"] == "body_too_large" and zh["status"] == 413
    assert zh["detail"] == "请求内容超过1 MiB，即JSON请求体的上限；请减少内容（可拆分导入文件）"
    assert en["detail"] == ("the request body is larger than 1 MiB, the most a JSON body may "
                            "be; send less (split an import file)")
