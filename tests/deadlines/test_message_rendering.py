"""A message of every kind as every channel renders it, against snapshots in Chinese; values
escaped per format; a campaign's own template; the link only with a public address; DingTalk's
@mentions.

The snapshots are tests/deadlines/snapshots/<kind>.txt. After a deliberate change of wording,
write them anew with PAICHA_UPDATE_SNAPSHOTS=1 and read the diff before committing it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from deadlines.channels import Message, build_channel, dingtalk, wecom
from deadlines.channels._render import html, markdown, plain
from deadlines.channels.config import public_config
from deadlines.messages import calendar_context
from deadlines.rendering import render
from engine import texts
from engine.templates import KINDS, VARIABLES

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("PAICHA_UPDATE_SNAPSHOTS") == "1"
NOW = dt.datetime(2023, 7, 24, 1, 0, tzinfo=dt.UTC)
LINK = "https://paicha.example.gov.cn/cases/c-0001"

CAMPAIGN = {"id": "special-action-2023-linyin",
            "title": "林荫街道关于重大事故隐患专项排查整治2023行动实施方案"}
UNIT = {"id": "u-chem-01", "name": "示例化工有限公司"}
COMMUNITY = {"id": "linyin-c1", "name": "林荫街道第一社区"}
STREET = {"id": "linyin", "name": "林荫街道"}
CASE = {"id": "c-0001", "type": "hazard", "type_name": "事故隐患",
        "summary": "储罐区可燃气体报警装置失效", "grade": "重大事故隐患", "state": "rectifying",
        "state_name": "整改中"}
CLOCK = {"id": "rectification", "name": "整改期限"}


def _deadline(text: str, *, left: int = 0, late: int = 0, day: str = "2023-07-31",
              working: bool = False) -> dict[str, Any]:
    date = dt.date.fromisoformat(day)
    return {"date": day, "day": f"{date.year}年{date.month}月{date.day}日", "text": text,
            "days_left": left, "days_overdue": late, "working": working,
            "span": "个工作日" if working else "日", "overdue": late > 0, "provisional": False}


def _case(kind: str, deadline: dict[str, Any], roles: list[str], people: list[str]
          ) -> dict[str, Any]:
    return {"kind_name": _kind(kind), "text": f"整改期限：{deadline['text']}",
            "late": False, "roles": roles, "people": people, "link": LINK,
            "campaign": CAMPAIGN, "org": COMMUNITY, "deadline": deadline, "unit": UNIT,
            "case": CASE, "clock": CLOCK}


def _check(kind: str, deadline: dict[str, Any]) -> dict[str, Any]:
    check = {"id": "dispatch_report", "name": "报送重大事故隐患专项排查整治进展情况调度表",
             "period": "2023-07", "times": 1, "done": 0}
    return {"kind_name": _kind(kind),
            "text": f"{check['name']}（2023-07）：{deadline['text']}", "late": False,
            "roles": ["企业主要负责人"], "people": ["张建国"],
            "link": "https://paicha.example.gov.cn/obligations/4", "campaign": CAMPAIGN,
            "org": COMMUNITY, "deadline": deadline, "unit": UNIT, "check": check}


OVERDUE_ROLES = ["企业主要负责人", "安委会办公室", "负有安全监管职责的部门/行业主管部门"]


def _kind(kind: str) -> str:
    """A kind's name as the Chinese snapshots have it."""
    return texts.t(f"notices.kind.{kind}", "zh")


