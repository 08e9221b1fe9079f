"""Page tests: a demo person signed in to the screens through a TestClient of their own."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from tests.support.world import World, password

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Person:
    """A browser of one demo person: `get`, and `post` of a form with its CSRF token."""

    def __init__(self, client: TestClient, login: str | None) -> None:
        self.client = client
        self.login = login
        self.csrf = ""

    def sign_in(self, login: str, secret: str | None = None) -> Response:
        form = self.client.get("/ui/login")
        token = CSRF.search(form.text)
        assert token is not None, form.text
        answer = self.client.post("/ui/login", data={
            "csrf": token.group(1), "login": login,
            "password": password(login) if secret is None else secret, "next": "/ui/"},
            follow_redirects=False)
        if answer.status_code == 303:
            home = self.client.get("/ui/")
            found = CSRF.search(home.text)
            self.csrf = found.group(1) if found else ""
        return answer

    def get(self, url: str, **options: Any) -> Response:
        return self.client.get(url, **options)

    def post(self, url: str, data: dict[str, Any] | None = None, **options: Any) -> Response:
        """A form posted as the page would: with the session's CSRF token."""
        return self.client.post(url, data={"csrf": self.csrf, **(data or {})}, **options)


@pytest.fixture
def people(world: World) -> Iterator[Callable[[str | None], Person]]:
    """`people("principal")`: a demo person signed in (None: nobody signed in)."""
    clients: list[TestClient] = []
    app = create_app(services=world.services)

    def person(login: str | None) -> Person:
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        found = Person(client, login)
        if login is not None:
            answer = found.sign_in(login)
            assert answer.status_code == 303, answer.text
        return found

    yield person
    for client in clients:
        client.__exit__(None, None, None)
