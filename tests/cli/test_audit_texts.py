"""What `paicha audit …` and the audit log's refusals say, in the language of the command
(`--lang`) or of the request (`Accept-Language`): a tampered log, an export read back out of
order, a seal refused, an XLSX file refused before it is read. Each in Chinese and in English,
with the values at fault."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from paicha.cli import main
from storage import audit, audit_key
from storage.db import Database
from storage.tables import AuditEntry
from tests.api.test_import import XLSX, send
from tests.api.test_import_bounds import SHEET, UNITS, rezip, workbook
from tests.support.world import World

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
AT = dt.datetime(2023, 6, 1, 1, 0, tzinfo=dt.UTC)
KEY = "0123456789abcdef0123456789abcdef-for-the-texts"
CJK = re.compile(r"[\u4e00-\u9fff]")
LANGS = ["zh", "en"]


def chinese(text: str) -> bool:
    return bool(CJK.search(text))


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No audit key but the one a test sets: none from the environment or a key file."""
    monkeypatch.delenv(audit_key.ENV_KEY, raising=False)
    monkeypatch.setenv(audit_key.ENV_FILE, str(tmp_path / "no-such.key"))


@pytest.fixture
def logged(database_url: str, no_key: None) -> Iterator[Database]:
    """Two streams written without a key: case:one of 4 entries, case:two of 2."""
    db = Database(database_url)
    with db.write() as conn:
        for stream, count in (("case:one", 4), ("case:two", 2)):
            for index in range(count):
                audit.append(conn, stream=stream, at=AT + dt.timedelta(minutes=index),
                             actor="tester", role="principal", action=f"step{index}",
                             from_state="a", to_state="b", data={"n": index})
    yield db
    db.dispose()


def _tamper(db: Database, actor: str = "someone else") -> None:
    with db.write() as conn:
        conn.execute(update(entry_t).where(entry_t.c.stream == "case:one", entry_t.c.seq == 1)
                     .values(actor=actor))