def contexts() -> dict[str, dict[str, Any]]:
    """A message's context of every kind, as the sweep makes them (the keys are checked
    against engine.templates below, and the sweep's against them in test_messages)."""
    found = {
        "remind": _case("remind", _deadline("7月31日到期，还有7日", left=7), ["企业主要负责人"],
                        ["张建国"]),
        "overdue": _case("overdue", _deadline("7月31日到期，已逾期1日", late=1), OVERDUE_ROLES,
                         ["张建国", "林荫街道安委办"]),
        "overdue_repeat": _case("overdue_repeat", _deadline("7月31日到期，已逾期2日", late=2),
                                OVERDUE_ROLES, ["张建国"]),
        "escalate": _case("escalate", _deadline("7月31日到期，已逾期5个工作日", late=5,
                                                working=True), ["安委会办公室"], []),
        "check_reminder": _check("check_reminder", _deadline("7月28日到期，还有4日", left=4,
                                                             day="2023-07-28")),
        "check_due": _check("check_due", _deadline("今日（7月28日）到期", day="2023-07-28")),
        "phase_due": {
            "kind_name": "阶段截止", "text": "阶段「动员部署」今日截止", "late": True,
            "roles": [], "people": [],
            "link": "https://paicha.example.gov.cn/campaigns/special-action-2023-linyin",
            "campaign": CAMPAIGN, "org": STREET,
            "deadline": _deadline("今日（6月15日）到期", day="2023-06-15"),
            "phase": {"id": "mobilize", "name": "动员部署", "nominal": "2023-06-15"}},
        "target_at_risk": {
            "kind_name": "目标预警", "text": "重大事故隐患整改率：截至2023-11-30为80%，目标100%，"
            "12月31日到期，还有31日", "late": False, "roles": ["安委会办公室"],
            "people": ["林荫街道安委办"], "link": "", "campaign": CAMPAIGN, "org": STREET,
            "deadline": _deadline("12月31日到期，还有31日", left=31, day="2023-12-31"),
            "target": {"id": "major_rectified", "name": "重大事故隐患整改率", "value": "80%",
                       "goal": "100%"}},
    }
    with texts.use("zh"):  # the snapshots are Chinese: the kinds' names too
        found |= _calendar_contexts()
    return found


def _calendar_contexts() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    found["calendar_redated"] = calendar_context(
        "calendar_redated", "示例化工有限公司：事故隐患的整改期限按已录入的2024年法定节假日安排"
        "重算：由2024-02-13（暂定）改为2024-02-19", campaign=None, roles=("safety_office",),
        org=COMMUNITY, due=dt.date(2024, 2, 19), today=dt.date(2023, 12, 20),
        calendar={"year": 2024, "from_due": "2024-02-13", "check": "整改期限"}, link=LINK)
    found["calendar_redated"]["roles"] = ["安委会办公室"]
    found["calendar_missing"] = calendar_context(
        "calendar_missing", "2024年的法定节假日安排尚未录入：自2024-01-01起的期限暂按双休日推算，"
        "标为“暂定”。", campaign=None, roles=("admin",), org={"id": "", "name": ""},
        due=dt.date(2024, 1, 1), today=dt.date(2023, 11, 2),
        calendar={"year": 2024, "first_day": "2024-01-01"})
    return found


def message(kind: str, **overrides: Any) -> Message:
    context = contexts()[kind]
    fields: dict[str, Any] = {
        "idempotency_key": f"{kind}/example->sub1", "kind": kind,
        "title": f"{_kind(kind)}：{context['unit']['name'] if 'unit' in context else ''}"
                 .rstrip("："),
        "text": context["text"], "campaign": CAMPAIGN["id"], "subject": "c-0001",
        "roles": ("principal",), "due_date": dt.date.fromisoformat(context["deadline"]["date"]),
        "late": context["late"], "at": NOW, "context": context}
    fields.update(overrides)
    return Message(**fields)


def rendered(kind: str) -> str:
    """Every channel's rendering of one message, in one text."""
    sent = message(kind)
    ding = dingtalk.body(sent, {"principal": ["13800000000"]})
    parts = [
        ("企业微信（markdown）", wecom.body(sent)["markdown"]["content"]),
        ("钉钉（markdown）", ding["markdown"]["text"]),
        ("钉钉 at", json.dumps(ding.get("at"), ensure_ascii=False)),
        ("邮件（纯文本）", plain(sent)),
        ("邮件（HTML）", html(sent)),
        ("Webhook context", json.dumps(sent.as_dict()["context"], ensure_ascii=False,
                                       sort_keys=True, indent=1)),
    ]
    return "".join(f"== {label} ==\n{text.rstrip()}\n\n" for label, text in parts)


def test_every_kind_has_an_example_with_exactly_its_variables() -> None:
    found = contexts()
    assert set(found) == set(KINDS)
    for kind, context in found.items():
        assert set(context) == set(VARIABLES[kind]), kind
        for name, attributes in VARIABLES[kind].items():
            if attributes is not None:
                assert set(context[name]) == attributes, f"{kind}: {name}"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_on_each_channel_reads_as_the_snapshot(kind: str) -> None:
    text = rendered(kind)
    snapshot = SNAPSHOTS / f"{kind}.txt"
    if UPDATE:
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["remind", "overdue", "check_reminder", "check_due"])
def test_the_unit_and_the_date_are_in_every_format(kind: str) -> None:
    sent = message(kind)
    day = sent.context["deadline"]["text"]
    for text in (markdown(sent), plain(sent), html(sent)):
        assert "示例化工有限公司" in text and day in text


