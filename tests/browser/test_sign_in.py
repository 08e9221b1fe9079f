"""Signing in through the form, in Chinese, as a person would."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import live

# one worker runs them all (with `--dist loadgroup`): a browser a module, one server
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_wrong_password_is_refused_with_the_reason_and_no_session(
        window: Any, server: live.LiveServer) -> None:
    page = window()
    live.sign_in(page, server, "safety_office", password="not-" + server.passwords["safety_office"])
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.get_by_role("alert").inner_text().strip()
    expect(page.get_by_label("登录名", exact=True)).to_have_value("safety_office")
    expect(page.get_by_label("密码", exact=True)).to_have_value("")
    assert "paicha_session" not in {cookie["name"] for cookie in page.context.cookies()}
    # the desk still sends a stranger to the sign-in form
    page.goto(server.url + "/ui/")
    assert "/ui/login" in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")


def test_the_right_password_opens_the_desk_with_the_persons_menu(
        window: Any, server: live.LiveServer) -> None:
    page = window()
    live.sign_in(page, server, "safety_office")
    assert page.url == server.url + "/ui/"
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    menu = page.get_by_role("navigation", name="主菜单")
    expect(menu.get_by_role("link", name="工作台")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("link", name="调度表")).to_be_visible()
    expect(menu.get_by_role("link", name="用户")).to_have_count(0)  # the admin's alone
    expect(page.get_by_text("林荫街道安委办")).to_be_visible()
    # signing out ends the session: the desk asks for the password again
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state()
    page.goto(server.url + "/ui/")
    assert "/ui/login" in page.url


def test_a_person_sent_to_sign_in_comes_back_to_the_page_asked_for(
        window: Any, server: live.LiveServer) -> None:
    page = window()
    page.goto(server.url + "/ui/hazards")
    assert "/ui/login" in page.url
    page.get_by_label("登录名", exact=True).fill("principal")
    page.get_by_label("密码", exact=True).fill(server.passwords["principal"])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_load_state()
    assert page.url.startswith(server.url + "/ui/hazards")
