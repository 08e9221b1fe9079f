"""Screenshots of the screens for the docs: `.venv/bin/python docs/screens.py`.

Starts a demo server of its own (`paicha serve --demo` over a temporary database, as the
browser tests do: tests/browser/live.py), signs in as the demo person each page is for, and
writes docs/screens/<name>.png at 1366×768 (the hazard page also at 390×844, as on a phone).
A page the server does not have yet is left out and said so. Needs /usr/bin/chromium and a
Chinese font (Debian: `apt-get install fonts-noto-cjk`), without which every character is a box,
and for the diagrams' ⏰ an emoji font (`fonts-noto-color-emoji`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import live  # noqa: E402

OUT = ROOT / "docs" / "screens"
PLAN = "three-year-plan-2024-2026"
# a long page is shown down to three screens, enough to see its parts
MOST_HEIGHT = 3 * live.DESKTOP["height"]


@dataclass(frozen=True)
class Shot:
    name: str  # the PNG's name, without .png
    login: str  # who looks at it
    path: str | Callable[[live.LiveServer], str]  # the page, or how to find it
    what: str  # for the README
    phone: bool = False
    prepare: Callable[[Any], None] | None = None  # what to do on the page before the picture
    start: Callable[[Any], Any] | None = None  # the part of the page the picture starts at


def rectifying_hazard(server: live.LiveServer) -> str:
    """The plant's major hazard under its 治理方案 (paicha/demo.py `activity`)."""
    cases = server.api(f"/cases?unit=u-chem-01&state=rectifying&campaign={PLAN}",
                       "principal")["data"]
    return f"/ui/hazards/{cases[0]['id']}"


def validate_with_typo(page: Any) -> None:
    text, _ = live.campaign_with_typo()
    page.get_by_label("方案文件").set_input_files(
        files=[{"name": "my-plan.yaml", "mimeType": "application/yaml", "buffer": text}])
    with page.expect_navigation():
        page.get_by_role("button", name="开始校验").click()


def diagram_drawn(page: Any) -> None:
    """The lifecycle diagram is drawn by mermaid in the browser: wait for its picture."""
    diagram = page.locator(".diagram svg")
    if page.locator(".diagram").count():
        diagram.first.wait_for(state="visible", timeout=15_000)


SHOTS = (
    Shot("desk", "safety_office", "/ui/",
         "the desk (工作台): what is overdue, the phases running, what falls due soon"),
    Shot("hazards", "safety_office", "/ui/hazards",
         "the hazards the person reaches, with their filters"),
    Shot("hazard", "principal", rectifying_hazard,
         "a major hazard under its 治理方案, with the forms of what the person may do now"),
    Shot("hazard-phone", "principal", rectifying_hazard, "the same page on a phone, 390×844",
         phone=True),
    Shot("hazard-new", "principal", "/ui/hazards/new", "registering a hazard (登记)"),
    Shot("checks", "principal", "/ui/checks", "the checks (检查任务) due"),
    Shot("reports", "safety_office", f"/ui/reports?campaign={PLAN}&report=dispatch&org=linyin",
         "the street's 调度表: its figures, each community's and whether each has filed"),
    Shot("campaigns", "safety_office", "/ui/campaigns", "the campaigns published"),
    Shot("campaign", "safety_office", f"/ui/campaigns/{PLAN}",
         "one campaign: its phases, checks and the hazard's lifecycle diagram",
         prepare=diagram_drawn),
    Shot("campaign-diagram", "safety_office", f"/ui/campaigns/{PLAN}",
         "the same page further down: the hazard's lifecycle (Mermaid, drawn in the browser)",
         prepare=diagram_drawn,
         start=lambda page: page.get_by_role("figure").first.locator(
             "xpath=ancestor::section[last()]")),
    Shot("validate", "safety_office", "/ui/campaigns/validate",
         "validating a campaign file with a typo: the problem and its line",
         prepare=validate_with_typo),
    Shot("orgs", "safety_office", "/ui/orgs", "orgs and units (单位与组织)"),
    Shot("notices", "safety_office", "/ui/notices", "notices (通知) and their delivery"),
    Shot("users", "admin", "/ui/users", "people's accounts (用户)"),
)