def test_a_unit_named_with_markup_is_shown_not_obeyed() -> None:
    context = copy.deepcopy(contexts()["remind"])
    context["unit"]["name"] = "*星号*化工<script>alert(1)</script>[链接](http://x)"
    context["case"]["summary"] = "第一行\n> 伪造的引用 & 符号"
    sent = message("remind", context=context, title="到期提醒：*星号*化工<b>")
    robot = markdown(sent)
    assert "＊星号＊化工＜script＞alert(1)＜/script＞［链接］(http://x)" in robot
    assert "<script>" not in robot and "*星号*" not in robot and "[链接]" not in robot
    assert "第一行 ＞ 伪造的引用 ＆ 符号" in robot  # no line of its own, no quote
    assert robot.startswith("**到期提醒：＊星号＊化工＜b＞**\n")
    mail = html(sent)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail and "<script>" not in mail
    assert "到期提醒：*星号*化工&lt;b&gt;" in mail
    # plain text is text: shown as it was written
    assert "*星号*化工<script>alert(1)</script>" in plain(sent)
    # the webhook carries the value as it is, in JSON
    assert json.loads(sent.as_json())["context"]["unit"]["name"] == context["unit"]["name"]


def test_a_campaigns_template_is_used_and_escaped_like_the_default() -> None:
    template = "【{{ campaign.title }}】{{ unit.name }}：{{ case.summary }}，{{ deadline.text }}"
    context = copy.deepcopy(contexts()["remind"])
    context["unit"]["name"] = "A*B"
    sent = message("remind", template=template, context=context)
    assert render(sent, "text") == ("【林荫街道关于重大事故隐患专项排查整治2023行动实施方案】"
                                    "A*B：储罐区可燃气体报警装置失效，7月31日到期，还有7日")
    assert "A＊B：" in render(sent, "markdown")
    # stored in the outbox with the message, read back by the deliverer
    assert Message.from_dict({**sent.as_dict(), "template": template}).template == template
    assert "template" not in sent.as_dict()  # a webhook receiver gets the fields, not it


def test_a_template_that_fails_on_a_message_gives_way_to_the_default() -> None:
    sent = message("remind", template="{{ unit.name.upper() }}{{ nothing_here }}")
    assert render(sent, "text").startswith("示例化工有限公司的事故隐患")


def test_a_sandboxed_template_cannot_reach_python() -> None:
    sent = message("remind", template="{{ unit.__class__.__mro__ }}")
    assert "class" not in render(sent, "text")


def test_the_link_is_there_only_with_a_public_address() -> None:
    with_link = message("remind")
    assert f"[查看详情]({LINK})" in markdown(with_link)
    assert f"查看详情：{LINK}" in plain(with_link)
    assert f'<a href="{LINK}">' in html(with_link)
    context = copy.deepcopy(contexts()["remind"])
    context["link"] = ""
    without = message("remind", context=context)
    for text in (markdown(without), plain(without), html(without)):
        assert "查看详情" not in text and "http" not in text


def test_dingtalk_mentions_the_mobiles_of_the_messages_roles() -> None:
    sent = message("overdue", roles=("principal", "safety_office", "regulator"))
    body = dingtalk.body(sent, {"principal": ["13800000000"], "safety_office":
                                ["13900000000", "13800000000"], "locality": ["13700000000"]})
    assert body["at"] == {"atMobiles": ["13800000000", "13900000000"], "isAtAll": False}
    assert body["markdown"]["text"].endswith("\n\n@13800000000 @13900000000")
    nobody = dingtalk.body(sent, {"locality": ["13700000000"]})
    assert "at" not in nobody and "@137" not in nobody["markdown"]["text"]


