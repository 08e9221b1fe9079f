"""The commands that open a database, on one that is not ready: never set up, migrated by
another paicha, or not there at all. Each says what is wrong and the fix, and exits 1."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from paicha.cli import main
from storage.db import alembic_config, current_revision, upgrade
from tests.support.db import PG_HINT, _admin, postgres_url

# every command that reads or writes the deployment's database, with its arguments
COMMANDS = [
    ["token", "create", "--admin"],
    ["token", "create", "--role", "locality", "--org", "linyin"],
    ["token", "list"],
    ["token", "revoke", "1"],
    ["audit", "verify"],
    ["report", "three-year-plan-2024-2026", "dispatch", "--org", "linyin"],
]


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database that exists and holds nothing: an empty SQLite file, a new PostgreSQL
    database."""
    if backend == "sqlite":
        path = tmp_path / "empty.db"
        engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
        with engine.connect() as conn:  # a file with no tables, as `sqlite3 empty.db` leaves
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
            conn.commit()
        engine.dispose()
        yield f"sqlite:///{path}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip(PG_HINT)
    name = f"paicha_empty_{uuid.uuid4().hex[:12]}"
    _admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _name(command: list[str]) -> str:
    """`token create`, `audit verify`; `report` (its arguments are no action)."""
    return command[0] if command[0] == "report" else f"{command[0]} {command[1]}"


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command (a traceback fails the test), insist on exit 1; its stderr."""
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_database_never_set_up_gets_the_advice(command: list[str], empty_database: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused([*command, "--database", empty_database], capsys)
    assert f"paicha {_name(command)}: " in err
    assert "is not set up: run `paicha db upgrade`" in err
    assert current_revision(empty_database) is None  # nothing was done to it


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_missing_sqlite_file_is_reported_not_created(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # the default database (paicha.db in the working directory), as after a fresh install
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PAICHA_DATABASE_URL", raising=False)
    err = _refused(command, capsys)
    assert f"there is no database at {tmp_path / 'paicha.db'}" in err
    assert "run `paicha db upgrade`" in err
    assert list(tmp_path.iterdir()) == []


def test_the_advice_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'paicha.db'}"
    _refused(["token", "create", "--admin", "--database", url], capsys)
    assert main(["db", "upgrade", "--database", url]) == 0
    assert main(["token", "create", "--admin", "--database", url]) == 0
    assert capsys.readouterr().out.startswith("pch_")


def test_a_database_behind_this_paicha_is_told_to_upgrade(
        database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as conn:  # as a paicha of the first release left it
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    err = _refused(["token", "list", "--database", database_url], capsys)
    assert f"is at revision 0001, this paicha needs {', '.join(heads)}" in err
    assert "run `paicha db upgrade`" in err


@pytest.mark.parametrize("command", [["audit", "verify"], ["token", "list"], ["db", "upgrade"],
                                     ["scheduler"], ["serve"]], ids=" ".join)
def test_a_database_of_a_newer_paicha_is_not_touched(
        command: list[str], database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    err = _refused([*command, "--database", database_url], capsys)
    assert "at revision 9999, which this paicha does not know" in err
    assert current_revision(database_url) == "9999"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # free again once closed: nobody listens there


@pytest.mark.parametrize("command", [*COMMANDS, ["db", "upgrade"], ["scheduler"], ["serve"]],
                         ids=" ".join)
def test_a_server_that_is_not_there(command: list[str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql+psycopg://paicha:secret@127.0.0.1:{_closed_port()}/paicha"
    err = _refused([*command, "--database", url], capsys)
    assert "cannot open the database postgresql+psycopg://paicha:***@127.0.0.1:" in err
    assert "secret" not in err


@pytest.mark.parametrize("url, upgrade_says, list_says", [
    ("paicha.db", *["'paicha.db' is not a database URL; write sqlite:///paicha.db"] * 2),
    ("sqlite://", *["use a file for SQLite"] * 2),
    ("sqlite:///no/such/folder/paicha.db", "unable to open database file (is its folder "
     "there", "there is no database at"),
])
def test_a_url_paicha_cannot_use(url: str, upgrade_says: str, list_says: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAICHA_DATABASE_URL", url)
    assert upgrade_says in _refused(["db", "upgrade"], capsys)
    assert list_says in _refused(["token", "list"], capsys)
    assert not os.listdir(tmp_path)


def test_upgrade_then_every_command_runs(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'paicha.db'}"
    upgrade(url)
    assert main(["token", "list", "--database", url]) == 0
    assert main(["audit", "verify", "--database", url]) == 0
