"""用户管理: an admin lists, makes, disables and gives new passwords to accounts; nobody else
sees the page; every change wants the CSRF token; what the admin did is audited as them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from engine.errors import NotFound
from storage import audit, users
from tests.support.world import World, password
from tests.web.conftest import Person

NEW = {"login": "zhang.san", "name": "张三", "scope_kind": "org", "scope_id": "linyin",
       "roles": ["locality", "government"], "password": "a long enough secret"}
SHOWN = re.compile(r'<code class="secret" id="shown-password">([^<]+)</code>')


def _row(page: str, login: str) -> str:
    found = re.search(rf'<tr id="user-\d+" data-login="{re.escape(login)}"'
                      r' data-state="(\w+)">(.*?)</tr>', page, re.S)
    assert found is not None, login
    return found.group(1) + found.group(2)


def _actor(world: World) -> str:
    with world.services.db.read() as conn:
        return f"user:{users.by_login(conn, 'admin').id}"


def _stream(world: World, login: str) -> list[tuple[str, str]]:
    with world.services.db.read() as conn:
        user_id = users.by_login(conn, login).id
        return [(e["action"], e["actor"]) for e in audit.history(conn, f"user:{user_id}")]


def test_an_admin_sees_every_account_and_the_roles_to_give(
        people: Callable[[str | None], Person]) -> None:
    page = people("admin").get("/ui/users")
    assert page.status_code == 200
    assert page.text.count("<h1>") == 1
    for login in ("admin", "principal", "safety_office", "regulator"):
        assert login in page.text
    row = _row(page.text, "principal")
    assert row.startswith("active") and "u-chem-01" in row and "principal" in row
    assert 'name="roles" value="locality"' in page.text
    assert 'name="roles" value="principal"' in page.text
    assert "password_hash" not in page.text and "$argon2" not in page.text
    assert '<label for="login">' in page.text and '<label for="password">' in page.text
    assert '<a href="/ui/users" aria-current="page">' in page.text
    # an admin does not disable their own account here (nobody would be left to undo it)
    assert 'action="/ui/users/admin/disable"' not in page.text
    assert 'action="/ui/users/principal/disable"' in page.text


@pytest.mark.parametrize("who", ["safety_office", "principal", "regulator"])
def test_nobody_but_an_admin_reaches_the_page(who: str, world: World,
                                              people: Callable[[str | None], Person]) -> None:
    person = people(who)
    page = person.get("/ui/users")
    assert page.status_code == 403
    assert "Not allowed" in page.text and "hotel_principal" not in page.text
    assert "/ui/users" not in page.text  # not in the menu either
    made = person.post("/ui/users", NEW)
    assert made.status_code == 403
    assert person.post("/ui/users/principal/disable").status_code == 403
    assert person.post("/ui/users/principal/password",
                       {"password": "taken over now"}).status_code == 403
    assert people(None).sign_in("principal").status_code == 303  # untouched
    with world.services.db.read() as conn, pytest.raises(NotFound):
        users.by_login(conn, "zhang.san")


def test_without_a_session_the_page_sends_to_the_sign_in_form(
        people: Callable[[str | None], Person]) -> None:
    answer = people(None).get("/ui/users", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=/ui/users"


def test_a_form_without_the_csrf_token_is_refused(
        people: Callable[[str | None], Person], world: World) -> None:
    admin = people("admin")
    for url, form in (("/ui/users", NEW), ("/ui/users/principal/disable", {}),
                      ("/ui/users/principal/password", {"password": "taken over now"})):
        assert admin.client.post(url, data=form).status_code == 403
        assert admin.client.post(url, data={**form, "csrf": "forged"}).status_code == 403
    with world.services.db.read() as conn:
        assert users.state_of(users.by_login(conn, "principal"), world.clock()) == "active"
    assert people(None).sign_in("principal").status_code == 303


def test_an_admin_makes_an_account_that_signs_in(
        people: Callable[[str | None], Person], world: World) -> None:
    admin = people("admin")
    made = admin.post("/ui/users", NEW)
    assert made.status_code == 201, made.text
    assert "The account zhang.san was created." in made.text
    assert NEW["password"] not in made.text and SHOWN.search(made.text) is None
    row = _row(made.text, "zhang.san")
    assert row.startswith("active") and "张三" in row
    assert 'title="government"' in row and 'title="locality"' in row
    assert _stream(world, "zhang.san") == [("create", _actor(world))]

    person = people(None)
    assert person.sign_in("zhang.san", NEW["password"]).status_code == 303
    desk = person.get("/ui/")
    assert desk.status_code == 200 and "张三" in desk.text


def test_a_generated_password_is_shown_once_and_works(
        people: Callable[[str | None], Person]) -> None:
    admin = people("admin")
    made = admin.post("/ui/users", {**NEW, "password": "", "generate": "1",
                                    "scope_kind": "unit", "scope_id": "u-chem-01",
                                    "roles": ["principal"]})
    assert made.status_code == 201, made.text
    shown = SHOWN.search(made.text)
    assert shown is not None
    assert SHOWN.search(admin.get("/ui/users").text) is None  # once
    assert people(None).sign_in("zhang.san", shown.group(1)).status_code == 303


@pytest.mark.parametrize(("change", "status", "field", "said"), [
    ({"login": "zhang san"}, 422, "login", "'zhang san'"),
    ({"login": "Principal"}, 422, "login", "is taken"),
    ({"password": "short"}, 422, "password", "8"),
    ({"scope_id": "nowhere"}, 404, "scope_id", "nowhere"),
    ({"roles": ["principal"]}, 422, "roles", "principal"),
    ({"roles": []}, 422, "", "role"),
    ({"scope_kind": "planet"}, 422, "scope_kind", "Choose the scope"),
])
def test_a_refused_account_says_why_next_to_the_field(
        change: dict[str, object], status: int, field: str, said: str,
        people: Callable[[str | None], Person], world: World) -> None:
    answer = people("admin").post("/ui/users", {**NEW, **change})
    assert answer.status_code == status, answer.text
    if field:
        found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', answer.text)
        assert found is not None, answer.text
        assert f'aria-describedby="{field}-error"' in answer.text
    else:
        found = re.search(r'<p class="error" role="alert" id="users-error">([^<]*)</p>',
                          answer.text)
        assert found is not None, answer.text
    assert said in html.unescape(found.group(1))
    assert f'value="{change.get("login", NEW["login"])}"' in answer.text  # the form is kept
    with world.services.db.read() as conn:
        logins = [u["login"] for u in users.list_users(conn, now=world.clock())]
    assert "zhang.san" not in logins and "zhang san" not in logins


def test_an_admin_disables_an_account_and_its_sessions_end(
        people: Callable[[str | None], Person], world: World) -> None:
    principal = people("principal")
    assert principal.get("/ui/").status_code == 200
    admin = people("admin")
    answer = admin.post("/ui/users/principal/disable")
    assert answer.status_code == 200, answer.text
    assert "The account principal was disabled" in answer.text
    assert _row(answer.text, "principal").startswith("disabled")
    assert 'action="/ui/users/principal/disable"' not in answer.text
    assert principal.get("/ui/", follow_redirects=False).status_code == 303
    assert people(None).sign_in("principal").status_code == 401
    assert _stream(world, "principal")[-1] == ("disable", _actor(world))

    missing = admin.post("/ui/users/nobody/disable")
    assert missing.status_code == 404 and "nobody" in missing.text
    yourself = admin.post("/ui/users/admin/disable")
    assert yourself.status_code == 409 and "your own account" in yourself.text
    assert admin.get("/ui/users").status_code == 200


def test_an_admin_gives_a_new_password_that_lifts_the_lock(
        people: Callable[[str | None], Person], world: World) -> None:
    nobody = people(None)
    for _ in range(users.MAX_FAILURES):
        nobody.sign_in("locality", "guess guess")
    admin = people("admin")
    assert _row(admin.get("/ui/users").text, "locality").startswith("locked")

    weak = admin.post("/ui/users/locality/password", {"password": "short"})
    assert weak.status_code == 422
    assert re.search(r'<details class="reset" open>', weak.text)
    assert 'aria-invalid="true"' in weak.text

    reset = admin.post("/ui/users/locality/password", {"password": "", "generate": "1"})
    assert reset.status_code == 200, reset.text
    assert "locality has a new password" in reset.text
    assert _row(reset.text, "locality").startswith("active")
    shown = SHOWN.search(reset.text)
    assert shown is not None
    assert people(None).sign_in("locality").status_code == 401  # the old one no longer works
    assert people(None).sign_in("locality", shown.group(1)).status_code == 303
    assert ("reset_password", _actor(world)) in _stream(world, "locality")

    chosen = admin.post("/ui/users/LOCALITY/password", {"password": "chosen by the admin"})
    assert chosen.status_code == 200 and SHOWN.search(chosen.text) is None
    assert people(None).sign_in("locality", "chosen by the admin").status_code == 303
    assert people(None).sign_in("locality", password("locality")).status_code == 401


def test_the_page_speaks_chinese(chinese: None, people: Callable[[str | None], Person]) -> None:
    page = people("admin").get("/ui/users")
    assert page.status_code == 200
    assert "用户管理" in page.text and "新建账号" in page.text and "登录名" in page.text
    made = people("admin").post("/ui/users", {**NEW, "password": "short"})
    assert made.status_code == 422 and "密码长度须为" in made.text