def test_a_wecom_robot_in_text_format_mentions_the_mobiles_of_the_messages_roles() -> None:
    sent = message("overdue", roles=("principal", "safety_office", "regulator"))
    config = wecom.WecomConfig.from_dict({
        "key": "k-1", "format": "text", "at_mobiles": {
            "principal": ["13800000000"], "safety_office": ["13900000000", "13800000000"],
            "locality": ["13700000000"]}})
    body = wecom.body(sent, config)
    assert body["msgtype"] == "text"
    assert body["text"]["mentioned_mobile_list"] == ["13800000000", "13900000000"]
    # the same words as the e-mail's text, under the title: the unit, the date, the link
    assert body["text"]["content"] == f"{sent.title}\n\n{plain(sent)}".rstrip("\n")
    assert "示例化工有限公司" in body["text"]["content"] and LINK in body["text"]["content"]
    nobody = wecom.body(sent, wecom.WecomConfig.from_dict({
        "key": "k-1", "format": "text", "at_mobiles": {"locality": ["13700000000"]}}))
    assert "mentioned_mobile_list" not in nobody["text"]
    long = message("overdue", text="隐患" * 2000)
    assert len(wecom.body(long, config)["text"]["content"].encode("utf-8")) <= 2048
    # the default stays markdown, which mentions nobody
    assert wecom.body(sent, wecom.WecomConfig.from_dict({"key": "k-1"}))["msgtype"] == \
        "markdown"


def test_a_robots_mobiles_are_bounded() -> None:
    many_roles = {f"r{i}": ["13800000000"] for i in range(51)}
    with pytest.raises(ValueError, match="at_mobiles: lists mobile numbers for at most 50 roles"):
        dingtalk.DingtalkConfig.from_dict({"access_token": "tok123", "at_mobiles": many_roles})
    many = {"principal": [f"1380000{i:04d}" for i in range(201)]}
    with pytest.raises(ValueError, match=r"at_mobiles\.principal: holds at most 200 mobile"):
        dingtalk.DingtalkConfig.from_dict({"access_token": "tok123", "at_mobiles": many})
    enough = {"principal": [f"1380000{i:04d}" for i in range(200)]}
    assert len(dingtalk.DingtalkConfig.from_dict(
        {"access_token": "tok123", "at_mobiles": enough}).at_mobiles["principal"]) == 200


def test_a_wecom_robot_refuses_mobiles_it_could_not_mention() -> None:
    with pytest.raises(ValueError, match=r"at_mobiles: a WeCom markdown message cannot "
                                         r"@mention by mobile number: set `format: text`"):
        wecom.WecomConfig.from_dict({"key": "k-1", "at_mobiles": {"principal": ["13800000000"]}})
    with pytest.raises(ValueError, match=r"format: "):
        wecom.WecomConfig.from_dict({"key": "k-1", "format": "html"})
    with texts.use("zh"), pytest.raises(ValueError, match="不能按手机号@提醒"):
        wecom.WecomConfig.from_dict({"key": "k-1", "format": "markdown",
                                     "at_mobiles": {"principal": ["13800000000"]}})


def test_dingtalk_refuses_a_mention_that_is_no_mobile_number() -> None:
    with pytest.raises(ValueError, match=r"at_mobiles\.principal: must be a list of mobile"):
        dingtalk.DingtalkConfig.from_dict({"access_token": "tok123",
                                           "at_mobiles": {"principal": ["张三"]}})
    config = dingtalk.DingtalkConfig.from_dict({"access_token": "tok123",
                                                "at_mobiles": {"principal": "13800000000"}})
    assert config.at_mobiles == {"principal": ("13800000000",)}


def test_a_message_queued_before_messages_had_names_still_reads() -> None:
    old = Message.from_dict({"idempotency_key": "k->log", "kind": "remind",
                             "title": "到期提醒", "text": "整改期限：7月31日到期，还有7日",
                             "campaign": "c", "subject": "case-1", "roles": ["principal"],
                             "due_date": "2023-07-31", "late": False,
                             "at": "2023-07-24T01:00:00Z"})
    assert render(old, "markdown") == "整改期限：7月31日到期，还有7日"
    assert "> 对象：case-1" in markdown(old)


def test_the_log_line_says_what_the_template_says(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="paicha.deliveries"):
        build_channel("log", {}).send(message("check_reminder"), now=NOW)
    (record,) = caplog.records
    assert json.loads(record.getMessage())["text"] == (
        "示例化工有限公司：请于2023年7月28日前完成「报送重大事故隐患专项排查整治进展情况调度表」"
        "（2023-07），7月28日到期，还有4日。")


def test_mobile_numbers_are_shown_only_to_who_manages_the_channel() -> None:
    config = {"access_token": "tok123", "at_mobiles": {"principal": ["13800001234"]}}
    assert public_config(config, full=True)["at_mobiles"] == {"principal": ["13800001234"]}
    assert public_config(config, full=False)["at_mobiles"] == {"principal": ["138••••1234"]}
