"""The one catalogue of what people read (engine.texts): Chinese and English hold the same
ids with the same placeholders, every problem code the code base can produce has a title in
both, and the language is chosen from `Accept-Language` and `--lang`."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from engine import texts

ROOT = Path(__file__).resolve().parents[2]
CODE = ("engine", "storage", "api", "deadlines", "paicha", "web")
# The API's producers of problems that take the code as a positional argument, and where.
PRODUCERS = {"problem": 1, "_answer": 4, "WorkStopped": 1, "Limits": 1}
# A code passed on from where it was produced (an error's `code`, a route's `body_code`, a
# helper's parameter): its producer is walked where it is made.
PASSED_ON = {"code", "body_code"}


def _constants(tree: ast.AST) -> dict[str, str]:
    """A module's names bound to a string (`SEALED = "audit_sealed"`)."""
    return {target.id: node.value.value for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def problem_codes() -> dict[str, str]:
    """Every problem code the code base can produce, with a file that produces it: a
    `code = "…"` of an error class, a `code="…"` argument, the code argument of the API's
    problem makers (PRODUCERS). A code given otherwise than as a string or a module's string
    constant fails here, so that none slips past the catalogue."""
    found: dict[str, str] = {}
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = _constants(tree)
            where = path.relative_to(ROOT).as_posix()
            for node in ast.walk(tree):
                given: list[ast.expr] = []
                if isinstance(node, ast.ClassDef):
                    given += [s.value for s in node.body if isinstance(s, ast.Assign)
                              and any(isinstance(t, ast.Name) and t.id == "code"
                                      for t in s.targets)]
                if isinstance(node, ast.Call):
                    given += [k.value for k in node.keywords if k.arg == "code"]
                    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                    at = PRODUCERS.get(name) if folder == "api" else None
                    if at is not None and len(node.args) > at:
                        given.append(node.args[at])
                for value in given:
                    if isinstance(value, ast.Constant) and isinstance(value.value, int):
                        continue  # an exit status (CommandFailed(…, code=2))
                    strings = [s.value for s in ast.walk(value)
                               if isinstance(s, ast.Constant) and isinstance(s.value, str)]
                    strings += [names[s.id] for s in ast.walk(value)
                                if isinstance(s, ast.Name) and s.id in names]
                    dynamic = ((isinstance(value, ast.Attribute) and value.attr in PASSED_ON)
                               or (isinstance(value, ast.Name) and value.id in PASSED_ON))
                    assert strings or dynamic, f"{where}:{value.lineno}: a code the test " \
                                               "cannot read; give it as a string"
                    for code in strings:
                        found.setdefault(code, f"{where}:{value.lineno}")
    return found


@pytest.fixture
def product_default() -> None:
    """Chinese where nothing names a language, as shipped (the suite speaks English)."""
    texts.set_default(None)


def test_a_deployment_may_choose_its_default_language() -> None:
    texts.set_default("en_US.UTF-8")
    assert (texts.default(), texts.negotiate(None), texts.negotiate("*")) == ("en", "en", "en")
    assert texts.t("problem.not_found.title") == "Not found"
    texts.set_default(None)
    assert (texts.default(), texts.negotiate(None)) == ("zh", "zh")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_walk_finds_the_codes_of_every_kind() -> None:
    codes = problem_codes()
    # a class attribute, a keyword argument, a module constant, the API's own problem()
    assert {"case_not_found", "bad_cursor", "audit_sealed", "no_such_route",
            "internal_error"} <= set(codes)


def test_every_problem_code_has_a_chinese_and_an_english_title() -> None:
    missing = {lang: sorted(f"{code} ({where})" for code, where in problem_codes().items()
                            if not texts.ids(lang).get(f"problem.{code}.title"))
               for lang in texts.LANGUAGES}
    assert missing == {"zh": [], "en": []}, (
        "add a title for each code to engine/locale/zh/core.po and en/core.po")


def test_no_title_for_a_code_nothing_produces() -> None:
    codes = set(problem_codes())
    titled = {key.split(".")[1] for key in texts.ids("zh")
              if key.startswith("problem.") and key.endswith(".title")}
    assert sorted(titled - codes) == []


def test_work_stopped_is_told_in_every_language() -> None:
    """api.guard says a stopped work's problem from the catalogue by its code."""
    tree = ast.parse((ROOT / "api/offload.py").read_text(encoding="utf-8"))
    codes = {node.args[1].value for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", "") == "WorkStopped"
             and isinstance(node.args[1], ast.Constant)}
    assert codes == {"server_stopping", "request_ended", "client_left"}
    for lang in texts.LANGUAGES:
        assert all(texts.ids(lang).get(f"problem.{code}.detail") for code in codes), lang


def test_every_problem_code_is_documented() -> None:
    documented = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    assert sorted(code for code in problem_codes() if f"`{code}`" not in documented) == [], (
        "add the code to the table of docs/api.md#errors")


def test_each_language_has_the_same_files_and_no_id_twice() -> None:
    assert texts.areas("zh") == texts.areas("en")
    assert "core" in texts.areas("zh")
    for lang in texts.LANGUAGES:
        seen: dict[str, str] = {}
        for area in texts.areas(lang):
            keys = set(texts.entries(lang, area))
            assert {k: seen[k] for k in keys if k in seen} == {}, (lang, area)
            seen.update(dict.fromkeys(keys, area))
    for area in texts.areas("zh"):
        assert set(texts.entries("zh", area)) == set(texts.entries("en", area)), area


def test_chinese_and_english_hold_the_same_ids_and_placeholders() -> None:
    zh, en = texts.ids("zh"), texts.ids("en")
    assert sorted(set(zh) ^ set(en)) == []
    assert [k for k in zh if not zh[k] or not en[k]] == []
    assert {k: (_placeholders(zh[k]), _placeholders(en[k])) for k in zh
            if _placeholders(zh[k]) != _placeholders(en[k])} == {}


def test_chinese_titles_are_chinese() -> None:
    zh = texts.ids("zh")
    latin = [k for k, v in zh.items() if k.startswith("problem.") and k.endswith(".title")
             and not any("\u4e00" <= c <= "\u9fff" for c in v)]
    assert latin == []


def test_a_text_is_chinese_by_default_and_english_on_request() -> None:
    texts.set_default(None)  # the product's default; the suite speaks English (conftest)
    assert texts.default() == "zh"
    assert texts.t("problem.not_found.title") == "未找到"
    assert texts.t("problem.not_found.title", "en") == "Not found"
    with texts.use("en"):
        assert texts.t("simulate.clock_stopped.left", clock="整改期限", state="整改中") == \
            "整改期限 stopped (left 整改中)"
    assert texts.t("simulate.clock_stopped.left", clock="整改期限", state="整改中") == \
        "整改期限停止计时（离开整改中）"


def test_an_id_the_catalogue_lacks_shows_itself_rather_than_failing() -> None:
    assert texts.t("problem.no_such_code.title") == "problem.no_such_code.title"


@pytest.mark.usefixtures("product_default")
@pytest.mark.parametrize(("header", "language"), [
    (None, "zh"), ("", "zh"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("zh-CN", "zh"),
    ("fr, en;q=0.5", "en"), ("en;q=0.5, zh;q=0.8", "zh"), ("zh;q=0.1, en;q=0.2", "en"),
    ("en;q=0", "zh"), ("*", "zh"), ("de", "zh"), ("en;q=abc, zh;q=0.1", "zh"),
    ("EN-gb", "en"),
])
def test_accept_language_picks_the_best_supported_language(
        header: str | None, language: str) -> None:
    assert texts.negotiate(header) == language


@pytest.mark.usefixtures("product_default")
@pytest.mark.parametrize(("header", "language"), [
    ("en;q=nan", "zh"), ("en;q=-1", "zh"), ("en;q=", "zh"), (";;;,,,;q=1", "zh"),
    ("en;q=0.5;q=0", "zh"), ("\u00e9n, \u4e2d\u6587", "zh"), ("-en", "zh"),
])
def test_an_accept_language_that_says_nothing_readable_leaves_chinese(
        header: str, language: str) -> None:
    assert texts.negotiate(header) == language


@pytest.mark.usefixtures("product_default")
def test_a_huge_accept_language_is_read_in_one_pass() -> None:
    # a header as big as a server lets through (uvicorn: some tens of kB) costs a linear scan
    huge = ", ".join(["de;q=0.9"] * 20_000 + ["en;q=0.95"])
    assert texts.negotiate(huge) == "en"
    assert texts.negotiate("x" * 200_000) == "zh"


@pytest.mark.usefixtures("product_default")
@pytest.mark.parametrize(("value", "language"), [
    ("en", "en"), ("en_US.UTF-8", "en"), ("zh_CN.UTF-8", "zh"), ("", "zh"), (None, "zh"),
    ("fr", "zh"),
])
def test_lang_and_paicha_lang_name_a_language(value: str | None, language: str) -> None:
    assert texts.chosen(value) == language
