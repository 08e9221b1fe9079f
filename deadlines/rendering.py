"""A message's text in each format: its kind's template (the campaign's own, or the packaged
default of the message's language in deadlines/message_templates/<lang>/) rendered in the
sandbox of engine.templates over the message's context, with the values escaped for the
format.

Only the values are escaped: they are people's text (a unit's name with `*` or `<script>`). A
template's own words are the campaign author's and pass as they are. In markdown a value's
markup characters become their full-width forms (＊ ＿ ［ ］ ＜ ＞ …) rather than backslash escapes,
which the robots' markdown dialects do not all honour; in HTML they are entity-escaped
(autoescape); plain text is left as it is.
"""

from __future__ import annotations

import logging
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal

from jinja2 import Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from deadlines.channels.base import Message
from engine import texts
from engine.templates import KINDS, sandbox

log = logging.getLogger("paicha.messages")

Format = Literal["markdown", "html", "text"]
FORMATS: tuple[Format, ...] = ("markdown", "html", "text")

# markdown's markup characters (WeCom's <font>, DingTalk's links and emphasis), as the
# full-width characters Chinese text uses anyway; a newline would start a quote or a heading
MARKDOWN_SAFE = str.maketrans({
    "*": "＊", "_": "＿", "`": "｀", "[": "［", "]": "］", "<": "＜", ">": "＞", "#": "＃",
    "|": "｜", "~": "～", "\\": "＼", "&": "＆", "\n": " ", "\r": " ",
})


def markdown_escape(value: Any) -> str:
    """A value as markdown shows it literally; `Markup` (made by code, not people) as it is."""
    if isinstance(value, Markup):
        return str(value)
    return str(value).translate(MARKDOWN_SAFE)


def _text(value: Any) -> str:
    return str(value)


@cache
def default_template(kind: str, lang: str = texts.DEFAULT) -> str:
    """The packaged template of a kind in a language (zh, en; another is Chinese); a kind
    without one says the core's sentence. A campaign's own template has one text whatever
    the language: that is the one place a template is picked (`render`)."""
    if kind not in KINDS:
        return "{{ text }}"
    folder = resources.files("deadlines") / "message_templates" / (
        lang if lang in texts.LANGUAGES else texts.DEFAULT)
    return (folder / f"{kind}.j2").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environments() -> dict[Format, SandboxedEnvironment]:
    return {"markdown": sandbox(finalize=markdown_escape), "html": sandbox(autoescape=True),
            "text": sandbox(finalize=_text)}


@lru_cache(maxsize=512)
def compiled(fmt: Format, source: str) -> Template:
    """A template compiled for a format (a campaign has a few; they are reused)."""
    return _environments()[fmt].from_string(source)


def escape(value: Any, fmt: Format) -> str:
    """A value as `fmt` shows it literally."""
    if fmt == "markdown":
        return markdown_escape(value)
    if fmt == "html":
        return str(Markup.escape(value))
    return str(value)


def render(message: Message, fmt: Format) -> str:
    """The message's text in `fmt`. A message queued before messages carried a context has
    its stored sentence; a campaign template that fails on this message (a value of a shape
    its check could not foresee) gives way to the default, and that is logged."""
    if not message.context:
        return escape(message.text, fmt)
    sources = [message.template] if message.template else []
    sources.append(default_template(message.kind, message.lang))
    for source in sources:
        try:
            return compiled(fmt, source).render(message.context).strip()
        except TemplateError as exc:
            log.warning("message template failed", extra={
                "action": "template_failed", "kind": message.kind,
                "key": message.idempotency_key, "error": str(exc)})
    return escape(message.text, fmt)
