"""Every main page on a 390px-wide phone: nothing wider than the screen (tables become cards),
the menu in reach."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import live

# one worker runs them all (with `--dist loadgroup`): a browser a module, one server
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PLAN = "three-year-plan-2024-2026"
HAZARD = "HAZARD"  # the plant's hazard under its plan, with its forms


@pytest.mark.parametrize("login, path", [
    ("principal", "/ui/"),
    ("safety_office", "/ui/hazards"),
    ("principal", HAZARD),
    ("principal", "/ui/hazards/new"),
    ("principal", "/ui/checks"),
    ("safety_office", f"/ui/reports?campaign={PLAN}&report=dispatch&org=linyin"),
    ("safety_office", "/ui/campaigns"),
    ("safety_office", f"/ui/campaigns/{PLAN}"),
    ("safety_office", "/ui/campaigns/validate"),
    ("safety_office", "/ui/orgs"),
    ("safety_office", "/ui/notices"),
    ("admin", "/ui/users"),
])
def test_the_page_fits_a_phone_without_scrolling_sideways(
        as_person: Any, server: live.LiveServer, login: str, path: str) -> None:
    if path == HAZARD:
        rectifying = server.api("/cases?unit=u-chem-01&state=rectifying", "principal")["data"]
        path = f"/ui/hazards/{rectifying[0]['id']}"
    page = as_person(login, phone=True)
    answer = page.goto(server.url + path)
    assert answer is not None and answer.status == 200
    page.wait_for_load_state("networkidle")  # a diagram or a fragment drawn after loading
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= live.PHONE["width"], f"{path} is {wide}px wide on a 390px phone"
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("navigation", name="主菜单")).to_be_visible()
