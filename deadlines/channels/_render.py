"""How a message reads to a person: the markdown of the group robots and the e-mail text."""

from __future__ import annotations

from deadlines.channels.base import Message
from engine.notices import kind_name

LATE_NOTE = "补发：系统停机期间错过的提醒"


def facts(message: Message) -> list[tuple[str, str]]:
    """The labelled lines under the text, in a fixed order; empty ones are left out."""
    rows = [
        ("类型", kind_name(message.kind)),
        ("行动", message.campaign),
        ("对象", message.subject),
        ("期限", message.due_date.isoformat() if message.due_date else ""),
        ("通知", "、".join(message.roles)),
    ]
    return [(label, value) for label, value in rows if value]


def markdown(message: Message, *, late_style: str = "{note}") -> str:
    """Title in bold, the engine's text, then the facts as a quote block.

    `late_style` wraps the late note, e.g. in WeCom's `<font color="warning">`.
    """
    lines = [f"**{message.title}**", "", message.text, ""]
    lines += [f"> {label}：{value}" for label, value in facts(message)]
    if message.late:
        lines += ["", late_style.format(note=LATE_NOTE)]
    return "\n".join(lines)


def plain(message: Message) -> str:
    """The e-mail body: the text, the facts, and the key a reader can quote to support."""
    lines = [message.text, ""]
    lines += [f"{label}：{value}" for label, value in facts(message)]
    if message.late:
        lines += ["", LATE_NOTE]
    lines += ["", f"编号：{message.idempotency_key}"]
    return "\n".join(lines) + "\n"


def truncate_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes on a character boundary, marked with an
    ellipsis; robots reject a longer body outright, which would lose the whole message."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    marker = "…"
    room = limit - len(marker.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore") + marker
