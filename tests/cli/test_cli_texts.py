"""What `paicha` prints for a person comes from the catalogue (engine/locale/<lang>/cli.po): in
Chinese with `--lang zh`, in English with `--lang en`, the values of the run in both — the
checker's verdict, an import's dry run and its bad row, an events file's problem, a new token,
and a command's --help (argparse's own words too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paicha.cli import main
from tests.support.world import World, shell_has_the_worlds_key

ROOT = Path(__file__).resolve().parents[2]
CHONGMING = str(ROOT / "campaigns" / "special-action-2023-chongming.yaml")


def chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def english(text: str) -> bool:
    return text.isascii()


def run(capsys: pytest.CaptureFixture[str], lang: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--lang", lang, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(("lang", "ok", "invalid"), [
    ("zh", "通过：1 个文件，0 个错误，", "未通过：1 个文件，2 个错误，0 个警告"),
    ("en", "ok: 1 file(s), 0 error(s), ", "invalid: 1 file(s), 2 error(s), 0 warning(s)"),
])
def test_validate_says_its_verdict_in_the_language(
        lang: str, ok: str, invalid: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, lang, "validate", CHONGMING)
    assert code == 0 and last_line(err).startswith(ok), err
    bad = tmp_path / "bad.yaml"
    bad.write_text("paicha: 1\nid: bad\n", encoding="utf-8")
    code, _, err = run(capsys, lang, "validate", str(bad))
    assert code == 1 and last_line(err) == invalid, err


@pytest.mark.parametrize(("lang", "wanted"), [
    ("zh", ["新建单位 u-fine-01  ", "试运行，未写入：将新建 1 条，更新 0 条；0 条不变",
            "units.csv:3:2  name  '=1+2' 以 '=' 开头，电子表格会将其作为公式执行",
            "请删去开头的字符", "paicha import units：", "；未写入任何数据"]),
    ("en", ["create unit u-fine-01  ",
            "dry run, nothing written: would create 1, update 0; 0 unchanged",
            "units.csv:3:2  name  '=1+2' starts with '=', which a spreadsheet runs as a formula",
            "remove the leading character", "paicha import units: ", "; nothing written"]),
])
def test_an_import_dry_run_and_its_bad_row_in_the_language(
        lang: str, wanted: list[str], world: World, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shell_has_the_worlds_key(monkeypatch)
    url = world.services.db.url
    units = tmp_path / "units.csv"
    units.write_text("id,name,org\nu-fine-01,好单位,linyin-c1\n", encoding="utf-8")
    code, out, err = run(capsys, lang, "import", "units", str(units), "--dry-run",
                         "--database", url)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(wanted[0]) and "  name=好单位" in lines[0], out
    assert lines[-1] == wanted[1]
    units.write_text("id,name,org\nu-fine-01,好单位,linyin-c1\nu-bad-01,=1+2,linyin-c1\n",
                     encoding="utf-8")
    code, _, err = run(capsys, lang, "import", "units", str(units), "--dry-run",
                       "--database", url)
    assert code == 1
    assert all(piece in err for piece in wanted[2:]), err


@pytest.mark.parametrize(("lang", "wanted"), [
    ("zh", ["events.yaml:3:", "事件中有未知的键 'uint'", "是否应为 'unit'？",
            "未知的案件类型 'hazrd'"]),
    ("en", ["events.yaml:3:", "unknown key 'uint' in an event", "did you mean 'unit'?",
            "unknown case type 'hazrd'"]),
])
def test_simulate_tells_an_events_files_problems_in_the_language(
        lang: str, wanted: list[str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.yaml"
    events.write_text("events:\n  - {at: 2023-06-01, case: h1, open: hazrd, as: principal,\n"
                      "     uint: u-chem, data: {}}\n", encoding="utf-8")
    code, _, err = run(capsys, lang, "simulate", CHONGMING, "--events", str(events))
    assert code == 1
    assert all(piece in err for piece in wanted), err


@pytest.mark.parametrize(("lang", "wanted"), [
    ("zh", "，角色：locality（org linyin），有效期至 "),
    ("en", " for locality (org linyin), expires "),
])
def test_a_new_tokens_line_in_the_language(
        lang: str, wanted: str, world: World, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    shell_has_the_worlds_key(monkeypatch)
    code, out, err = run(capsys, lang, "token", "create", "--org", "linyin", "--role",
                         "locality", "--expires", "30d", "--database", world.services.db.url)
    assert code == 0, err
    assert out.strip() and wanted in err
    told = err.strip()
    assert (chinese(told) and "令牌" in told) if lang == "zh" else english(told), told


@pytest.mark.parametrize(("lang", "wanted"), [
    ("zh", ["用法：paicha token create", "创建访问令牌", "显示本帮助并退出",
            "令牌管辖范围：这一个单位", "数据库 URL（默认："]),
    ("en", ["usage: paicha token create", "Make a bearer token holding ROLEs",
            "show this help message and exit", "the one unit the token reaches",
            "database URL (default: "]),
])
def test_a_commands_help_in_the_language(lang: str, wanted: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--lang", lang, "token", "create", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(piece in out for piece in wanted), out


@pytest.mark.parametrize(("lang", "wanted"), [
    ("zh", ["参数 --expires：'90x' 不是有效期", "：错误："]),
    ("en", ["argument --expires: '90x' is not a lifetime", ": error: "]),
])
def test_argparse_refuses_in_the_language(lang: str, wanted: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--lang", lang, "token", "create", "--expires", "90x"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert all(piece in err for piece in wanted), err


def test_paicha_lang_chooses_when_lang_is_not_given(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PAICHA_LANG", "zh_CN.UTF-8")
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "检查行动方案文件" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--lang=en", "validate", "--help"])  # --lang wins over PAICHA_LANG
    assert "Check campaign files" in capsys.readouterr().out
