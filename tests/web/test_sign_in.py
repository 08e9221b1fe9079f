"""Signing in to the screens: a session for the right password, nothing for a wrong one, the
lock after five wrong ones in a row, CSRF on the form, sign-out ending the session."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.world import World
from tests.web.conftest import Person


def test_a_person_signs_in_and_sees_the_desk(people: Callable[[str | None], Person]) -> None:
    person = people("safety_office")
    desk = person.get("/ui/")
    assert desk.status_code == 200
    assert "Desk" in desk.text and "林荫街道安委办" in desk.text
    assert desk.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in desk.headers["content-security-policy"]


def test_without_a_session_pages_send_to_the_sign_in_form(
        people: Callable[[str | None], Person]) -> None:
    nobody = people(None)
    answer = nobody.get("/ui/hazards?state=reported", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=/ui/hazards%3Fstate%3Dreported"
    assert nobody.get("/", follow_redirects=False).headers["location"] == "/ui/"


def test_a_wrong_password_is_refused_without_saying_which_part(
        people: Callable[[str | None], Person]) -> None:
    nobody = people(None)
    wrong = nobody.sign_in("principal", "not the password")
    unknown = nobody.sign_in("no-such-person", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong login or password" in wrong.text and "wrong login or password" in unknown.text
    assert "paicha_session" not in wrong.headers.get("set-cookie", "")


def test_five_wrong_passwords_lock_the_account(people: Callable[[str | None], Person],
                                               world: World) -> None:
    nobody = people(None)
    for _ in range(4):
        assert nobody.sign_in("principal", "guess guess").status_code == 401
    locked = nobody.sign_in("principal", "guess guess")
    assert locked.status_code == 401 and "locked until" in locked.text
    # the right password does not open a locked account
    assert nobody.sign_in("principal").status_code == 401
    world.clock.advance(minutes=16)
    assert nobody.sign_in("principal").status_code == 303


def test_the_sign_in_form_wants_its_own_csrf_token(people: Callable[[str | None], Person]
                                                   ) -> None:
    nobody = people(None)
    answer = nobody.client.post("/ui/login", data={"login": "principal",
                                                   "password": "principal-demo-password"},
                                follow_redirects=False)
    assert answer.status_code == 403


def test_signing_out_ends_the_session(people: Callable[[str | None], Person]) -> None:
    person = people("principal")
    cookie = person.client.cookies.get("paicha_session")
    assert cookie
    assert person.client.post("/ui/logout", data={}, follow_redirects=False).status_code == 403
    out = person.post("/ui/logout", follow_redirects=False)
    assert out.status_code == 303
    person.client.cookies.set("paicha_session", cookie)  # the old cookie, replayed
    assert person.get("/ui/", follow_redirects=False).status_code == 303


def test_a_redirect_after_sign_in_stays_on_the_screens(
        people: Callable[[str | None], Person]) -> None:
    nobody = people(None)
    form = nobody.get("/ui/login?next=//evil.example/x")
    assert 'value="/ui/"' in form.text


def test_cookies_are_secure_over_https(people: Callable[[str | None], Person]) -> None:
    nobody = people(None)
    nobody.client.base_url = nobody.client.base_url.copy_with(scheme="https")
    answer = nobody.sign_in("principal")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
