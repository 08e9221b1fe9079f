"""The words of the campaigns: org levels, industries, tags and roles, by id or Chinese name.

One place turns what people write (an id such as `hazardous_chemicals`, or the Chinese name a
campaign declares, `危险化学品`) into the id that is stored and that selectors compare. The API
(orgs, units, imports), the command line (`paicha import`, `timeline`, `simulate`, `token
create`) all resolve through a `Vocabulary`, so a unit written `危险化学品` is the same unit as
one written `hazardous_chemicals`, and a word no campaign declares is refused, never stored.

How a written value is matched, first match wins:

1. an id, exactly (`community`);
2. a declared name, whole (`社区/村`, `矿山（含尾矿库）`), compared without spaces and with
   full-width and half-width forms alike (`（` = `(`, `／` = `/`);
3. a short form of a name: each part of a name with a slash (`社区/村` → `社区`, `村`;
   `县/区` → `县`, `区`), and a name or part without its closing remark in brackets
   (`矿山（含尾矿库）` → `矿山`, `村(居)` → `村`).

A name or short form that two ids share (in one campaign, or across the published campaigns) is
ambiguous: it is refused with the ids to choose from, never guessed. A kind of word no campaign
declares (a campaign without `tags:`) is not checked: such a campaign uses its own words freely.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from engine import texts
from engine.errors import InputInvalid
from engine.model import Campaign
from engine.texts import listed

Kind = Literal["level", "industry", "tag", "role"]
KINDS: tuple[Kind, ...] = ("level", "industry", "tag", "role")
# what people call each kind in a message, and the campaign key that declares it
WHAT: dict[Kind, str] = {"level": "org level", "industry": "industry", "tag": "tag",
                         "role": "role"}
DECLARED_BY: dict[Kind, str] = {"level": "org_levels", "industry": "industries", "tag": "tags",
                                "role": "roles"}


def what(kind: Kind) -> str:
    """What people call a kind of word, in the current language (WHAT's words in English)."""
    return texts.t(f"errors.term.{kind}")


def _choice(key: str, name: str) -> str:
    return texts.t("errors.term.choice", id=key, name=name)


_REMARK = re.compile(r"\([^()]*\)$")
_LISTED = 40  # ids listed in a hint when no close one is found


def _key(text: str) -> str:
    """A name as compared: NFKC (full-width forms folded), no spaces, case-folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def short_forms(name: str) -> list[str]:
    """The short forms a name is also known by (rule 3 of the module's docstring)."""
    whole = _key(name)
    forms: list[str] = []
    for part in [whole, *whole.split("/")]:
        for form in (part, _REMARK.sub("", part)):
            if form and form != whole and form not in forms:
                forms.append(form)
    return forms


@dataclass(frozen=True)
class Lookup:
    """A written value resolved: its id, or why it has none (message and hint)."""

    id: str | None
    message: str = ""
    hint: str = ""


class UnknownTerm(InputInvalid):
    """Values no campaign declares (or that name more than one id); every one is listed in
    `problems` with its field, value, message and hint."""

    def __init__(self, problems: Sequence[dict[str, str]]) -> None:
        text = listed((texts.t("errors.term.problem", field=p["field"], message=p["message"])
                       for p in problems), "list.semicolon")
        if len(problems) == 1 and problems[0]["hint"]:
            text += texts.t("errors.aside", text=problems[0]["hint"])
        super().__init__(text, problems, code="unknown_term")


class Vocabulary:
    """The declared words of some campaigns, by kind: id -> Chinese names (one per campaign
    that names it differently), and for roles the scopes (unit, org) campaigns give them."""

    def __init__(self, names: Mapping[Kind, Mapping[str, Sequence[str]]],
                 scopes: Mapping[str, frozenset[str]] | None = None) -> None:
        self._names = {kind: {key: tuple(names.get(kind, {})[key])
                              for key in names.get(kind, {})} for kind in KINDS}
        self._scopes = dict(scopes or {})
        # kind -> (whole names, short forms): key -> the ids it names
        self._index: dict[Kind, tuple[dict[str, set[str]], dict[str, set[str]]]] = {}
        for kind in KINDS:
            whole: dict[str, set[str]] = {}
            short: dict[str, set[str]] = {}
            for key, labels in self._names[kind].items():
                for label in labels:
                    whole.setdefault(_key(label), set()).add(key)
                    for form in short_forms(label):
                        short.setdefault(form, set()).add(key)
            self._index[kind] = (whole, short)

    @classmethod
    def of(cls, campaigns: Iterable[Campaign]) -> Vocabulary:
        """The words the campaigns declare, together."""
        names: dict[Kind, dict[str, list[str]]] = {kind: {} for kind in KINDS}
        scopes: dict[str, set[str]] = {}

        def add(kind: Kind, key: str, name: str) -> None:
            labels = names[kind].setdefault(key, [])
            if name and name not in labels:
                labels.append(name)

        for campaign in campaigns:
            for key, name in campaign.org_levels.items():
                add("level", key, name)
            for key, name in campaign.industries.items():
                add("industry", key, name)
            for key, name in campaign.tags.items():
                add("tag", key, name)
            for key, role in campaign.roles.items():
                add("role", key, role.name)
                scopes.setdefault(key, set()).add(role.scope)
        return cls(names, {key: frozenset(found) for key, found in scopes.items()})

    def declares(self, kind: Kind) -> bool:
        """Whether any campaign declares words of this kind (if not, none is checked)."""
        return bool(self._names[kind])

    def ids(self, kind: Kind) -> list[str]:
        return sorted(self._names[kind])

    def name(self, kind: Kind, key: str) -> str:
        """The (first) Chinese name of an id, or the id when it has none."""
        labels = self._names[kind].get(key)
        return labels[0] if labels else key

    def scopes(self, role: str) -> frozenset[str]:
        """The scopes (unit, org) the campaigns give a role; empty for an undeclared one."""
        return self._scopes.get(role, frozenset())

    def lookup(self, kind: Kind, value: str) -> Lookup:
        """The id a written value means (see the module's docstring), or why none."""
        written = value.strip()
        if not self.declares(kind) or written in self._names[kind]:
            return Lookup(written)
        for index in self._index[kind]:
            found = index.get(_key(written))
            if found and len(found) == 1:
                return Lookup(next(iter(found)))
            if found:
                choices = listed(_choice(key, self.name(kind, key)) for key in sorted(found))
                return Lookup(None, texts.t("errors.term.ambiguous", value=written,
                                            what=what(kind), choices=choices),
                              texts.t("errors.term.ambiguous.hint"))
        return Lookup(None, texts.t("errors.term.unknown", what=what(kind), value=written),
                      self.hint(kind, written))

    def hint(self, kind: Kind, written: str) -> str:
        """Did you mean …, or the declared ids with their names."""
        labels = [label for names in self._names[kind].values() for label in names]
        close = difflib.get_close_matches(written, sorted({*self._names[kind], *labels}),
                                          n=1, cutoff=0.6)
        if not close:
            # two or three Chinese characters with one wrong (宾官) fall below difflib's default
            close = difflib.get_close_matches(written, labels, n=1, cutoff=0.5)
        if close:
            return texts.t("errors.did_you_mean", value=close[0])
        choices = [_choice(key, self.name(kind, key)) for key in self.ids(kind)]
        more = (texts.t("errors.term.more", count=len(choices) - _LISTED)
                if len(choices) > _LISTED else "")
        return texts.t("errors.term.write_one_of", choices=listed(choices[:_LISTED]), more=more)

    def resolve(self, kind: Kind, value: str, *, field: str) -> str:
        """The id of a value; UnknownTerm (naming `field`) when there is none."""
        found = self.lookup(kind, value)
        if found.id is None:
            raise UnknownTerm([{"field": field, "value": value, "message": found.message,
                                "hint": found.hint}])
        return found.id

    def resolve_all(self, kind: Kind, values: Iterable[str], *, field: str) -> list[str]:
        """The ids of several values, in order, without repeats; UnknownTerm listing every
        value that has none."""
        ids: list[str] = []
        problems: list[dict[str, str]] = []
        for value in values:
            found = self.lookup(kind, value)
            if found.id is None:
                problems.append({"field": field, "value": value, "message": found.message,
                                 "hint": found.hint})
            elif found.id not in ids:
                ids.append(found.id)
        if problems:
            raise UnknownTerm(problems)
        return ids


def check_all(vocabulary: Vocabulary, values: Mapping[str, tuple[Kind, object]]
              ) -> dict[str, object]:
    """Several fields resolved at once (field -> (kind, a value or a list of values)); the
    resolved values, or UnknownTerm listing every unknown one of every field."""
    resolved: dict[str, object] = {}
    problems: list[dict[str, str]] = []
    for field, (kind, value) in values.items():
        try:
            if isinstance(value, str):
                resolved[field] = vocabulary.resolve(kind, value, field=field)
            elif isinstance(value, list | tuple):
                resolved[field] = vocabulary.resolve_all(kind, value, field=field)
            else:
                resolved[field] = value
        except UnknownTerm as exc:
            problems.extend(exc.problems)  # type: ignore[arg-type]
    if problems:
        raise UnknownTerm(problems)
    return resolved
