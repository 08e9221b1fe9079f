"""The campaign pages in the browser: a campaign with a typo uploaded to the validate page is
refused with the problem's line."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import live

# one worker runs them all (with `--dist loadgroup`): a browser a module, one server
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

def test_a_campaign_with_a_typo_shows_the_problem_and_its_line(
        as_person: Any, server: live.LiveServer) -> None:
    text, line = live.campaign_with_typo()
    page = as_person("safety_office")
    page.goto(server.url + "/ui/campaigns/validate")
    page.get_by_label("方案文件").set_input_files(
        files=[{"name": "my-plan.yaml", "mimeType": "application/yaml", "buffer": text}])
    with page.expect_navigation():
        page.get_by_role("button", name="开始校验").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    problem = page.get_by_role("row").filter(has_text="rectifyng")
    expect(problem).to_have_count(1)
    expect(problem.get_by_role("cell").first).to_have_text(str(line))
    expect(problem).to_contain_text("rectifying")  # the suggestion


def test_the_bundled_campaign_passes(as_person: Any, server: live.LiveServer) -> None:
    page = as_person("safety_office")
    page.goto(server.url + "/ui/campaigns/validate")
    page.get_by_label("方案文件").set_input_files(
        files=[{"name": live.PLAN_FILE.name, "mimeType": "application/yaml",
                "buffer": live.PLAN_FILE.read_bytes()}])
    with page.expect_navigation():
        page.get_by_role("button", name="开始校验").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.locator("#problems tr[data-severity=error]")).to_have_count(0)
