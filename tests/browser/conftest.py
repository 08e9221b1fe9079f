"""Browser tests: Debian's chromium, driven by Playwright, against one `paicha serve --demo`
that all of them share (tests/browser/live.py).

Without /usr/bin/chromium the tests skip and say so, unless PAICHA_TEST_BROWSER=required (CI
installs chromium and sets it: there a missing browser is a failure, not a skip)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser import live


def _needed() -> None:
    missing = live.chromium_missing()
    if missing is None:
        return
    if os.environ.get("PAICHA_TEST_BROWSER") == "required":
        pytest.fail(f"browser tests required, but {missing}")
    pytest.skip(f"browser tests need Debian's chromium: {missing}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for a module's tests. Not for the whole session: Playwright's sync API holds
    an event loop running in the thread while it is open, and the worker's other tests (those
    that call asyncio.run) would meet it."""
    _needed()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = live.launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server() -> Iterator[live.LiveServer]:
    """One demo server for the browser tests (it starts in about 15 seconds; they all run on
    one worker, `--dist loadgroup`, and make their own records: distinct logins, new
    hazards found by id)."""
    _needed()
    with live.demo_server(lang="zh") as running:
        yield running


@pytest.fixture
def window(browser: Any) -> Iterator[Callable[..., Any]]:
    """`window()`: a new page in a window of its own, nobody signed in; closed after the test."""
    contexts: list[Any] = []

    def open_window(**options: Any) -> Any:
        context = live.new_context(browser, **options)
        contexts.append(context)
        return context.new_page()

    yield open_window
    for context in contexts:
        context.close()


@pytest.fixture
def as_person(browser: Any, server: live.LiveServer,
              window: Callable[..., Any]) -> Callable[..., Any]:
    """`as_person("principal")`: a new window signed in as that demo person, on the desk."""

    def signed_in(login: str, **options: Any) -> Any:
        page = window(**options)
        live.sign_in(page, server, login)
        assert "/ui/login" not in page.url, page.inner_text("main")
        return page

    return signed_in
