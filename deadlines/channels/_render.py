"""How a message reads to a person: the markdown of the group robots, and the e-mail's plain
text and HTML. Each is the title, the text of the message's template (deadlines.rendering), the
facts a person acts on as labelled lines — unit, org, campaign, matter, deadline, who must act,
who holds the role — and the link to the case or obligation when the deployment has a public
address. Its labels are in the message's language (catalogue area `deadlines`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from deadlines.channels.base import Message
from deadlines.rendering import Format, escape, render
from engine import texts
from engine.notices import kind_name


def _matter(context: dict[str, Any]) -> str:
    """What the message is about, in a few words: the case, the check, the phase, the target."""
    case = context.get("case")
    if case:
        grade = texts.t("deadlines.matter.grade", grade=case["grade"]) if case.get(
            "grade") else ""
        said = texts.t("deadlines.matter.summary", summary=case["summary"]) if case.get(
            "summary") else ""
        return f"{case.get('type_name', '')}{grade}{said}"
    check = context.get("check")
    if check:
        return f"{check.get('name', '')}" + (
            texts.t("deadlines.matter.period", period=check["period"]) if check.get("period")
            else "")
    for part in ("phase", "target"):
        if context.get(part):
            return str(context[part].get("name", ""))
    return ""


def facts(message: Message) -> list[tuple[str, str]]:
    """The labelled lines under the text, in a fixed order; empty ones are left out. A message
    queued before messages carried names has the ids it had."""
    with texts.use(message.lang):
        return _facts(message)


def _facts(message: Message) -> list[tuple[str, str]]:
    context = message.context
    if message.kind == "digest":
        return []  # its items, grouped under their kinds and dates, are its text (digests.py)
    joined = texts.t("list.separator").join
    if not context:
        rows = [("kind", kind_name(message.kind)), ("campaign", message.campaign),
                ("subject", message.subject),
                ("deadline", message.due_date.isoformat() if message.due_date else ""),
                ("notify", joined(message.roles))]
    else:
        deadline = context.get("deadline") or {}
        rows = [
            ("unit", (context.get("unit") or {}).get("name", "")),
            ("org", (context.get("org") or {}).get("name", "")),
            ("campaign", (context.get("campaign") or {}).get("title", "")),
            ("matter", _matter(context)),
            ("deadline", deadline.get("text", "") if deadline.get("day") else ""),
            ("roles", joined(context.get("roles") or ())),
            ("people", joined(context.get("people") or ())),
        ]
    return [(texts.t(f"deadlines.fact.{label}"), str(value)) for label, value in rows if value]


def _line(label: str, value: str) -> str:
    return texts.t("deadlines.fact.line", label=label, value=value)


def link(message: Message) -> str:
    """The address of what the message is about, or "" (no public address is set)."""
    return str(message.context.get("link") or "")


def markdown(message: Message, *, late_style: str = "{note}",
             mentions: Sequence[str] = ()) -> str:
    """Title in bold, the template's text, the facts as a quote block, the link, the late
    note (`late_style` wraps it, e.g. in WeCom's `<font color="warning">`), and `@138…` for
    each mobile to mention (DingTalk shows a mention only when its text names the number)."""
    fmt: Format = "markdown"
    with texts.use(message.lang):
        lines = [f"**{escape(message.title, fmt)}**", "", render(message, fmt), ""]
        lines += ["> " + _line(label, escape(value, fmt)) for label, value in facts(message)]
        address = link(message)
        if address:
            lines += ["", f"[{texts.t('deadlines.link')}]({address})"]
        if message.late:
            lines += ["", late_style.format(note=texts.t("deadlines.late_note"))]
    if mentions:
        lines += ["", " ".join(f"@{mobile}" for mobile in mentions)]
    return "\n".join(lines)


def plain(message: Message) -> str:
    """The e-mail's text: the template's text, the facts, the link, and the key a reader can
    quote to support."""
    with texts.use(message.lang):
        lines = [render(message, "text"), ""]
        lines += [_line(label, value) for label, value in facts(message)]
        address = link(message)
        if address:
            lines += [_line(texts.t("deadlines.link"), address)]
        if message.late:
            lines += ["", texts.t("deadlines.late_note")]
        lines += ["", texts.t("deadlines.reference", key=message.idempotency_key)]
    return "\n".join(lines) + "\n"


def html(message: Message) -> str:
    """The e-mail's HTML part: the same as `plain`, every value escaped."""
    with texts.use(message.lang):
        return _html(message)


def _html(message: Message) -> str:
    rows = "".join(Markup('<tr><th align="left">{}</th><td>{}</td></tr>').format(label, value)
                   for label, value in facts(message))
    # render() gives HTML already escaped for this format: its lines are joined as they are
    text = Markup("<br>").join(Markup(line) for line in render(message, "html").split("\n"))
    parts = [Markup("<p><strong>{}</strong></p>").format(message.title),
             Markup("<p>{}</p>").format(Markup(text)),
             Markup("<table>{}</table>").format(Markup(rows))]
    address = link(message)
    if address:
        parts.append(Markup('<p><a href="{}">{}</a></p>').format(address,
                                                                 texts.t("deadlines.link")))
    if message.late:
        parts.append(Markup("<p><em>{}</em></p>").format(texts.t("deadlines.late_note")))
    parts.append(Markup('<p style="color:#888">{}</p>').format(
        texts.t("deadlines.reference", key=message.idempotency_key)))
    body = Markup("\n").join(parts)
    return Markup('<!DOCTYPE html>\n<html lang="{}"><head><meta charset="utf-8"></head>'
                  "<body>\n{}\n</body></html>\n").format(texts.t("deadlines.html_lang"),
                                                           body)


def truncate_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes on a character boundary, marked with an
    ellipsis; robots reject a longer body outright, which would lose the whole message."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    marker = "…"
    room = limit - len(marker.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore") + marker


def mentions(message: Message, at_mobiles: Mapping[str, Sequence[str]]) -> list[str]:
    """The mobiles to @mention (a robot's `at_mobiles`, by role): those of the roles the message
    is for, without repeats."""
    return list(dict.fromkeys(mobile for role in message.roles
                              for mobile in at_mobiles.get(role, ())))
