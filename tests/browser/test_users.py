"""People's accounts in the browser: the administrator makes one, its person signs in, and
when the administrator disables it the person's open session ends."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import live

# one worker runs them all (with `--dist loadgroup`): a browser a module, one server
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_account_made_on_the_page_signs_in_and_ends_when_disabled(
        as_person: Any, window: Any, server: live.LiveServer) -> None:
    admin = as_person("admin")
    admin.goto(server.url + "/ui/users")
    form = admin.locator("form").filter(has=admin.get_by_role("button", name="创建账号"))
    form.get_by_label("登录名").fill("zhang.wei")
    form.get_by_label("姓名").fill("张伟（林荫街道安委办）")
    form.get_by_label("管辖范围").select_option(label="组织机构")
    form.get_by_label("组织机构或单位编号").fill("linyin")
    form.get_by_role("checkbox", name="安委会办公室").check()
    form.get_by_label("密码", exact=True).fill("Lin-yin-2026")
    with admin.expect_navigation():
        form.get_by_role("button", name="创建账号").click()
    expect(admin.get_by_role("status").or_(admin.locator(".notice")).first).to_contain_text(
        "zhang.wei")
    row = admin.get_by_role("row").filter(has_text="zhang.wei")
    expect(row).to_contain_text("正常")

    person = window()
    live.sign_in(person, server, "zhang.wei", password="Lin-yin-2026")
    assert person.url == server.url + "/ui/", person.inner_text("main")
    expect(person.get_by_text("张伟（林荫街道安委办）")).to_be_visible()
    expect(person.get_by_role("navigation", name="主菜单").get_by_role(
        "link", name="调度表")).to_be_visible()

    row.get_by_text("停用", exact=True).click()  # the disclosure holding the confirmation
    with admin.expect_navigation():
        admin.get_by_role("button", name="停用 zhang.wei").click()
    expect(admin.get_by_role("row").filter(has_text="zhang.wei")).to_contain_text("已停用")

    person.goto(server.url + "/ui/hazards")
    assert "/ui/login" in person.url
    live.sign_in(person, server, "zhang.wei", password="Lin-yin-2026")
    assert "/ui/login" in person.url
    expect(person.get_by_role("alert")).to_be_visible()


def test_a_person_who_is_not_an_administrator_gets_no_accounts_page(
        as_person: Any, server: live.LiveServer) -> None:
    office = as_person("safety_office")
    expect(office.get_by_role("navigation", name="主菜单").get_by_role(
        "link", name="用户")).to_have_count(0)
    answer = office.goto(server.url + "/ui/users")
    assert answer is not None and answer.status == 403
    assert "hotel_principal" not in office.content()