def take(browser: Any, server: live.LiveServer, shot: Shot, out: Path) -> str | None:
    """Take one picture; None when written, else why not."""
    context = live.new_context(browser, phone=shot.phone)
    try:
        page = context.new_page()
        live.sign_in(page, server, shot.login)
        path = shot.path(server) if callable(shot.path) else shot.path
        answer = page.goto(server.url + path)
        if answer is None or answer.status != 200:
            return f"{path} answered {answer.status if answer else 'nothing'}"
        page.wait_for_load_state("networkidle")
        if shot.prepare is not None:
            shot.prepare(page)
            page.wait_for_load_state("networkidle")
        size = page.viewport_size or live.DESKTOP
        height = page.evaluate("document.documentElement.scrollHeight")
        top = 0
        if shot.start is not None:
            part = shot.start(page)
            if not part.count():
                return f"{path} has no such part"
            top = max(0, int(part.evaluate(
                "e => e.getBoundingClientRect().top + window.scrollY")) - 24)
        limit = MOST_HEIGHT if not shot.phone else 3 * size["height"]
        page.screenshot(path=str(out / f"{shot.name}.png"), full_page=True, animations="disabled",
                        clip={"x": 0, "y": top, "width": size["width"],
                              "height": min(height - top, limit)})
        return None
    finally:
        context.close()


def write_readme(out: Path) -> None:
    """docs/screens/README.md: the pictures there are, in the menu's order, with what each
    shows (written again after every run, so that it lists what the folder holds)."""
    lines = ["# Screens", "",
             "Pictures of paicha's screens over the demo (`paicha serve --demo`), in Chinese,",
             "at 1366×768 (a long page down to three screens) unless said. Made by",
             "`.venv/bin/python docs/screens.py` (it starts its own demo server); run it again",
             "after changing a page. The demo's dates follow the day it was run. The browser",
             "is headless with its own controls in English: a date input reads mm/dd/yyyy and",
             "a file input `Choose File` where a Chinese browser shows 年/月/日 and 选择文件.", "",
             "| picture | page | who | shows |", "|---|---|---|---|"]
    for shot in SHOTS:
        if (out / f"{shot.name}.png").exists():
            page = shot.path if isinstance(shot.path, str) else "/ui/hazards/{id}"
            lines.append(f"| [{shot.name}.png]({shot.name}.png) | `{page}` | {shot.login} | "
                         f"{shot.what} |")
    (out / "README.md").write_text("\n".join(lines) + "\n", "utf-8")


def chinese_font_missing() -> str | None:
    if shutil.which("fc-list") is None:
        return "fc-list is missing (fontconfig): cannot tell whether a Chinese font is installed"
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                           check=False).stdout
    return None if fonts.strip() else "no Chinese font (apt-get install fonts-noto-cjk)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these pictures (desk, hazard …)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    missing = live.chromium_missing() or chinese_font_missing()
    if missing:
        print(f"screens: {missing}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    chosen = [shot for shot in SHOTS if not args.names or shot.name in args.names]
    left_out = 0
    with live.demo_server(lang="zh") as server, sync_playwright() as playwright:
        browser = live.launch(playwright)
        try:
            for shot in chosen:
                why = take(browser, server, shot, args.out)
                if why is None:
                    print(f"screens: {args.out / shot.name}.png", file=sys.stderr)
                else:
                    left_out += 1
                    print(f"screens: {shot.name} left out: {why}", file=sys.stderr)
        finally:
            browser.close()
    write_readme(args.out)
    return 1 if left_out == len(chosen) else 0


if __name__ == "__main__":
    sys.exit(main())
