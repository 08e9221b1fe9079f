"""`paicha token`: tokens with an expiry, listed with their state, revoked with the bound said."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from paicha.cli import main
from storage.tables import Token
from tests.support.world import World, shell_has_the_worlds_key

token_t = Token.__table__  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _shell_has_the_worlds_key(monkeypatch: pytest.MonkeyPatch) -> None:
    shell_has_the_worlds_key(monkeypatch)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("lifetime", "span"), [("90d", dt.timedelta(days=90)),
                                                ("12h", dt.timedelta(hours=12))])
def test_a_token_made_with_an_expiry_keeps_it(lifetime: str, span: dt.timedelta, world: World,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = world.services.settings.database_url
    code, out, err = _run(capsys, "token", "create", "--org", "linyin", "--role", "locality",
                          "--expires", lifetime, "--json", "--database", url)
    assert code == 0, err
    issued = json.loads(out)
    with world.services.db.read() as conn:
        row = conn.execute(select(token_t).where(token_t.c.id == issued["id"])).one()
    assert row.expires_at - row.created_at == span
    assert issued["expires_at"] == row.expires_at.isoformat()
    code, out, _ = _run(capsys, "token", "list", "--database", url)
    line = next(x for x in out.splitlines() if x.split()[0] == str(issued["id"]))
    assert line.split()[1:3] == ["active", f"{row.expires_at:%Y-%m-%d}"]


@pytest.mark.parametrize("lifetime", ["90", "90x", "0d", "-1d", "3661d", "1.5d"])
def test_a_lifetime_the_shell_cannot_mean_is_refused(
        lifetime: str, world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["token", "create", "--org", "linyin", "--role", "locality",
              f"--expires={lifetime}", "--database", world.services.settings.database_url])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --expires" in err and ("lifetime" in err or "lives from" in err), err


def test_revoking_from_the_shell_says_when_running_servers_notice(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    url = world.services.settings.database_url
    code, out, _ = _run(capsys, "token", "create", "--org", "linyin", "--role", "locality",
                        "--json", "--database", url)
    token_id = str(json.loads(out)["id"])
    code, _, err = _run(capsys, "token", "revoke", token_id, "--database", url)
    assert code == 0
    assert "within PAICHA_TOKEN_CACHE_SECONDS" in err
    _, out, _ = _run(capsys, "token", "list", "--database", url)
    assert next(x for x in out.splitlines() if x.split()[0] == token_id).split()[1] == "revoked"


def test_a_cache_setting_out_of_bounds_stops_serve_with_what_to_set(
        monkeypatch: pytest.MonkeyPatch, tmp_path: object,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PAICHA_TOKEN_CACHE_SECONDS", "3600")
    code, _, err = _run(capsys, "serve", "--database", f"sqlite:///{tmp_path}/never.db")
    assert code == 2
    assert "PAICHA_TOKEN_CACHE_SECONDS='3600'" in err and "from 0" in err
