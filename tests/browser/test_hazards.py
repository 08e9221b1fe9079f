"""A major hazard's life in the browser, in Chinese: the plant's principal registers it and
files its 治理方案, submits it for acceptance, the signers sign in turn in their own windows,
one refuses with a reason, the principal submits again, and the safety office sees it closed.
And a principal who opens another unit's hazard sees a refusal, nothing of it.

The three-year plan at 林荫街道 (paicha/demo.py): its major hazard is signed off by the
acceptance team, the community, the regulator and the government, in that order
(campaigns/three-year-plan-2024-2026.yaml, `accept`)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser import live

# one worker runs them all (with `--dist loadgroup`): a browser a module, one server
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PLAN_TITLE = "安全生产治本攻坚三年行动"
SIGNERS = ("acceptance_team", "community", "regulator", "government")


def _today() -> dt.date:
    # the demo server runs on the real clock; the campaign's days are Beijing's
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def choose(select: Any, wanted: str) -> None:
    """Pick the option of a <select> whose value is `wanted` or whose text holds it."""
    options = select.locator("option")
    for index in range(options.count()):
        option = options.nth(index)
        value = option.get_attribute("value") or ""
        if value == wanted or wanted in option.inner_text():
            select.select_option(value=value)
            return
    raise AssertionError(f"no option {wanted!r} in {select.inner_text()!r}")


def state(page: Any) -> Any:
    """The hazard's state as its page shows it, under the heading (the history below names
    the states it went through)."""
    return page.locator("#hazard-state")


def trigger_form(page: Any, trigger: str) -> Any:
    form = page.locator(f'form[data-trigger="{trigger}"]')
    expect(form).to_have_count(1)
    return form


def fire(page: Any, trigger: str, name: str, fields: dict[str, str]) -> None:
    """Fill a trigger's form by its fields' labels and send it with its named button."""
    form = trigger_form(page, trigger)
    expect(form.get_by_role("heading")).to_contain_text(name)
    for label, value in fields.items():
        form.get_by_label(label).fill(value)
    with page.expect_navigation():
        form.get_by_role("button", name=name).click()
    expect(page.locator(".error, [aria-invalid=true]")).to_have_count(0)


def register(page: Any, server: live.LiveServer, description: str) -> str:
    """The principal registers a major hazard in the three-year plan; its id."""
    page.goto(server.url + "/ui/hazards/new")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # the campaign first: its fields make the form
    choose(page.get_by_label("专项行动"), PLAN_TITLE)
    with page.expect_navigation():
        page.get_by_role("button", name="选择该行动").click()
    choose(page.get_by_label("发现渠道"), "self_inspection")
    choose(page.get_by_label("隐患等级"), "major")
    choose(page.get_by_label("行业领域"), "hazardous_chemicals")
    page.get_by_label("发现日期").fill((_today() - dt.timedelta(days=2)).isoformat())
    page.get_by_label("隐患描述").fill(description)
    page.get_by_label("隐患部位").fill("二号储罐区")
    with page.expect_navigation():
        page.get_by_role("button", name="登记", exact=True).click()
    found = re.search(r"/ui/hazards/([0-9a-f]{32})(?:\?|$)", page.url)
    assert found, (page.url, page.inner_text("main"))
    expect(page.get_by_role("heading", level=1)).to_have_text(description)
    return found.group(1)


def test_a_major_hazard_from_registration_through_a_refusal_to_closed(
        as_person: Any, server: live.LiveServer) -> None:
    description = f"液氨储罐压力表失效（浏览器测试 {uuid.uuid4().hex[:8]}）"
    principal = as_person("principal")
    case_id = register(principal, server, description)
    hazard = f"{server.url}/ui/hazards/{case_id}"
    expect(state(principal)).to_have_text("已登记")

    plan = {"治理的目标和任务": "消除压力表失效隐患",
            "采取的方法和措施": "更换压力表并加装远传监测",
            "经费和物资的落实": "企业自筹，已落实", "负责治理的机构和人员": "设备科，王工",
            "治理的时限和要求": (_today() + dt.timedelta(days=20)).isoformat(),
            "安全措施和应急预案": "更换期间停用储罐，现场配备应急器材",
            "整改资金（万元）": "2.5"}
    fire(principal, "plan", "制定治理方案", plan)
    expect(state(principal)).to_have_text("整改中")
    # the plan's six parts are kept and shown
    expect(principal.get_by_text("更换压力表并加装远传监测").first).to_be_visible()

    done = {"整改完成日期": _today().isoformat(), "整改情况报告": "压力表已更换，远传监测已接入"}
    # the submission's form starts with the plan on record: it needs only confirming
    expect(trigger_form(principal, "submit").get_by_label("采取的方法和措施")).to_have_value(
        plan["采取的方法和措施"])
    fire(principal, "submit", "整改完成申请验收", done)
    expect(state(principal)).to_have_text("待验收")
    # the principal may not sign their own acceptance
    expect(principal.locator('form[data-trigger="accept"]')).to_have_count(0)

    signers = {login: as_person(login) for login in SIGNERS}
    for login in ("acceptance_team", "community"):
        page = signers[login]
        page.goto(hazard)
        fire(page, "accept", "验收销号", {"验收意见": f"{login}：同意"})
        expect(state(page)).to_have_text("待验收")
    # the government's turn has not come: the regulator signs next
    signers["government"].goto(hazard)
    expect(signers["government"].locator('form[data-trigger="accept"]')).to_have_count(0)

    regulator = signers["regulator"]
    regulator.goto(hazard)
    fire(regulator, "reject", "验收不通过", {"验收不通过原因": "远传监测未联网，不予销号"})
    expect(state(regulator)).to_have_text("整改中")
    expect(regulator.get_by_text("远传监测未联网，不予销号").first).to_be_visible()

    principal.goto(hazard)
    fire(principal, "submit", "整改完成申请验收", {"整改情况报告": "远传监测已联网并调试完毕"})
    expect(state(principal)).to_have_text("待验收")

    # the refusal reset the chain: signing starts again with the acceptance team
    for login in SIGNERS:
        page = signers[login]
        page.goto(hazard)
        fire(page, "accept", "验收销号", {"验收意见": f"{login}：复验合格，同意销号"})
    expect(state(signers["government"])).to_have_text("已销号")

    office = as_person("safety_office")
    office.goto(server.url + "/ui/hazards?state=closed")
    row = office.get_by_role("row").filter(has_text=description)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已销号")
    with office.expect_navigation():
        row.get_by_role("link").first.click()
    assert office.url.startswith(hazard)
    expect(state(office)).to_have_text("已销号")
    # no event is left to fire on a closed hazard for the office
    expect(office.locator("form[data-trigger]")).to_have_count(0)


def test_a_principal_cannot_open_another_units_hazard(
        as_person: Any, server: live.LiveServer) -> None:
    # the plant's hazards, as the street's office reads them through the API
    plant = server.api("/cases?unit=u-chem-01&open=true", "safety_office")["data"]
    assert plant, "the demo has open hazards at the plant"
    other = plant[0]
    hotel = as_person("hotel_principal")
    answer = hotel.goto(f"{server.url}/ui/hazards/{other['id']}")
    assert answer is not None and answer.status in (403, 404)
    expect(hotel.get_by_role("heading", level=1)).to_have_text(re.compile("无权访问|未找到"))
    text = hotel.content()
    assert other["data"]["description"] not in text
    assert "示例化工有限公司" not in text
    expect(hotel.locator("form[data-trigger]")).to_have_count(0)

