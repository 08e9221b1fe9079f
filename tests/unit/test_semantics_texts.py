"""What the campaign's meaning checks and the engine's running texts say is read in the
person's language: real broken campaign files of the corpus, a broken holiday calendar, a
report's figures and a refused event give their problems in Chinese under `texts.use("zh")`
and in English under `texts.use("en")`, carrying the same values, at the same lines and
paths."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from engine import reports, targets, texts
from engine.conditions import describe
from engine.errors import CalendarInvalid, FieldsNotSettable, InputInvalid, Problem
from engine.lifecycle import Actor, lifecycles
from engine.model import Figure, Measure, Report, Row, Section, Target
from engine.schedules import read_schedule
from paicha.files import loader_for

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/campaigns/invalid"
CALENDARS = ROOT / "tests/data/calendars"
CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(text: str) -> bool:
    return CJK.search(text) is not None


def problem_at(name: str, lang: str) -> Problem:
    """The problem a corpus file expects (`# expect-line`, `# expect-path`), read in `lang`."""
    path = CORPUS / name
    text = path.read_text(encoding="utf-8")
    line = int(re.search(r"^# expect-line: (\d+)", text, re.MULTILINE)[1])  # type: ignore[index]
    where = re.search(r"^# expect-path: (\S+)", text, re.MULTILINE)[1]  # type: ignore[index]
    with texts.use(lang):
        problems = loader_for([path]).check(text, str(path))
    found = [p for p in problems if p.line == line and p.path == where]
    assert found, [str(p) for p in problems]
    return found[0]


# file, then what the Chinese message and hint say (each value must appear), then the English
CASES = [
    ("051-transition-to-unknown-state.yaml",  # an unknown state, with its did-you-mean
     ["未知的状态", "'rectifyng'"], ["'rectifying'"],
     "unknown state 'rectifyng'", "did you mean 'rectifying'?"),
    ("071-clock-never-stops.yaml",  # a clock
     ["计时'closure_report'永远不会停止"], ["请添加", "`stops_on: {enter: state}`"],
     "clock 'closure_report' can never stop",
     "add `stops_on: {enter: state}` or `stops_on: {trigger: event}`"),
    ("083-row-with-two-measures.yaml",  # a report's row
     ["报表行'media_column'", "count、manual"], ["`manual: integer`", "`figures:`"],
     "row 'media_column' needs exactly one of count, sum, count_units, count_checks, manual, "
     "figures (has count, manual)", "rows the system cannot derive are `manual: integer`"),
    ("084-sum-on-non-number-field.yaml",  # a figure summing a text field
     ["字段'description'", "string", "不是数字"], ["`type: number`", "`type: integer`"],
     "field 'description' is string, not a number",
     "sum a field of `type: number` or `type: integer`"),
    ("057-signoff-chain-without-to.yaml",  # a sign-off chain
     ["签字确认流程'accept'缺少`to`"], ["签字确认流程"],
     "sign-off chain 'accept' has no `to`", "a sign-off chain must lead to the state it approves"),
    ("040-month-7-in-quarterly-due.yaml",  # a check's schedule
     ["3个月的周期中没有第7个月"], ["1至3", "`last`", "`next`"],
     "month 7 does not exist in a period of 3 month(s)",
     "use a month from 1 to 3, `last` or `next`"),
    ("139-child-once-inherits-due.yaml",  # a schedule made wrong by what a child changed
     ["检查任务'safety_month'", "`every: once`", "继承自campaigns/special-action-2023.yaml:267"],
     ["`drop: [due]`", "请删除`due:`"],
     "check 'safety_month' is done once (`every: once`), due on the last day of its window "
     "(inherited from campaigns/special-action-2023.yaml:267, $.checks[14].due)",
     "remove `due:`; set the window"),
]


@pytest.mark.parametrize(("name", "zh_message", "zh_hint", "en_message", "en_hint"), CASES,
                         ids=[case[0].split("-", 1)[0] for case in CASES])
def test_a_broken_campaign_is_told_in_the_reader_s_language(
    name: str, zh_message: list[str], zh_hint: list[str], en_message: str, en_hint: str,
) -> None:
    zh = problem_at(name, "zh")
    assert chinese(zh.message), zh.message
    for value in zh_message:
        assert value in zh.message, (value, zh.message)
    for value in zh_hint:
        assert value in zh.hint, (value, zh.hint)
    en = problem_at(name, "en")
    assert (en.line, en.column, en.path) == (zh.line, zh.column, zh.path)
    assert not chinese(en.message), en.message
    assert en_message in en.message
    assert en_hint in en.hint


def test_a_did_you_mean_keeps_the_value_the_reader_meant() -> None:
    zh = problem_at("051-transition-to-unknown-state.yaml", "zh")
    assert zh.message == "未知的状态'rectifyng'"
    assert "'rectifying'" in zh.hint


def test_a_broken_holiday_calendar_is_told_in_the_reader_s_language() -> None:
    text = (CALENDARS / "2027-broken.yaml").read_text(encoding="utf-8")
    found: dict[str, list[Problem]] = {}
    for lang in ("zh", "en"):
        with texts.use(lang), pytest.raises(CalendarInvalid) as refused:
            read_schedule(text, "2027-broken.yaml")
        found[lang] = list(refused.value.problems)
    assert [(p.line, p.path) for p in found["zh"]] == [(p.line, p.path) for p in found["en"]]
    zh = [p.message for p in found["zh"]]
    en = [p.message for p in found["en"]]
    assert "2027-01-02既是工作日，又属于元旦" in zh
    assert "2027-01-02 is both a working day and a day of 元旦" in en
    assert "2027-02-15是周一，本来就是工作日" in zh
    assert "2027-02-15 is a 周一, a working day anyway" in en
    with texts.use("zh"), pytest.raises(CalendarInvalid) as refused:
        read_schedule("- 2027\n", "2027.yaml")
    assert refused.value.problems[0].message == "节假日安排文件须为键值映射"
    assert "`year:`" in refused.value.problems[0].hint


FORM = Report("dispatch", "调度表", (
    Section("overall", "总体情况", (
        Row("found", "发现", measure=Measure("count", case="hazard")),
        Row("penalties", "行政处罚（次，万元）", figures=(
            Figure("次", manual="integer"), Figure("万元", manual="number"))),
    )),
))


def refusal(entered: dict[str, object], lang: str) -> str:
    with texts.use(lang), pytest.raises(InputInvalid) as refused:
        reports.manual_values(FORM, entered)
    return str(refused.value)


def test_a_report_figure_refused_is_told_in_the_reader_s_language() -> None:
    zh = refusal({"penalties.1": 2.5}, "zh")
    assert "报表项'penalties.1'（次）是计数" in zh and "2.5" in zh
    en = refusal({"penalties.1": 2.5}, "en")
    assert "figure 'penalties.1' (次) is a count: a whole number, 0 or more (got 2.5)" in en
    assert "报表项'found'（发现）由系统根据记录统计" in refusal({"found": 1}, "zh")
    assert "需手工填报的报表项为：penalties.1、penalties.2" in refusal({"x": 1}, "zh")
    assert "its manual figures are penalties.1, penalties.2" in refusal({"x": 1}, "en")
    for lang, said in (("zh", "报告期'2023-13'不符合按月报送的写法"),
                       ("en", "period '2023-13' is not a month")):
        with texts.use(lang), pytest.raises(InputInvalid) as refused:
            reports.parse_period("month", "2023-13")
        assert said in str(refused.value)


def test_a_refused_event_s_hint_is_in_the_reader_s_language() -> None:
    path = ROOT / "campaigns/special-action-2023.yaml"
    campaign = loader_for([path]).load(path.read_text(encoding="utf-8"), str(path)).campaign
    hazard = lifecycles(campaign)["hazard"]
    principal = Actor("token:1", frozenset({"principal"}), name="化工厂主要负责人")
    now = dt.datetime(2023, 6, 1, 2, tzinfo=dt.UTC)
    case = hazard.open("h1", {
        "source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
        "description": "储罐区可燃气体报警装置失效", "found_on": "2023-05-30"},
        principal, now).case
    hints = {}
    for lang in ("zh", "en"):
        with texts.use(lang), pytest.raises(FieldsNotSettable) as refused:
            hazard.fire(case, "plan", {"grade": "general", "dealine": "2023-06-30"},
                        principal, now)
        hints[lang] = refused.value.hints
    assert hints["zh"][0] == "grade由'regrade'填写"
    assert hints["zh"][1].startswith("'dealine'不是hazard的字段：")
    assert "'deadline'" in hints["zh"][1]
    assert hints["en"] == ["grade is set by 'regrade'",
                           "'dealine' is no field of hazard: did you mean 'deadline'?"]


def test_a_condition_and_a_target_s_status_are_read_in_the_reader_s_language() -> None:
    condition = {"grade": "major", "any": [{"unit": "city_managed"}, {"funds": {"gt": 10}}]}
    with texts.use("zh"):
        assert describe(condition) == ("grade = 'major'且（单位符合'city_managed'或"
                                       "funds gt 10）")
    with texts.use("en"):
        assert describe(condition) == ("grade = 'major' and (unit matches 'city_managed' or "
                                       "funds gt 10)")
    count = Measure("count", case="hazard")
    stock = Target("stock", "存量清零", dt.date(2024, 12, 31), count, goal_max=0)
    fewer = Target("fewer", "2025年少于2024年", dt.date(2024, 12, 31), count, compare=count,
                   compare_op="lt")
    three = targets.Reading(3)
    for lang, at_risk, compared in (
            ("zh", "尚未达到目标，还剩30天（提前30天预警）", "< 对比数"),
            ("en", "goal not held with 30 days left (warn 30)", "< the compared figure")):
        with texts.use(lang):
            assert targets.status(stock, dt.date(2024, 12, 1), three, None) == (
                "at_risk", at_risk)
            assert targets.goal_text(fewer) == compared
