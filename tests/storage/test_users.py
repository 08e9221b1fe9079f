"""People's accounts (storage.users) on SQLite and PostgreSQL: Argon2id hashes, logins of any
case, scopes and roles checked as tokens' are, the lock after five wrong passwords, sessions
that end, and a person acting as `user:<id>` in the audit log and in sign-off chains."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Connection, delete, select

from engine.access import Principal, ScopeKind
from engine.errors import InputInvalid, NotFound, SameSigner
from storage import audit, subjects, users
from storage.campaigns import vocabulary
from storage.tables import UserAccount, WebSession
from tests.support.world import World

user_t = UserAccount.__table__  # type: ignore[attr-defined]
session_t = WebSession.__table__  # type: ignore[attr-defined]
BY = "tests"
SECRET = "a long enough secret"
PLAN = {"goals_and_tasks": "更换报警装置", "measures": "停用储罐区，更换并校验",
        "funds_and_materials": "企业自筹", "responsible": "设备部",
        "deadline": "2023-07-31", "safety_measures": "专人巡检"}
RECTIFIED = {"rectified_on": "2023-06-20", "rectification_result": "已更换并校验"}


def _words(world: World, conn: Connection) -> Any:
    return vocabulary(world.services.registry, conn)


def made(world: World, login: str = "zhang.san", *, roles: Sequence[str] = ("locality",),
         scope_kind: ScopeKind = "org", scope_id: str | None = "linyin",
         password: str = SECRET) -> dict[str, Any]:
    with world.services.db.write() as conn:
        return users.create(conn, login=login, name=login, password=password, roles=roles,
                            scope_kind=scope_kind, scope_id=scope_id, now=world.clock(), by=BY,
                            vocabulary=_words(world, conn))


def sign_in(world: World, login: str, password: str = SECRET) -> users.SignIn:
    with world.services.db.write() as conn:
        return users.sign_in(conn, login, password, now=world.clock())


def live(world: World, secret: str | None) -> users.Session | None:
    assert secret is not None
    with world.services.db.read() as conn:
        return users.session(conn, secret, now=world.clock())


def history(world: World, user_id: int) -> list[tuple[str, str]]:
    with world.services.db.read() as conn:
        return [(e["action"], e["actor"]) for e in audit.history(conn, f"user:{user_id}")]


def test_the_password_is_kept_as_an_argon2id_hash_never_as_itself(world: World) -> None:
    account = made(world)
    assert "password_hash" not in account
    with world.services.db.read() as conn:
        stored = conn.execute(select(user_t.c.password_hash)
                              .where(user_t.c.id == account["id"])).scalar_one()
    assert stored.startswith("$argon2id$") and SECRET not in stored
    assert PasswordHasher().verify(stored, SECRET)
    assert history(world, account["id"]) == [("create", BY)]


def test_a_login_is_one_account_whatever_its_case(world: World) -> None:
    made(world, "Zhang.San")
    with pytest.raises(InputInvalid) as taken:
        made(world, "zhang.SAN")
    assert taken.value.code == "login_taken"
    assert sign_in(world, "ZHANG.san").secret is not None
    with world.services.db.read() as conn:
        assert users.by_login(conn, "zhang.san").login == "Zhang.San"
        with pytest.raises(NotFound):
            users.by_login(conn, "li.si")


@pytest.mark.parametrize(("login", "password", "code"), [
    ("zhang.san", "short", "password_weak"),
    ("zhang.san", "x" * (users.MAX_PASSWORD + 1), "password_weak"),
    ("zhang.san.x", "Zhang.San.X ", "password_weak"),
    ("zhang san", SECRET, "login_invalid"),
    ("-zhang", SECRET, "login_invalid"),
    ("张三", SECRET, "login_invalid"),
])
def test_weak_passwords_and_odd_logins_are_refused(login: str, password: str, code: str,
                                                   world: World) -> None:
    with pytest.raises(InputInvalid) as refused:
        made(world, login, password=password)
    assert refused.value.code == code
    with world.services.db.read() as conn:
        assert users.list_users(conn, now=world.clock())[-1]["login"] != login
    with pytest.raises(InputInvalid), world.services.db.write() as conn:
        users.reset_password(conn, "principal", "short", now=world.clock(), by=BY)


def test_scope_and_roles_are_checked_as_a_tokens(world: World) -> None:
    with pytest.raises(NotFound):
        made(world, scope_id="nowhere")
    with pytest.raises(NotFound):
        made(world, scope_kind="unit", scope_id="u-nowhere", roles=("principal",))
    with pytest.raises(InputInvalid) as unit_role:  # principal is a unit's role
        made(world, roles=("principal",))
    assert unit_role.value.code == "role_invalid"
    # worded for an account, not a token's command-line options
    assert "give the account a unit scope" in str(unit_role.value)
    assert "--unit" not in str(unit_role.value)
    with pytest.raises(InputInvalid) as unknown:
        made(world, roles=("no_such_role",))
    assert unknown.value.code == "role_invalid"
    with pytest.raises(InputInvalid) as no_role:  # an org's person holds a role
        made(world, roles=())
    assert str(no_role.value) == "an account needs at least one role"
    admin = made(world, "setup", roles=(), scope_kind="admin", scope_id="ignored")
    assert (admin["scope"], admin["scope_id"], admin["roles"]) == ("admin", None, [])
    with world.services.db.read() as conn:
        assert [u["login"] for u in users.list_users(conn, now=world.clock())
                if u["login"] in ("zhang.san", "setup")] == ["setup"]


def test_five_wrong_passwords_lock_for_fifteen_minutes(world: World) -> None:
    account = made(world)
    for _ in range(users.MAX_FAILURES - 1):
        assert sign_in(world, "zhang.san", "a wrong password").refusal == "users.sign_in.wrong"
    locked = sign_in(world, "zhang.san", "a wrong password")
    assert locked.refusal == "users.sign_in.locked" and locked.secret is None
    assert sign_in(world, "zhang.san").refusal == "users.sign_in.locked"  # even the right one
    with world.services.db.read() as conn:
        assert users.state_of(users.by_login(conn, "zhang.san"), world.clock()) == "locked"
    world.clock.advance(minutes=14, seconds=59)
    assert sign_in(world, "zhang.san").secret is None
    world.clock.advance(seconds=2)
    assert sign_in(world, "zhang.san").secret is not None
    actions = [a for a, _ in history(world, account["id"])]
    assert actions == ["create", *["sign_in_failed"] * 4, "lock", "sign_in"]


def test_an_unknown_login_is_refused_as_a_wrong_password(world: World) -> None:
    assert sign_in(world, "nobody").refusal == sign_in(world, "principal", "not it at all"
                                                       ).refusal == "users.sign_in.wrong"


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(world: World) -> None:
    account = made(world)
    first, second = sign_in(world, "zhang.san"), sign_in(world, "zhang.san")
    assert live(world, first.secret) is not None and live(world, second.secret) is not None
    with world.services.db.write() as conn:
        done = users.disable(conn, "ZHANG.SAN", now=world.clock(), by="admin person")
    assert done["state"] == "disabled"
    assert live(world, first.secret) is None and live(world, second.secret) is None
    assert sign_in(world, "zhang.san").refusal == "users.sign_in.disabled"
    assert sign_in(world, "zhang.san", "a wrong password").refusal == "users.sign_in.wrong"
    with world.services.db.read() as conn:
        ended = conn.execute(select(session_t.c.ended_at)
                             .where(session_t.c.user_id == account["id"])).scalars().all()
    assert ended == [world.clock(), world.clock()]
    assert ("disable", "admin person") in history(world, account["id"])


def test_a_new_password_lifts_the_lock_and_ends_the_sessions(world: World) -> None:
    account = made(world)
    before = sign_in(world, "zhang.san")
    for _ in range(users.MAX_FAILURES):
        sign_in(world, "zhang.san", "a wrong password")
    with world.services.db.write() as conn:
        done = users.reset_password(conn, "zhang.san", "another long secret",
                                    now=world.clock(), by="admin person")
    assert done["state"] == "active" and done["locked_until"] is None
    assert live(world, before.secret) is None
    assert sign_in(world, "zhang.san").secret is None  # the old password no longer works
    assert sign_in(world, "zhang.san", "another long secret").secret is not None
    assert ("reset_password", "admin person") in history(world, account["id"])


def test_a_session_lasts_twelve_hours_and_ends_when_signed_out(world: World) -> None:
    account = made(world)
    opened = sign_in(world, "zhang.san")
    found = live(world, opened.secret)
    assert found is not None
    assert found.csrf == opened.csrf and found.login == "zhang.san"
    assert found.principal.user_id == account["id"]
    assert found.principal.actor == f"user:{account['id']}"
    assert (found.principal.scope_kind, found.principal.scope_id) == ("org", "linyin")
    assert found.principal.roles == frozenset({"locality"})
    world.clock.advance(hours=11, minutes=59)
    assert live(world, opened.secret) is not None
    world.clock.advance(minutes=1)
    assert live(world, opened.secret) is None

    again = sign_in(world, "zhang.san")
    assert again.secret is not None
    with world.services.db.write() as conn:
        users.sign_out(conn, again.secret, now=world.clock())
        users.sign_out(conn, again.secret, now=world.clock())  # twice: nothing more
    assert live(world, again.secret) is None
    assert live(world, "not a secret anyone was given") is None
    actions = [a for a, _ in history(world, account["id"])]
    assert actions == ["create", "sign_in", "sign_in", "sign_out"]


def test_a_session_whose_org_or_unit_is_gone_is_not_live(world: World) -> None:
    with world.services.db.write() as conn:
        setup = Principal(0, "tests", frozenset(), "admin")
        subjects.create_org(conn, setup, id="elsewhere", name="别处街道", level="county",
                            parent=None, now=world.clock())
        subjects.create_unit(conn, setup, id="u-elsewhere", name="别处单位", org="elsewhere",
                             industry=None, tags=[], now=world.clock())
    made(world, "at.org", roles=("locality",), scope_id="elsewhere")
    made(world, "at.unit", roles=("principal",), scope_kind="unit", scope_id="u-elsewhere")
    at_org, at_unit = sign_in(world, "at.org"), sign_in(world, "at.unit")
    found = live(world, at_unit.secret)
    assert found is not None and found.principal.unit_org_path is not None
    assert live(world, at_org.secret) is not None
    with world.services.db.write() as conn:  # removed by hand: paicha never removes them
        conn.execute(delete(subjects.unit_t).where(subjects.unit_t.c.id == "u-elsewhere"))
    assert live(world, at_unit.secret) is None and live(world, at_org.secret) is not None
    with world.services.db.write() as conn:
        conn.execute(delete(subjects.org_t).where(subjects.org_t.c.id == "elsewhere"))
    assert live(world, at_org.secret) is None


def _person(world: World, login: str, roles: Sequence[str]) -> Principal:
    made(world, login, roles=roles)
    found = live(world, sign_in(world, login).secret)
    assert found is not None
    return found.principal


def test_a_person_acts_as_user_id_and_signs_a_chain_once(world: World) -> None:
    everyone = _person(world, "everyone", ("acceptance_team", "locality", "regulator",
                                           "government"))
    principal = world.principal("principal")
    cases = world.services.cases
    case_id = world.open_hazard()
    with world.services.db.write() as conn:
        cases.fire(conn, principal, case_id, trigger="plan", data=PLAN, expected_version=None,
                   now=world.clock())
        cases.fire(conn, principal, case_id, trigger="submit", data=RECTIFIED,
                   expected_version=None, now=world.clock())
        stored, _ = cases.fire(conn, everyone, case_id, trigger="accept", data={},
                                     expected_version=None, now=world.clock())
    assert stored.state == "awaiting_acceptance"
    with world.services.db.read() as conn:
        last = audit.history(conn, f"case:{case_id}")[-1]
    assert (last["actor"], last["role"]) == (f"user:{everyone.user_id}", "acceptance_team")

    with pytest.raises(SameSigner) as twice, world.services.db.write() as conn:
        cases.fire(conn, everyone, case_id, trigger="accept", data={},
                   expected_version=None, now=world.clock())
    assert twice.value.signed_as == "acceptance_team"
    # another person signs the next role
    other = _person(world, "li.si", ("locality",))
    with world.services.db.write() as conn:
        cases.fire(conn, other, case_id, trigger="accept", data={}, expected_version=None,
                   now=world.clock())
    with world.services.db.read() as conn:
        last = audit.history(conn, f"case:{case_id}")[-1]
    assert (last["actor"], last["role"]) == (f"user:{other.user_id}", "locality")


def test_every_action_on_an_account_is_audited_under_its_stream(world: World) -> None:
    account = made(world)
    opened = sign_in(world, "zhang.san")
    sign_in(world, "zhang.san", "a wrong password")
    assert opened.secret is not None
    with world.services.db.write() as conn:
        users.sign_out(conn, opened.secret, now=world.clock())
        users.reset_password(conn, "zhang.san", "another long secret", now=world.clock(),
                             by="user:1")
        users.disable(conn, "zhang.san", now=world.clock(), by="user:1")
        users.disable(conn, "zhang.san", now=world.clock(), by="user:1")  # already: no entry
    me = f"user:{account['id']}"
    assert history(world, account["id"]) == [
        ("create", BY), ("sign_in", me), ("sign_in_failed", me), ("sign_out", me),
        ("reset_password", "user:1"), ("disable", "user:1")]
    with world.services.db.read() as conn:
        assert audit.verify(conn).ok
        assert SECRET not in str(audit.history(conn, me))