def _run(lang: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--lang", lang, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("lang", LANGS)
def test_verify_tells_a_tampered_log_in_the_commands_language(
        logged: Database, database_url: str, lang: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(lang, "audit", "verify", "--database", database_url, capsys=capsys)
    assert code == 0
    assert err.strip() == {
        "zh": "审计日志完好：2 条审计链，共 6 个条目；未签名：没有审计密钥，8 项未签名",
        "en": "audit log intact: 6 entries in 2 streams, not signed: no audit key, "
              "8 unsigned"}[lang]
    _tamper(logged)
    code, out, err = _run(lang, "audit", "verify", "--database", database_url, capsys=capsys)
    assert code == 1
    assert out.splitlines() == {
        "zh": ["case:one #1：内容与其哈希值不符：写入后被改动"],
        "en": ["case:one #1: content does not match its hash: changed after it was written"],
    }[lang]
    assert {"zh": "审计日志已被破坏，共 1 处异常：2 条审计链，共 6 个条目",
            "en": "audit log BROKEN in 1 place(s): 6 entries in 2 streams"}[lang] in err
    assert chinese(out + err) is (lang == "zh")


@pytest.mark.parametrize("lang", LANGS)
def test_an_export_read_back_out_of_order_is_refused_with_the_line(
        logged: Database, database_url: str, lang: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    exported = tmp_path / "heads.jsonl"
    code, _, err = _run(lang, "audit", "export", "--database", database_url,
                        "--output", str(exported), capsys=capsys)
    assert code == 0
    assert err.startswith({"zh": f"已将 2 条审计链的链头导出到 {exported}；",
                           "en": f"exported the heads of 2 streams to {exported}; "}[lang])
    code, _, err = _run(lang, "audit", "export", "--database", database_url,
                        "--output", str(exported), capsys=capsys)
    assert code == 2
    assert err.strip() == {"zh": f"paicha audit export：{exported} 已存在；请指定一个新文件",
                           "en": f"paicha audit export: {exported} exists; name a new file"
                           }[lang]
    code, _, err = _run(lang, "audit", "verify", "--database", database_url,
                        "--heads", str(exported), capsys=capsys)
    assert code == 0
    assert {"zh": f"；覆盖 {exported} 中的全部链头",
            "en": f"; reaches every head of {exported}"}[lang] in err

    shuffled = tmp_path / "shuffled.jsonl"
    header, *lines = exported.read_text(encoding="utf-8").splitlines()
    shuffled.write_text("\n".join([header, *reversed(lines)]) + "\n", encoding="utf-8")
    code, _, err = _run(lang, "audit", "verify", "--database", database_url,
                        "--heads", str(shuffled), capsys=capsys)
    assert code == 1
    assert err.strip() == {
        "zh": f"paicha audit verify：{shuffled}:3：审计链 'case:one' 排在 'case:two' 之后：链头须"
              "保持导出时的顺序；请提供 `paicha audit export` 导出的文件",
        "en": f"paicha audit verify: {shuffled}:3: stream 'case:one' comes after 'case:two': "
              "the heads must stay in the order they were exported; give a file `paicha audit "
              "export` wrote"}[lang]


@pytest.mark.parametrize("lang", LANGS)
def test_a_seal_is_refused_on_a_broken_log_and_once_sealed(
        logged: Database, database_url: str, lang: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(audit_key.ENV_KEY, "too short")
    code, _, err = _run(lang, "audit", "seal", "--database", database_url, capsys=capsys)
    assert code == 1
    assert err.strip() == {
        "zh": "paicha audit seal：来自 $PAICHA_AUDIT_KEY 的审计密钥只有 9 个字符，至少需要 32 个："
              "可用 `python -c 'import secrets; print(secrets.token_hex(32))'` 生成",
        "en": "paicha audit seal: the audit key from $PAICHA_AUDIT_KEY has 9 characters; it "
              "needs at least 32: make one with `python -c 'import secrets; "
              "print(secrets.token_hex(32))'`"}[lang]

    monkeypatch.setenv(audit_key.ENV_KEY, KEY)
    fingerprint = audit_key.from_text(KEY, "test").fingerprint
    _tamper(logged)
    code, _, err = _run(lang, "audit", "seal", "--database", database_url, capsys=capsys)
    assert code == 1
    assert err.splitlines() == {
        "zh": ["case:one #1：内容与其哈希值不符：写入后被改动",
               "paicha audit seal：审计日志不完整（1 处异常，第一处：case:one #1：内容与其哈希值"
               "不符：写入后被改动）；请先查明原因（`paicha audit verify`）并从备份恢复，再行封存"],
        "en": ["case:one #1: content does not match its hash: changed after it was written",
               "paicha audit seal: the audit log does not hold (1 break(s), the first: case:one "
               "#1: content does not match its hash: changed after it was written); find out "
               "what happened (`paicha audit verify`) and restore from a backup before "
               "sealing"]}[lang]

    _tamper(logged, actor="tester")  # as it was written
    code, _, err = _run(lang, "audit", "seal", "--database", database_url, capsys=capsys)
    assert code == 0
    assert err.strip() == {
        "zh": f"审计日志已用密钥 {fingerprint} 封存：签名 6 个条目、2 个链头",
        "en": f"audit log sealed with key {fingerprint}: 6 entries and 2 heads signed"}[lang]
    code, _, err = _run(lang, "audit", "seal", "--database", database_url, capsys=capsys)
    assert code == 1
    assert re.fullmatch({
        "zh": r"paicha audit seal：审计日志已于 \d{4}-\d\d-\d\d 由 paicha audit seal 封存",
        "en": r"paicha audit seal: the audit log was sealed already, on \d{4}-\d\d-\d\d by "
              r"paicha audit seal"}[lang], err.strip()), err

    monkeypatch.delenv(audit_key.ENV_KEY)
    code, out, err = _run(lang, "audit", "verify", "--database", database_url, capsys=capsys)
    assert code == 1
    assert out.splitlines()[0] == {
        "zh": f"审计日志：审计日志已封存（密钥 {fingerprint}），但未提供审计密钥，"
              "签名均未核验：请设置 PAICHA_AUDIT_KEY 或 PAICHA_AUDIT_KEY_FILE",
        "en": f"the log: the log is sealed (key {fingerprint}) and no audit key was given, so no "
              "signature was checked: set PAICHA_AUDIT_KEY or PAICHA_AUDIT_KEY_FILE"}[lang]
    assert {"zh": "签名未核验", "en": "signatures NOT checked"}[lang] in err


def _with_a_dtd() -> bytes:
    def change(name: str, data: bytes) -> bytes:
        return b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + data if name == SHEET else data
    return rezip(workbook(UNITS), change)


DTD_REFUSED = {"zh": "该 XLSX 文件的部件 xl/worksheets/sheet1.xml 声明了 DTD（<!DOCTYPE>），"
                     "Excel 从不写入此类声明",
               "en": "part xl/worksheets/sheet1.xml of the XLSX file declares a DTD "
                     "(<!DOCTYPE>), which Excel never writes"}


@pytest.mark.parametrize("lang", LANGS)
def test_an_xlsx_file_refused_before_it_is_read_says_why(
        world: World, lang: str, tmp_path: Path, no_key: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "units.xlsx"
    book.write_bytes(_with_a_dtd())
    code, _, err = _run(lang, "import", "units", str(book), "--dry-run",
                        "--database", world.services.settings.database_url, capsys=capsys)
    assert code == 1
    assert DTD_REFUSED[lang] in err


# -- through the API: the caller's Accept-Language ----------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_api_tells_breaks_and_refused_files_in_the_callers_language(
        client: TestClient, world: World, lang: str) -> None:
    headers = world.auth("admin") | {"Accept-Language": lang}
    answer = send(client, "units", _with_a_dtd(), headers, media=XLSX)
    assert answer.status_code == 422, answer.text
    assert DTD_REFUSED[lang] in answer.json()["problems"][0]["message"]

    with world.services.db.write() as conn:
        first = conn.execute(select(entry_t.c.id, entry_t.c.stream, entry_t.c.seq)
                             .order_by(entry_t.c.id).limit(1)).one()
        conn.execute(update(entry_t).where(entry_t.c.id == first.id)
                     .values(actor="someone else"))
    verdict = client.get("/audit/verify", headers=headers).json()
    assert verdict["ok"] is False
    assert {"stream": first.stream, "seq": first.seq, "problem": {
        "zh": "内容与其哈希值不符：写入后被改动",
        "en": "content does not match its hash: changed after it was written"}[lang]
            } in verdict["breaks"]
