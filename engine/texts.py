"""The one catalogue of what people read: problem titles, simulate and timeline lines, in
Chinese (the default) or English.

The catalogues are gettext `.po` files in engine/locale/ (zh.po, en.po), keyed by stable ids
(`problem.not_found.title`, `simulate.fired`); a text's `{placeholders}` are filled with
str.format. They are read as they are, with Babel's reader, and served through the standard
library's gettext: there is no compiled `.mo` to forget to rebuild. A translator edits the
`.po` file; tests/unit/test_texts.py checks that both catalogues hold the same ids with the
same placeholders, and that every problem code the code base can produce has a title in both.

The language of what is being done is a context variable: the API sets it per request from
`Accept-Language` (api.telemetry), the CLI from `--lang` or `PAICHA_LANG` (paicha.cli). Codes,
ids and field names stay English: they are for machines.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

language: contextvars.ContextVar[str] = contextvars.ContextVar("paicha_language",
                                                               default=DEFAULT)


@cache
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The catalogue of a language (one of LANGUAGES), read once."""
    with files("engine").joinpath(f"locale/{lang}.po").open("rb") as source:
        entries = read_po(source, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, entries)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def ids(lang: str) -> dict[str, str]:
    """Every id of a language's catalogue with its text (for the tests and tools)."""
    with files("engine").joinpath(f"locale/{lang}.po").open("rb") as source:
        return {str(m.id): str(m.string) for m in read_po(source, locale=lang) if m.id}


def has(key: str, lang: str | None = None) -> bool:
    """Whether the catalogue holds an id."""
    return key in catalogue(lang or language.get())._catalog  # type: ignore[attr-defined]


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """The text of `key` in the current language (or `lang`), its placeholders filled. An id
    the catalogue lacks falls back to English, then to the id itself: a missing translation
    shows, it does not fail a request (the tests make sure none is missing)."""
    for candidate in (lang or language.get(), "en"):
        if has(key, candidate):
            text = catalogue(candidate).gettext(key)
            return text.format(**values) if values else text
    return key


def weekday(day: dt.date) -> str:
    """A day's weekday as people write it: 周一 … 周日, or Mon … Sun."""
    return t(f"weekday.{day.weekday()}")


def chosen(value: str | None) -> str:
    """The language a `--lang` or `PAICHA_LANG` value names (zh, zh-CN, en, en-US …); the
    default when it names none of ours."""
    primary = (value or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if primary in LANGUAGES else DEFAULT


def negotiate(header: str | None) -> str:
    """The language an `Accept-Language` header asks for (RFC 9110): the supported one with
    the highest quality; Chinese when none is named, when `*` wins, or when the header says
    nothing readable. `q=0` refuses a language."""
    best, best_q = DEFAULT, 0.0
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
            primary = DEFAULT
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
