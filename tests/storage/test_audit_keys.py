"""Where the audit key comes from, the key file the first `paicha serve` makes, sealing at
start, and processes that would write a sealed log without its key."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from api.services import campaign_loader
from paicha import serve
from paicha.cli import main
from paicha.files import bundled_dir
from storage import audit_key, audit_seal, audit_verify
from storage.audit_key import AuditKey, AuditKeyInvalid
from storage.bootstrap import prepare
from storage.campaigns import CampaignRegistry
from storage.db import Database
from storage.tables import AuditEntry
from tests.support.world import START, World

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
HAND_MADE = "0123456789abcdef0123456789abcdef-by-hand"


@pytest.fixture
def key_path(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where this database's key file is: the default beside an SQLite file; for PostgreSQL,
    a path given by PAICHA_AUDIT_KEY_FILE."""
    monkeypatch.delenv(audit_key.ENV_KEY, raising=False)
    monkeypatch.delenv(audit_key.ENV_FILE, raising=False)
    if database_url.startswith("sqlite"):
        return Path(database_url.removeprefix("sqlite:///") + ".audit-key")
    path = tmp_path / "keys" / "paicha-audit.key"
    path.parent.mkdir()
    monkeypatch.setenv(audit_key.ENV_FILE, str(path))
    return path


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """`paicha serve` does everything up to serving, then returns."""
    def started(server: serve._Server) -> None:
        server.started = True

    monkeypatch.setattr(serve._Server, "run", started)
    monkeypatch.setattr(serve, "freeze_startup_heap", lambda: None)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave a new file readable by all: the key file must not be."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _serve(url: str) -> int:
    return main(["serve", "--database", url, "--no-scheduler"])


def _verify(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", "--database", url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _unsigned_log(url: str) -> None:
    """A database written before it had a key: campaigns published, unsigned."""
    db = Database(url)
    try:
        prepare(db, CampaignRegistry(campaign_loader), bundled_dir(), now=START)
    finally:
        db.dispose()


def test_the_first_serve_makes_a_key_file_for_its_owner_alone_and_seals(
        database_url: str, key_path: Path, no_server: None, open_umask: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    _unsigned_log(database_url)  # a deployment upgraded to signed audit entries
    assert not key_path.exists()
    assert _serve(database_url) == 0
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    made = key_path.read_text()
    assert "made now" in capsys.readouterr().err
    code, said = _verify(database_url, capsys)
    assert code == 0, said
    assert "intact" in said and "signatures checked" in said
    db = Database(database_url)
    try:
        with db.read() as conn:
            assert conn.execute(select(entry_t.c.id).where(entry_t.c.mac.is_(None))
                                ).first() is None
            assert audit_verify.seal_of(conn) is not None
    finally:
        db.dispose()
    # the next serve finds the key and leaves it as it was
    assert _serve(database_url) == 0
    assert key_path.read_text() == made
    assert _verify(database_url, capsys)[0] == 0


def test_serve_will_not_make_a_new_key_for_a_sealed_log_nor_take_another(
        database_url: str, key_path: Path, no_server: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _serve(database_url) == 0
    key_path.unlink()  # lost, or never copied to this machine
    capsys.readouterr()
    assert _serve(database_url) == 1
    assert "restore the key file from its backup" in capsys.readouterr().err
    assert not key_path.exists()
    monkeypatch.setenv(audit_key.ENV_KEY, HAND_MADE)  # another replica's own key
    assert _serve(database_url) == 1
    assert "is not the key" in capsys.readouterr().err


def test_a_key_set_by_hand_on_an_unsigned_log_waits_for_audit_seal(
        database_url: str, key_path: Path, no_server: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The log might have been stripped of its signatures and seal: serve does not vouch for
    it by itself; `paicha audit seal` does, when told to."""
    _unsigned_log(database_url)
    monkeypatch.setenv(audit_key.ENV_KEY, HAND_MADE)
    assert _serve(database_url) == 0
    assert "WARNING: the audit log is not sealed" in capsys.readouterr().err
    code, said = _verify(database_url, capsys)
    assert code == 1 and "the log: the log is not sealed" in said
    assert main(["audit", "seal", "--database", database_url]) == 0
    assert _verify(database_url, capsys)[0] == 0
    assert main(["audit", "seal", "--database", database_url]) == 1
    assert "sealed already" in capsys.readouterr().err
    assert not key_path.exists()


def test_writers_without_the_key_refuse_a_sealed_log(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = world.services.settings.database_url
    monkeypatch.delenv(audit_key.ENV_KEY, raising=False)
    monkeypatch.delenv(audit_key.ENV_FILE, raising=False)
    monkeypatch.chdir(tmp_path)  # no paicha-audit.key here either
    assert main(["token", "create", "--admin", "--database", url]) == 1
    assert "has no audit key" in capsys.readouterr().err
    monkeypatch.setenv(audit_key.ENV_KEY, HAND_MADE)  # a key, but not this log's
    assert main(["token", "create", "--admin", "--database", url]) == 1
    assert "is not the key" in capsys.readouterr().err
    keyless = Database(url)
    try:
        with pytest.raises(AuditKeyInvalid, match="has no audit key"):
            audit_seal.check_key(keyless)
    finally:
        keyless.dispose()


# -- the settings -----------------------------------------------------------------------------

def test_the_key_comes_from_the_setting_or_the_file_beside_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(audit_key.ENV_KEY, raising=False)
    monkeypatch.delenv(audit_key.ENV_FILE, raising=False)
    url = f"sqlite:///{tmp_path / 'paicha.db'}"
    assert audit_key.key_file(url) == tmp_path / "paicha.db.audit-key"
    assert audit_key.key_file("postgresql+psycopg://u@h/db") == Path("paicha-audit.key")
    assert audit_key.configured(url) is None
    made = audit_key.create(tmp_path / "paicha.db.audit-key")
    found = audit_key.configured(url)
    assert found is not None and found.fingerprint == made.fingerprint
    monkeypatch.setenv(audit_key.ENV_KEY, HAND_MADE)
    given = audit_key.configured(url)
    assert given is not None and given.secret == HAND_MADE.encode()
    assert HAND_MADE not in repr(given)


def test_a_short_key_is_refused_and_a_key_file_never_overwritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(audit_key.ENV_KEY, "changeme")
    with pytest.raises(AuditKeyInvalid, match="has 8 characters; it needs at least 32"):
        audit_key.configured("sqlite:///paicha.db")
    monkeypatch.delenv(audit_key.ENV_KEY)
    monkeypatch.setenv(audit_key.ENV_FILE, str(tmp_path / "there.key"))
    (tmp_path / "there.key").write_text("too short\n")
    with pytest.raises(AuditKeyInvalid, match=f"from {tmp_path / 'there.key'} has 9 char"):
        audit_key.configured("sqlite:///paicha.db")
    with pytest.raises(AuditKeyInvalid, match="exists already"):
        audit_key.create(tmp_path / "there.key")


def test_an_entry_signature_and_a_head_signature_differ() -> None:
    key = AuditKey(b"k" * 32, "tests")
    digest = "ab" * 32
    assert key.entry_mac(digest) != key.head_mac("org:x", 1, digest)
    assert key.head_mac("org:x", 1, digest) != key.head_mac("org:y", 1, digest)
    assert key.head_mac("org:x", 1, digest) != key.head_mac("org:x", 2, digest)
