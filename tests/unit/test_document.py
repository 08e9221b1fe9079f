"""Safe YAML reading with positions."""

from __future__ import annotations

import pytest

from engine.document import DocumentError, Mapping, locate, parse


def test_values_remember_their_line_and_column() -> None:
    doc = parse("a: 1\nlist:\n  - x\n  - {id: y, due: 2023-05-01}\n", "f.yaml")
    mark = locate(doc, ["list", 1, "due"])
    assert (mark.source, mark.line, mark.column) == ("f.yaml", 4, 18)
    assert locate(doc, ["list", 1, "due"], key=True).column == 13


def test_dates_stay_text_and_only_true_false_are_booleans() -> None:
    doc = parse("due: 2023-05-01\nanswer: no\nflag: on\nreal: true\n", "f.yaml")
    assert doc == {"due": "2023-05-01", "answer": "no", "flag": "on", "real": True}


def test_a_missing_path_points_at_the_nearest_ancestor() -> None:
    doc = parse("a:\n  b: 1\nc: {d: 1}\n", "f.yaml")
    assert locate(doc, ["a", "zzz", 3]).line == 1  # a block value is named by its key
    assert locate(doc, ["c", "zzz"]).column == 4  # a flow value by where it starts


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    with pytest.raises(DocumentError) as caught:
        parse("id: a\ntitle: t\nid: b\n", "f.yaml")
    problem = caught.value.problems[0]
    assert (problem.line, problem.path) == (3, "$.id")
    assert "line 1" in problem.hint


def test_python_tags_are_refused() -> None:
    with pytest.raises(DocumentError) as caught:
        parse("x: !!python/object/apply:os.system ['echo hi']\n", "f.yaml")
    assert caught.value.problems[0].line == 1


def test_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(DocumentError) as caught:
        parse("\n".join(lines) + "\n", "bomb.yaml")
    assert "aliases" in caught.value.problems[0].message


def test_modest_aliases_are_allowed() -> None:
    doc = parse("roles: &r [a, b]\nother: *r\n", "f.yaml")
    assert doc["other"] == ["a", "b"]


def test_size_limit() -> None:
    with pytest.raises(DocumentError) as caught:
        parse("x: " + "y" * 200, "big.yaml", max_bytes=100)
    assert "larger than 100 bytes" in caught.value.problems[0].message


def test_syntax_error_is_located() -> None:
    with pytest.raises(DocumentError) as caught:
        parse("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    assert caught.value.problems[0].line >= 2
    assert "YAML syntax" in caught.value.problems[0].message


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(DocumentError):
        parse("- a\n- b\n", "f.yaml")


def test_mapping_type() -> None:
    assert isinstance(parse("a: {b: 1}\n", "f.yaml")["a"], Mapping)


@pytest.mark.parametrize(("text", "where", "message"), [
    # Python refuses to turn 4,300 digits or more into an int: it was a 500
    ("a: 1\nbig: " + "9" * 100_000 + "\n", (2, 6, "$.big"), "a number of 100,000 characters"),
    ("a: [1, " + "9" * 5_000 + "]\n", (1, 8, "$.a[1]"), "a number of 5,000 characters"),
    # YAML 1.1's base 60 (1:2:3) multiplies a growing integer once per part
    ("n: 1" + ":5" * 20_000 + "\n", (1, 4, "$.n"), "a number of 40,001 characters"),
    ("? " + "9" * 10_000 + "\n: 1\n", (1, 3, "$"), "a key of 10,000 characters"),
    ("? " + "k" * 300_000 + "\n: 1\n", (1, 3, "$"), "a key of 300,000 characters"),
    ("a: '" + "x" * 30_000 + "'\n", (1, 4, "$.a"), "a value of 30,000 characters"),
], ids=["integer", "integer-in-a-list", "base-60", "integer-key", "long-key", "long-text"])
def test_overlong_values_and_keys_are_problems_at_their_place(
        text: str, where: tuple[int, int, str], message: str) -> None:
    with pytest.raises(DocumentError) as caught:
        parse(text, "f.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.column, problem.path) == where
    assert problem.message == message


def test_long_texts_and_many_keys_within_the_limits_are_read() -> None:
    doc = parse("title: '" + "长" * 20_000 + "'\nid: x\n"
                + "".join(f"k{i}: {i}\n" for i in range(20_000)), "f.yaml")
    assert len(doc["title"]) == 20_000 and doc["k19999"] == 19_999
