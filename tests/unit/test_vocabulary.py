"""engine.vocabulary: words by id, by whole Chinese name and by a name's short forms; ambiguous
and unknown words refused with a hint; a kind no campaign declares is not checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.vocabulary import UnknownTerm, Vocabulary, short_forms
from paicha.files import load_for_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundled() -> Vocabulary:
    """The words of the bundled campaigns together, as a server holding them all sees them."""
    return Vocabulary.of(load_for_command(path, warn=False).campaign
                         for path in sorted((ROOT / "campaigns").glob("*.yaml")))


def test_short_forms_of_names_with_a_slash_or_a_remark() -> None:
    assert short_forms("社区/村") == ["社区", "村"]
    assert short_forms("县/区") == ["县", "区"]
    assert short_forms("矿山（含尾矿库）") == ["矿山"]
    assert short_forms("村(居)/社区") == ["村(居)", "村", "社区"]
    assert short_forms("危险化学品") == []


def test_ids_whole_names_and_short_forms_resolve_to_ids(bundled: Vocabulary) -> None:
    assert bundled.resolve("industry", "危险化学品", field="industry") == "hazardous_chemicals"
    assert bundled.resolve("industry", "hazardous_chemicals", field="industry") == (
        "hazardous_chemicals")
    assert bundled.resolve("industry", " 矿山 ", field="industry") == "mining"
    for written in ("社区/村", "社区", "村", "村（居）", "村(居)/社区", "community"):
        assert bundled.resolve("level", written, field="level") == "community", written
    assert bundled.resolve("level", "区", field="level") == "county"
    assert bundled.resolve("tag", "人员密集场所", field="tags") == "crowded"
    assert bundled.resolve_all("tag", ["宾馆", "hotel", "商场"], field="tags") == ["hotel", "mall"]
    assert bundled.resolve("role", "安委会办公室", field="roles") == "safety_office"
    assert bundled.scopes("principal") == {"unit"}


def test_unknown_words_are_refused_with_did_you_mean(bundled: Vocabulary) -> None:
    with pytest.raises(UnknownTerm) as refused:
        bundled.resolve("industry", "危化品", field="industry")
    problem = refused.value.problems[0]
    assert problem["message"] == "unknown industry '危化品'"
    assert problem["hint"] == "did you mean '危险化学品'?"
    assert refused.value.code == "unknown_term"
    assert bundled.lookup("tag", "宾官").hint == "did you mean '宾馆'?"
    assert bundled.lookup("level", "towm").hint == "did you mean 'town'?"
    nonsense = bundled.lookup("level", "nonsense")
    assert nonsense.id is None and nonsense.hint.startswith("write one of: city (市), ")
    with pytest.raises(UnknownTerm) as both:
        bundled.resolve_all("tag", ["劳动密集型企业", "hotel", "宾官"], field="tags")
    assert [p["value"] for p in both.value.problems] == ["劳动密集型企业", "宾官"]


def test_a_name_two_ids_share_is_refused_not_guessed() -> None:
    words = Vocabulary({"level": {"town": ["乡镇/街道"], "street": ["街道"]},
                        "industry": {"gas": ["燃气（城镇）"], "lpg": ["燃气（液化气）"]}})
    # a whole name wins over a short form of another
    assert words.resolve("level", "街道", field="level") == "street"
    found = words.lookup("industry", "燃气")
    assert found.id is None
    assert found.message == ("'燃气' names more than one industry: gas (燃气（城镇）), "
                             "lpg (燃气（液化气）)")
    assert found.hint == "write the id of the one you mean"


def test_a_kind_no_campaign_declares_is_not_checked() -> None:
    words = Vocabulary({"level": {"street": ["街道"]}})
    assert not words.declares("tag")
    assert words.resolve_all("tag", ["自定义"], field="tags") == ["自定义"]
    with pytest.raises(UnknownTerm):
        words.resolve("level", "grid", field="level")
