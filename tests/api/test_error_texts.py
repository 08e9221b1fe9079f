"""The detail of a domain refusal is for people, in the language the request names
(`Accept-Language`): an unknown word and its did-you-mean, a record not found, a cursor this API
did not give out, the bad rows of an import, a case opened after its campaign ended, a token's
scope. The code and the values at fault are the same in both languages; the words are the
catalogue's (engine/locale/<lang>/errors.po)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import texts
from storage.readiness import DatabaseNotReady, check_current
from tests.support.world import HAZARD, LINYIN, World

CSV = "text/csv; charset=utf-8"
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = {"Accept-Language": "zh"}
EN = {"Accept-Language": "en"}


def both(client: TestClient, world: World, method: str, url: str, *, token: str = "admin",
         **request: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same request answered in Chinese and in English (a refusal changes nothing, so the
    second meets what the first met)."""
    answers = []
    for language in (ZH, EN):
        headers = world.auth(token) | language
        answers.append(client.request(method, url, headers=headers, **request).json())
    zh, en = answers
    assert zh["code"] == en["code"]
    return zh, en


def test_an_unknown_word_and_its_did_you_mean(client: TestClient, world: World) -> None:
    unit = {"id": "u-typo-01", "name": "示例", "org": "linyin-c1", "industry": "危化品"}
    zh, en = both(client, world, "POST", "/units", json=unit)
    assert zh["code"] == "unknown_term"
    assert zh["detail"] == "industry：未知行业'危化品'（是否应为'危险化学品'？）"
    assert en["detail"] == "industry: unknown industry '危化品' (did you mean '危险化学品'?)"
    assert (zh["problems"][0]["message"], zh["problems"][0]["hint"]) == (
        "未知行业'危化品'", "是否应为'危险化学品'？")
    assert zh["problems"][0]["field"] == en["problems"][0]["field"] == "industry"
    zh, en = both(client, world, "POST", "/units", json={**unit, "industry": "other",
                                                         "tags": ["劳动密集型企业"]})
    assert zh["detail"].startswith("tags：未知标签'劳动密集型企业'（请填写以下之一：")
    assert "above_scale（规模以上企业）、" in zh["detail"]
    assert en["detail"].startswith("tags: unknown tag '劳动密集型企业' (write one of: "
                                   "above_scale (规模以上企业), ")


def test_a_record_not_found_names_its_kind(client: TestClient, world: World) -> None:
    zh, en = both(client, world, "GET", "/orgs/nowhere")
    assert zh["code"] == "not_found"
    assert (zh["detail"], en["detail"]) == ("没有组织机构'nowhere'", "no org 'nowhere'")
    zh, en = both(client, world, "GET", "/units/nobody")
    assert (zh["detail"], en["detail"]) == ("没有单位'nobody'", "no unit 'nobody'")
    zh, en = both(client, world, "GET", "/campaigns/no-such-plan/raw")
    assert zh["detail"].startswith("没有专项行动'no-such-plan'"), zh
    assert en["detail"].startswith("no campaign 'no-such-plan'"), en


def test_a_cursor_this_api_did_not_give_out(client: TestClient, world: World) -> None:
    zh, en = both(client, world, "GET", "/units", params={"cursor": "abc"})
    assert zh["code"] == "bad_cursor"
    assert zh["detail"].startswith("该游标不是本接口给出的") and "`next_cursor`" in zh["detail"]
    assert en["detail"].startswith("the cursor is not one this API gave out")


def test_the_bad_rows_of_an_import(client: TestClient, world: World) -> None:
    rows = ("id,name,org,industry,tags\n"
            "u-good-01,好单位,linyin-c1,,\n"
            "bad id!,坏编号,linyin-c1,,\n"
            "u-good-01,重复,linyin-c2,,\n"
            "u-lost-01,无处,nowhere,,\n"
            "u-noname,,linyin-c1,危化品,\n")
    zh, en = both(client, world, "POST", "/units/import",
                  files={"file": ("units.csv", rows.encode(), CSV)})
    assert zh["code"] == "import_invalid"
    assert (zh["detail"], en["detail"]) == ("units.csv中有4处问题", "4 problem(s) in units.csv")
    said = {(p["line"], p["field"]): (p["message"], p["hint"]) for p in zh["problems"]}
    assert said[(3, "id")] == ("id 'bad id!'不可用",
                               "请使用1–64个字母、数字或 '_'、'.'、':'、'-'，以字母或数字开头")
    assert said[(4, "id")] == ("id 'u-good-01'重复（首次出现在第2行）", "每个id只保留一行")
    assert said[(6, "name")] == ("name为空", "")
    assert said[(5, "org")] == ("未知组织机构'nowhere'", "请先导入该组织机构")
    english = {(p["line"], p["field"]): p["message"] for p in en["problems"]}
    assert english[(4, "id")] == "duplicate id 'u-good-01' (first on line 2)"
    assert english[(6, "name")] == "empty name"
    assert english[(5, "org")] == "unknown org 'nowhere'"


def test_a_case_opened_after_its_campaign_ended(client: TestClient, world: World) -> None:
    world.clock.advance(days=218)  # 2024-01-05: the plan ran to 2023-12-31
    case = {"campaign": LINYIN, "unit": "u-chem-01", "data": {**HAZARD, "found_on": "2024-01-04"}}
    zh, en = both(client, world, "POST", "/cases", token="principal", json=case)
    assert zh["code"] == "campaign_ended"
    assert zh["detail"].startswith(f"专项行动{LINYIN}已于2023-12-31结束，"
                                   "而发现日期2024-01-04在结束之后：案件须在行动期间开立")
    assert en["detail"].startswith(f"campaign {LINYIN} ended on 2023-12-31 and it was found on "
                                   "2024-01-04, after the end: a case is opened under a campaign")
    assert zh["ended"] == en["ended"] == "2023-12-31"
    later = {**case, "data": {k: v for k, v in HAZARD.items() if k != "found_on"},
             "found_on": "2024-02-01"}
    zh, en = both(client, world, "POST", "/cases", token="principal", json=later)
    assert zh["code"] == "bad_found_on"
    assert zh["detail"] == "found_on 2024-02-01晚于今天（2024-01-05）；请填写发现案件的日期"
    assert en["detail"].startswith("found_on 2024-02-01 is in the future (today is 2024-01-05)")


def test_a_record_outside_the_tokens_scope(client: TestClient, world: World) -> None:
    zh, en = both(client, world, "GET", "/units/u-hotel-01", token="principal")
    assert zh["code"] == "out_of_scope"
    assert zh["detail"] == "单位u-hotel-01超出你的令牌管辖范围（单位u-chem-01）"
    assert en["detail"] == "unit u-hotel-01 is outside your token's scope (unit u-chem-01)"


@pytest.mark.parametrize(("language", "said"), [
    ("zh", "没有数据库：请运行 `paicha db upgrade`"), ("en", "there is no database at ")])
def test_a_database_not_ready_says_why_in_the_commands_language(
        tmp_path: Path, language: str, said: str) -> None:
    with texts.use(language), pytest.raises(DatabaseNotReady) as refused:
        check_current(f"sqlite:///{tmp_path / 'missing.db'}")
    assert said in str(refused.value)
    assert bool(CJK.search(str(refused.value))) == (language == "zh")
