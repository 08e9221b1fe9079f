"""`paicha user`: accounts made from the shell with a password that never is an argument,
listed with their state, disabled, given a new password; refusals in the catalogue's words."""

from __future__ import annotations

import io
import json

import pytest

from api.services import system_clock
from paicha.cli import main
from storage import audit, users
from tests.support.world import World, shell_has_the_worlds_key


@pytest.fixture(autouse=True)
def _shell_has_the_worlds_key(monkeypatch: pytest.MonkeyPatch) -> None:
    shell_has_the_worlds_key(monkeypatch)


class Terminal(io.StringIO):
    """stdin as a person's terminal (isatty), never read: getpass asks."""

    def isatty(self) -> bool:
        return True


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
         stdin: io.StringIO | None = None) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", stdin if stdin is not None else io.StringIO(""))
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _signs_in(world: World, login: str, password: str) -> bool:
    with world.services.db.write() as conn:
        return users.sign_in(conn, login, password, now=world.clock()).secret is not None


def _listed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            world: World) -> dict[str, dict[str, object]]:
    code, out, err = _run(capsys, monkeypatch, "user", "list", "--json", "--database",
                          world.services.settings.database_url)
    assert code == 0, err
    return {row["login"]: row for row in json.loads(out)}


def test_an_account_made_with_a_password_from_stdin_signs_in(
        world: World, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = world.services.settings.database_url
    code, out, err = _run(capsys, monkeypatch, "user", "create", "zhang.san", "--org", "linyin",
                          "--role", "locality", "--role", "government", "--name", "张三",
                          "--database", url, stdin=io.StringIO("correct horse battery\n"))
    assert code == 0, err
    assert out == ""  # a password given is never printed back
    assert "zhang.san" in err and "locality, government" not in err
    assert "government, locality" in err and "org linyin" in err
    assert _signs_in(world, "Zhang.San", "correct horse battery")
    row = _listed(capsys, monkeypatch, world)["zhang.san"]
    assert (row["name"], row["scope"], row["scope_id"], row["roles"], row["state"]) == (
        "张三", "org", "linyin", ["government", "locality"], "active")
    assert "password_hash" not in row

    code, out, _ = _run(capsys, monkeypatch, "user", "list", "--database", url)
    line = next(x for x in out.splitlines() if "zhang.san" in x)
    assert line.split()[1:6] == ["active", "org", "linyin", "government,locality", "zhang.san"]
    assert line.split()[0] == str(row["id"])


def test_on_a_terminal_the_password_is_asked_twice(
        world: World, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = world.services.settings.database_url
    asked: list[str] = []
    answers = iter(["twice the same", "twice the same", "one thing", "another thing"])

    def typed(prompt: str = "") -> str:
        asked.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", typed)
    code, _, err = _run(capsys, monkeypatch, "user", "create", "li.si", "--unit", "u-chem-01",
                        "--role", "principal", "--database", url, stdin=Terminal())
    assert code == 0, err
    assert asked == ["New password: ", "The new password again: "]
    assert _signs_in(world, "li.si", "twice the same")

    code, _, err = _run(capsys, monkeypatch, "user", "reset-password", "li.si",
                        "--database", url, stdin=Terminal())
    assert code == 1
    assert "the two passwords differ; nothing was changed" in err
    assert _signs_in(world, "li.si", "twice the same")


def test_a_generated_password_is_printed_once_and_works(
        world: World, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = world.services.settings.database_url
    code, out, err = _run(capsys, monkeypatch, "user", "create", "wang.wu", "--admin",
                          "--generate", "--database", url)
    assert code == 0, err
    password = out.strip()
    assert len(password) >= 16 and password not in err
    assert _signs_in(world, "wang.wu", password)
    assert _listed(capsys, monkeypatch, world)["wang.wu"]["scope"] == "admin"


def test_a_password_is_never_an_argument(world: World, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    url = world.services.settings.database_url
    for argv in (["user", "create", "zhao.liu", "--admin", "--password", "hunter2hunter2"],
                 ["user", "create", "zhao.liu", "--admin", "--password=hunter2hunter2"],
                 ["user", "reset-password", "admin", "--password", "hunter2hunter2"]):
        with pytest.raises(SystemExit) as exit_:
            _run(capsys, monkeypatch, *argv, "--database", url)
        assert exit_.value.code == 2
        assert "--password" in capsys.readouterr().err
    assert "zhao.liu" not in _listed(capsys, monkeypatch, world)


def test_disable_ends_the_account_and_reset_password_lifts_the_lock(
        world: World, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = world.services.settings.database_url
    # the commands read the real clock, not the world's: the lock must last past it
    with world.services.db.write() as conn:
        for _ in range(users.MAX_FAILURES):
            users.sign_in(conn, "locality", "not the password", now=system_clock())
    assert _listed(capsys, monkeypatch, world)["locality"]["state"] == "locked"
    code, _, err = _run(capsys, monkeypatch, "user", "reset-password", "LOCALITY",
                        "--password-stdin", "--database", url,
                        stdin=io.StringIO("a fresh start\n"))
    assert code == 0, err
    assert "locality" in err and "lock lifted" in err
    assert _listed(capsys, monkeypatch, world)["locality"]["state"] == "active"
    assert _signs_in(world, "locality", "a fresh start")

    code, _, err = _run(capsys, monkeypatch, "user", "disable", "locality", "--database", url)
    assert code == 0, err
    assert "user locality disabled" in err
    assert _listed(capsys, monkeypatch, world)["locality"]["state"] == "disabled"
    assert not _signs_in(world, "locality", "a fresh start")
    with world.services.db.read() as conn:
        row = users.by_login(conn, "locality")
        actions = [(e["action"], e["actor"]) for e in audit.history(conn, f"user:{row.id}")]
    assert ("reset_password", "paicha user reset-password") in actions
    assert actions[-1] == ("disable", "paicha user disable")


@pytest.mark.parametrize(("argv", "stdin", "said"), [
    (["create", "x1", "--role", "locality"], "long enough\n",
     "say the scope: --org ORG, --unit UNIT or --admin"),
    (["create", "x1", "--org", "nowhere", "--role", "locality"], "long enough\n",
     "nowhere"),
    (["create", "x1", "--org", "linyin", "--role", "principal"], "long enough\n",
     "principal"),
    (["create", "x1", "--admin"], "short\n", "8"),
    (["create", "x1", "--admin"], "\n", "no password read"),
    (["create", "admin", "--admin"], "long enough\n", "'admin'"),
    (["create", "zhang san", "--admin"], "long enough\n", "'zhang san'"),
    (["disable", "nobody"], "", "nobody"),
    (["reset-password", "nobody"], "long enough\n", "nobody"),
    (["reset-password", "principal"], "principal\n", "login"),
])
def test_refusals_say_what_is_wrong(argv: list[str], stdin: str, said: str, world: World,
                                    capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = world.services.settings.database_url
    code, out, err = _run(capsys, monkeypatch, "user", *argv, "--database", url,
                          stdin=io.StringIO(stdin))
    assert code in (1, 2), out
    assert out == ""
    assert err.startswith("paicha user "), err
    assert said in err, err


def test_the_commands_speak_chinese(world: World, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url = world.services.settings.database_url
    code, _, err = _run(capsys, monkeypatch, "--lang", "zh", "user", "create", "chen.qi",
                        "--org", "linyin", "--role", "locality", "--database", url,
                        stdin=io.StringIO("一个足够长的密码\n"))
    assert code == 0, err
    assert "已创建" in err
    code, _, err = _run(capsys, monkeypatch, "--lang", "zh", "user", "disable", "nobody",
                        "--database", url)
    assert code == 1 and "paicha user disable：" in err
