"""The one catalogue of what people read: problem titles, simulate and timeline lines, in
Chinese (the default) or English.

The catalogues are gettext `.po` files, one per area of the code in engine/locale/<lang>/
(core.po, campaign.po, cli.po …), keyed by stable ids (`problem.not_found.title`,
`simulate.fired`) that begin with their area's words; a text's `{placeholders}` are filled with
str.format. A language's files are read as they are, with Babel's reader, merged, and served
through the standard library's gettext: there is no compiled `.mo` to forget to rebuild. A
translator edits the `.po` files; tests/unit/test_texts.py checks that both languages hold the
same files, the same ids with the same placeholders, no id twice, and that every problem code
the code base can produce has a title in both.

The language of what is being done is a context variable: the API sets it per request from
`Accept-Language` (api.telemetry), the CLI from `--lang` or `PAICHA_LANG` (paicha.cli). Where
neither names one, the default speaks: Chinese, unless a deployment chose otherwise with
`set_default` (`PAICHA_LANG` for `paicha serve`). Codes, ids and field names stay English: they
are for machines.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gettext
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

language: contextvars.ContextVar[str | None] = contextvars.ContextVar("paicha_language",
                                                                      default=None)
_default = [DEFAULT]


def set_default(lang: str | None) -> None:
    """The language spoken where a request or command names none (a `PAICHA_LANG` value)."""
    _default[0] = chosen(lang) if lang else DEFAULT


def default() -> str:
    """The language spoken where a request or command names none."""
    return _default[0]


def areas(lang: str) -> list[str]:
    """The names of a language's catalogue files (core, campaign, cli …)."""
    folder = files("engine").joinpath(f"locale/{lang}")
    return sorted(entry.name.removesuffix(".po") for entry in folder.iterdir()
                  if entry.name.endswith(".po"))


def entries(lang: str, area: str) -> dict[str, str]:
    """The ids of one catalogue file with their texts (for the tests and tools)."""
    with files("engine").joinpath(f"locale/{lang}/{area}.po").open("rb") as source:
        return {str(m.id): str(m.string) for m in read_po(source, locale=lang) if m.id}


@cache
def ids(lang: str) -> dict[str, str]:
    """Every id of a language's catalogue, all areas merged, with its text."""
    merged: dict[str, str] = {}
    for area in areas(lang):
        merged.update(entries(lang, area))
    return merged


@cache
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The catalogue of a language (one of LANGUAGES), read once."""
    merged = Catalog(locale=lang)
    for key, text in ids(lang).items():
        merged.add(key, text)
    compiled = io.BytesIO()
    write_mo(compiled, merged)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def has(key: str, lang: str | None = None) -> bool:
    """Whether the catalogue holds an id."""
    return key in catalogue(lang or current())._catalog  # type: ignore[attr-defined]


def current() -> str:
    """The language spoken now: the request's or command's, else the default."""
    return language.get() or _default[0]


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """The text of `key` in the current language (or `lang`), its placeholders filled. An id
    the catalogue lacks falls back to English, then to the id itself: a missing translation
    shows, it does not fail a request (the tests make sure none is missing)."""
    for candidate in (lang or current(), "en"):
        if has(key, candidate):
            text = catalogue(candidate).gettext(key)
            return text.format(**values) if values else text
    return key


def listed(items: Iterable[object], joiner: str = "list.separator") -> str:
    """Items joined as the current language writes a list (`, ` or `、`; another joiner id for
    alternatives or sentences: `errors.list.or`, `list.semicolon`)."""
    return t(joiner).join(str(item) for item in items)


def weekday(day: dt.date) -> str:
    """A day's weekday as people write it: 周一 … 周日, or Mon … Sun."""
    return t(f"weekday.{day.weekday()}")


def chosen(value: str | None) -> str:
    """The language a `--lang` or `PAICHA_LANG` value names (zh, zh-CN, en, en-US …); the
    default when it names none of ours."""
    primary = (value or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else _default[0]


def negotiate(header: str | None) -> str:
    """The language an `Accept-Language` header asks for (RFC 9110): the supported one with
    the highest quality; the default (Chinese) when none is named, when `*` wins, or when the
    header says nothing readable. `q=0` refuses a language."""
    best, best_q = _default[0], 0.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, number = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(number)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().replace("_", "-").split("-", 1)[0]
        if primary == "*":
            primary = _default[0]
        # the first of equal qualities wins: a later one must be strictly better
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


@contextmanager
def use(lang: str) -> Iterator[None]:
    """Speak `lang` within the block."""
    token = language.set(chosen(lang))
    try:
        yield
    finally:
        language.reset(token)
