"""Campaign-file validation in the reader's language: what `paicha validate` and
`POST /campaigns/validate` show a policy-staff author comes from the catalogue's campaign area.

Broken files of the corpus (tests/campaigns/invalid/) go through the real loader under
`texts.use("zh")` and `texts.use("en")`: the same problem, at the same line and path, reads in
Chinese with its values (ids, dates, keys) as they are, and in English as it always did.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine import texts
from engine.errors import Problem
from engine.schema import _DESCRIPTIONS, closest, did_you_mean
from paicha.cli import main
from paicha.files import loader_for
from tests.support.world import World

INVALID = Path(__file__).resolve().parents[1] / "campaigns" / "invalid"
SCHEMA = Path(__file__).resolve().parents[2] / "campaigns" / "schema" / "campaign.schema.json"
CJK = re.compile(r"[\u4e00-\u9fff]")


def problem_at(name: str, lang: str) -> Problem:
    """The error a corpus file's header expects, as the loader reports it in `lang`."""
    (path,) = INVALID.glob(f"{name}-*.yaml")
    header = dict(re.findall(r"^# expect-(line|path): (.*?)\s*$", path.read_text("utf-8"),
                             re.MULTILINE))
    with texts.use(lang):
        problems = loader_for([path]).check(path.read_text(encoding="utf-8"), str(path))
    found = [p for p in problems if p.severity == "error" and p.source == str(path)
             and p.line == int(header["line"]) and p.path == header["path"]]
    assert len(found) == 1, "\n".join(str(p) for p in problems)
    return found[0]


# (corpus file, Chinese message, Chinese hint, English message, English hint)
CASES = [
    # an unknown key, with its did-you-mean
    ("017", "未知的键 'role'", "是否应为 'roles'？",
     "unknown key 'role'", "did you mean 'roles'?"),
    # a date in the shape plans write it, with how to write it
    ("132", "'2024年5月30日' 不是日期",
     "写作 2024-05-30（YYYY-MM-DD：写明年份，月、日各两位）",
     "'2024年5月30日' is not a date",
     "write it as 2024-05-30 (YYYY-MM-DD, with the year and two-digit month and day)"),
    # type errors: the type words have ids too
    ("197", "应为文本，实际为列表", "此处只能填一个值，不能是列表：去掉 [ ]，只写一个",
     "expected text, got a list", "this takes one value, not a list: write one, without [ ]"),
    ("065", "应为布尔值（true 或 false），实际为'yes'", "",
     "expected true or false, got 'yes'", ""),
    ("171", "应为时刻，实际为 510", "时刻须加引号：\"09:00\"",
     "expected a time of day, got 510", "write the time in quotes: \"09:00\""),
    # inheritance: `extends` and `drop`
    ("091", "未知的上级行动方案 'special_action_2023'", "是否应为 'special-action-2023'？",
     "unknown parent campaign 'special_action_2023'", "did you mean 'special-action-2023'?"),
    ("124", "`who` 不能去掉：每个检查任务都必须有它", "请改为覆盖它：`who: …`",
     "`who` cannot be dropped: every check needs it", "override it instead: `who: …`"),
    ("125", "上级行动方案的 'safety_month' 没有可去掉的 `remind`", "它有：phase、due",
     "the parent's 'safety_month' has no `remind` to drop", "it has phase, due"),
    # message templates
    ("192", "模板语法错误：unexpected '}'", "参见 https://jinja.palletsprojects.com/templates/",
     "template syntax error: unexpected '}'",
     "see https://jinja.palletsprojects.com/templates/"),
    ("190", "check_reminder 消息中没有变量 'enterprise'",
     "可选：campaign、check、deadline、kind_name、late、link、org、people、roles、text、unit",
     "unknown variable 'enterprise' in check_reminder messages",
     "known: campaign, check, deadline, kind_name, late, link, org, people, roles, text, unit"),
    # the YAML reader
    ("006", "键 'principal' 重复", "第 11 行已写过；只保留一个",
     "duplicate key 'principal'", "already given at line 11; keep one"),
]


