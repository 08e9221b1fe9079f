"""A real `paicha serve --demo` on a free port over a temporary SQLite file, for the browser
tests and the screenshots of docs/screens.py, and a Chromium that drives it.

The server is the command an office runs, started as a process: the pages are seen as a
browser sees them, through uvicorn, with the demo's passwords and tokens read from what the
command prints. It lives here rather than in the package because only the tests and the docs'
screenshots start servers this way; the wheel an office installs has no use for it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paicha import demo

CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, headless, talking to nobody but the test server
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

_EXPORT = re.compile(r"^\s*export\s+([A-Z_]+)=(\S+)\s*$")
# a person's line: two spaces, the login, the password (token_urlsafe: no spaces), the name
_PERSON = re.compile(r"^\s+(\S+)\s+(\S+)\s+(\S.*)$")


ROOT = Path(__file__).resolve().parents[2]
PLAN_FILE = ROOT / "campaigns" / "three-year-plan-2024-2026.yaml"


def campaign_with_typo() -> tuple[bytes, int]:
    """The three-year plan with one state misspelt (`rectifyng`) in its `reject`: the text
    and the number of that line, for the validate page."""
    right = "from: awaiting_acceptance, to: rectifying,"
    lines = PLAN_FILE.read_text("utf-8").splitlines(keepends=True)
    numbers = [number for number, line in enumerate(lines, 1) if right in line]
    assert len(numbers) == 1, numbers
    typo = right.replace("rectifying", "rectifyng")
    lines[numbers[0] - 1] = lines[numbers[0] - 1].replace(right, typo)
    return "".join(lines).encode(), numbers[0]


class ServerFailed(RuntimeError):
    """The demo server did not come up: what it printed says why."""


@dataclass
class LiveServer:
    """A running demo: its address, each demo person's password and each role's token."""

    url: str
    passwords: dict[str, str]
    tokens: dict[str, str]  # the token's name as printed (SAFETY_OFFICE) -> secret
    process: subprocess.Popen[bytes] = field(repr=False)
    output: Path = field(repr=False)

    def token(self, name: str) -> str:
        return self.tokens[name.upper()]

    def api(self, path: str, token: str, *, lang: str = "zh") -> Any:
        """GET an API path as the holder of a demo token; the parsed JSON."""
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {self.token(token)}",
                                      "Accept-Language": lang})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)


def demo_accounts(printed: str) -> tuple[dict[str, str], dict[str, str]]:
    """The passwords (login -> password) and tokens (NAME -> secret) that `serve --demo`
    printed, in whichever language it spoke: a person's line is one whose first word is a
    demo login, after the `export` lines."""
    passwords: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for line in printed.splitlines():
        exported = _EXPORT.match(line)
        if exported:
            tokens[exported.group(1)] = exported.group(2)
            continue
        person = _PERSON.match(line)
        if person and person.group(1) in demo.PEOPLE and tokens:
            passwords[person.group(1)] = person.group(2)
    return passwords, tokens


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start(folder: Path, port: int, lang: str, wait: float) -> LiveServer:
    output = folder / f"serve-{port}.log"
    env = {**os.environ, "PAICHA_LANG": lang, "PAICHA_LOG_LEVEL": "warning"}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "paicha", "serve", "--demo", "--no-scheduler",
             "--database", f"sqlite:///{folder / 'demo.db'}", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _healthy(url):
            passwords, tokens = demo_accounts(output.read_text("utf-8", "replace"))
            if set(passwords) != set(demo.PEOPLE):
                _stop(process)
                raise ServerFailed("the demo's passwords were not all printed:\n"
                                   + output.read_text("utf-8", "replace"))
            return LiveServer(url, passwords, tokens, process, output)
        time.sleep(0.2)
    _stop(process)
    raise ServerFailed(f"paicha serve --demo on port {port} did not answer /health:\n"
                       + output.read_text("utf-8", "replace"))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextmanager
def demo_server(*, lang: str = "zh", wait: float = 120.0) -> Iterator[LiveServer]:
    """`paicha serve --demo` on a free port over a new SQLite file, stopped at the end. A port
    taken between probing and binding (other workers start servers too) is tried again."""
    with tempfile.TemporaryDirectory(prefix="paicha-live-") as place:
        folder = Path(place)
        for attempt in range(3):
            try:
                server = _start(folder, free_port(), lang, wait)
                break
            except ServerFailed:
                if attempt == 2:
                    raise
                (folder / "demo.db").unlink(missing_ok=True)
        try:
            yield server
        finally:
            _stop(server.process)


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


# -- the browser ---------------------------------------------------------------------------
# Playwright types are imported where used: importing this module needs no playwright.

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def launch(playwright: Any) -> Any:
    """Debian's chromium under Playwright: never a browser of Playwright's own, and a fresh
    temporary profile for each launch."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def new_context(browser: Any, *, viewport: dict[str, int] | None = None,
                phone: bool = False) -> Any:
    """A browser window of its own (its own cookies) asking for Chinese pages."""
    options: dict[str, Any] = {"locale": "zh-CN", "viewport": viewport or DESKTOP,
                               "accept_downloads": True}
    if phone:
        options.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    return browser.new_context(**options)


def sign_in(page: Any, server: LiveServer, login: str, password: str | None = None) -> Any:
    """Fill the sign-in form as a person would (by its labels) and send it; the page after."""
    page.goto(server.url + "/ui/login")
    page.get_by_label("登录名", exact=True).fill(login)
    page.get_by_label("密码", exact=True).fill(
        server.passwords[login] if password is None else password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_load_state()
    return page


def person(browser: Any, server: LiveServer, login: str, **options: Any) -> Any:
    """A new window signed in as a demo person: its page, on the desk."""
    page = new_context(browser, **options).new_page()
    sign_in(page, server, login)
    if "/ui/login" in page.url:
        raise AssertionError(f"{login} could not sign in: {page.inner_text('main')}")
    return page