@pytest.mark.parametrize(("name", "zh", "zh_hint", "en", "en_hint"),
                         [pytest.param(*case, id=case[0]) for case in CASES])
def test_a_broken_file_reads_in_chinese_and_in_english(
        name: str, zh: str, zh_hint: str, en: str, en_hint: str) -> None:
    chinese, english = problem_at(name, "zh"), problem_at(name, "en")
    assert (chinese.message, chinese.hint) == (zh, zh_hint)
    assert CJK.search(chinese.message)
    assert (english.message, english.hint) == (en, en_hint)
    assert not CJK.search(english.hint)
    # the place is the same whatever the language
    assert (chinese.source, chinese.line, chinese.column, chinese.path) == \
        (english.source, english.line, english.column, english.path)


def test_the_language_is_the_one_spoken_when_the_file_is_checked() -> None:
    """Nothing is frozen in the language of the first check (a module constant would be)."""
    assert problem_at("017", "en").message == "unknown key 'role'"
    assert problem_at("017", "zh").message == "未知的键 'role'"
    assert problem_at("017", "en").message == "unknown key 'role'"


def test_every_description_shown_as_a_hint_has_its_text() -> None:
    """The description of each oneOf/anyOf node of the schema (the hint of a value none of
    its branches takes) is in the catalogue, in English as the schema writes it."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if ("oneOf" in node or "anyOf" in node) and isinstance(node.get("description"), str):
                found.append(node["description"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert sorted(found) == sorted(_DESCRIPTIONS)
    for description, name in _DESCRIPTIONS.items():
        assert texts.t(f"campaign.schema.{name}", "en", literal="") == description
        assert CJK.search(texts.t(f"campaign.schema.{name}", "zh", literal=""))


def test_paicha_validate_prints_the_problems_in_chinese(
        capsys: pytest.CaptureFixture[str]) -> None:
    (path,) = INVALID.glob("017-*.yaml")
    assert main(["--lang", "zh", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path.name}:10:1  $.role  未知的键 'role'  (是否应为 'roles'？)" in out


@pytest.mark.usefixtures("chinese")
def test_paicha_validate_speaks_chinese_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    (path,) = INVALID.glob("132-*.yaml")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert ("'2024年5月30日' 不是日期  (写作 2024-05-30（YYYY-MM-DD：写明年份，月、日各两位）)"
            in out)


def test_post_campaigns_validate_answers_in_the_language_asked(client: TestClient,
                                                                world: World) -> None:
    body = ("paicha: 1\nid: town-2023\nextends: special-action-2023\ntitle: 某镇实施方案\n"
            "phases:\n  - {id: mobilize, due: 2023-05-25}\n"
            "checks:\n  - id: safety_month\n    times: zero\n").encode()

    def problems(language: str) -> dict[str, tuple[str, str]]:
        answer = client.post("/campaigns/validate", content=body, headers={
            **world.auth("admin"), "Content-Type": "application/yaml",
            "Accept-Language": language})
        assert answer.status_code == 200, answer.text
        return {p["path"]: (p["message"], p["hint"]) for p in answer.json()["problems"]}

    assert problems("zh") == {
        "$.checks[0].times": ("应为整数，实际为'zero'", ""),
        "$.phases[0].due": ("阶段 mobilize 的期限为 2023-05-25，晚于上级行动方案的 2023-05-15",
                            "地方方案的期限通常与上级相同或更早；请核对日期"),
    }
    assert problems("en") == {
        "$.checks[0].times": ("expected a whole number, got 'zero'", ""),
        "$.phases[0].due": ("phase mobilize is due 2023-05-25, later than the parent's "
                            "2023-05-15",
                            "a local plan usually sets the same or an earlier deadline; "
                            "check the date"),
    }


def test_whether_a_hint_names_a_close_choice_is_asked_of_closest_not_of_its_words() -> None:
    with texts.use("zh"):
        assert did_you_mean("rol", ["roles", "id"]) == "是否应为 'roles'？"
        assert did_you_mean("xyz", ["roles", "id"]) == "可选：id、roles"
    assert closest("rol", ["roles", "id"]) == "roles"
    assert closest("xyz", ["roles", "id"]) is None
