"""The language of a reminder: each kind read in English for a subscription that asks for it
(against snapshots beside the Chinese ones) and in Chinese by default; the sweep words a message
once per language of its destinations, the log in the deployment's; a digest in its
subscription's language; `lang` checked when a subscription is made and changed; migration 0013
on SQLite and PostgreSQL.

The English snapshots are tests/deadlines/snapshots/en/<kind>.txt. After a deliberate change of
wording, write them anew with PAICHA_UPDATE_SNAPSHOTS=1 and read the diff before committing it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy import column, create_engine, insert, select, table
from sqlalchemy.pool import NullPool

from deadlines.channels import Message, dingtalk, wecom
from deadlines.channels._render import html, markdown, plain
from deadlines.digests import Digests
from deadlines.messages import calendar_context
from deadlines.rendering import default_template, markdown_escape, render
from deadlines.sweep import Sweeper
from engine import texts
from engine.templates import KINDS
from storage.db import alembic_config
from storage.tables import Delivery, Org, Subscription
from tests.deadlines.test_message_rendering import (
    SNAPSHOTS,
    UPDATE,
    contexts,
    message,
)
from tests.deadlines.test_sweep import local, planned_hazard
from tests.support.world import World

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]

ENGLISH = SNAPSHOTS / "en"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
HOOK = "https://hooks.example.org/paicha"

# The deadline's words as engine.notices will say them in English (its own helper's work): the
# examples' stand-ins, so that the English snapshots read as a person will read them.
DEADLINES_EN = {
    "remind": "due Jul 31, 7 days left", "overdue": "due Jul 31, 1 day overdue",
    "overdue_repeat": "due Jul 31, 2 days overdue",
    "escalate": "due Jul 31, 5 working days overdue", "check_reminder": "due Jul 28, 4 days left",
    "check_due": "due today (Jul 28)", "phase_due": "due today (Jun 15)",
    "target_at_risk": "due Dec 31, 31 days left",
}


def english_contexts() -> dict[str, dict[str, Any]]:
    """The examples of every kind as an English subscription's messages carry them: the
    names of people, units and campaigns as they are, the words of paicha in English."""
    found = copy.deepcopy(contexts())
    for kind, context in found.items():
        context["kind_name"] = texts.t(f"notices.kind.{kind}", "en")
        if kind in DEADLINES_EN:
            context["deadline"]["text"] = DEADLINES_EN[kind]
            context["deadline"]["span"] = "working days" if context["deadline"][
                "working"] else "days"
    for kind in ("remind", "overdue", "overdue_repeat", "escalate"):
        found[kind]["text"] = f"整改期限: {DEADLINES_EN[kind]}"
    for kind in ("check_reminder", "check_due"):
        found[kind]["text"] = (f"{found[kind]['check']['name']} (2023-07): "
                               f"{DEADLINES_EN[kind]}")
    found["phase_due"]["text"] = "phase “动员部署” ends today"
    found["target_at_risk"]["text"] = ("重大事故隐患整改率: 80% as of 2023-11-30, goal 100%, "
                                       + DEADLINES_EN["target_at_risk"])
    with texts.use("en"):
        found["calendar_redated"] = calendar_context(
            "calendar_redated", texts.t(
                "deadlines.calendar.case_redated", name="示例化工有限公司: 事故隐患",
                clock="整改期限", year=2024, old="2024-02-13", new="2024-02-19"),
            campaign=None, roles=("safety_office",), org=found["calendar_redated"]["org"],
            due=dt.date(2024, 2, 19), today=dt.date(2023, 12, 20),
            calendar={"year": 2024, "from_due": "2024-02-13", "check": "整改期限"},
            link=found["calendar_redated"]["link"])
        found["calendar_redated"]["roles"] = ["安委会办公室"]
        found["calendar_missing"] = calendar_context(
            "calendar_missing", texts.t("deadlines.calendar.missing", year=2024,
                                        day="2024-01-01"),
            campaign=None, roles=("admin",), org={"id": "", "name": ""},
            due=dt.date(2024, 1, 1), today=dt.date(2023, 11, 2),
            calendar={"year": 2024, "first_day": "2024-01-01"})
    for context in found.values():  # as deadlines.messages.deadline_facts says them
        context["deadline"]["day"] = context["deadline"]["date"]
        context["deadline"]["span"] = "working days" if context["deadline"]["working"] \
            else "days"
    return found


def english(kind: str, **overrides: Any) -> Message:
    context = english_contexts()[kind]
    who = context["unit"]["name"] if "unit" in context else ""
    title = texts.t("deadlines.title", "en", kind=context["kind_name"], who=who) if who \
        else context["kind_name"]
    return message(kind, **{"context": context, "title": title, "text": context["text"],
                            "lang": "en", **overrides})


def rendered_en(kind: str) -> str:
    """Every channel's rendering of one English message, in one text."""
    sent = english(kind)
    ding = dingtalk.body(sent, {"principal": ["13800000000"]})
    parts = [
        ("WeCom (markdown)", wecom.body(sent)["markdown"]["content"]),
        ("DingTalk (markdown)", ding["markdown"]["text"]),
        ("DingTalk at", json.dumps(ding.get("at"), ensure_ascii=False)),
        ("E-mail (plain text)", plain(sent)),
        ("E-mail (HTML)", html(sent)),
        ("Webhook context", json.dumps(sent.as_dict()["context"], ensure_ascii=False,
                                       sort_keys=True, indent=1)),
    ]
    return "".join(f"== {label} ==\n{text.rstrip()}\n\n" for label, text in parts)


# Each kind, in English and by default in Chinese

@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_reads_in_english_as_the_snapshot(kind: str) -> None:
    text = rendered_en(kind)
    snapshot = ENGLISH / f"{kind}.txt"
    if UPDATE:
        ENGLISH.mkdir(exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    assert text == snapshot.read_text(encoding="utf-8")
    assert '<html lang="en">' in text and 'lang="zh-CN"' not in text


@pytest.mark.parametrize("kind", KINDS)
def test_paicha_says_nothing_in_chinese_to_an_english_subscription(kind: str) -> None:
    """What is Chinese in an English message are the names people gave (units, campaigns,
    roles, cases): with them taken out, no Chinese is left in any format."""
    sent = english(kind)
    names = sorted({str(v) for v in _values(sent.context)} | {sent.text}, key=len,
                   reverse=True)
    for text in (markdown(sent), plain(sent), html(sent)):
        for name in names:
            for shown in (name, markdown_escape(name), str(Markup.escape(name))):
                text = text.replace(shown, "")
        assert not CJK.search(text), (kind, text)


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return [value] if isinstance(value, str) and value else []


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_without_a_language_is_chinese(kind: str) -> None:
    sent = message(kind)
    assert sent.lang == "zh"
    assert render(sent, "text") == render(
        Message.from_dict({k: v for k, v in sent.as_dict().items() if k != "version"}), "text")
    assert CJK.search(plain(sent)) and "编号：" in plain(sent)
    assert default_template(kind) == default_template(kind, "zh")
    assert default_template(kind, "fr") == default_template(kind, "zh")
    if kind != "calendar_missing":  # that one says the notice's own sentence in both
        assert default_template(kind, "en") != default_template(kind, "zh")


def test_a_campaigns_template_is_one_text_whatever_the_language() -> None:
    template = "【{{ campaign.title }}】{{ unit.name }}：{{ deadline.text }}"
    chinese = render(message("remind", template=template), "text")
    sent = render(english("remind", template=template), "text")
    assert chinese.startswith("【") and sent.startswith("【")
    assert sent.endswith(DEADLINES_EN["remind"])  # its values are the message's own


# Through the sweep: one message worded per language of its destinations

def subscribe(client: TestClient, world: World, **extra: Any) -> Any:
    answer = client.post("/subscriptions", headers=world.auth("locality"), json={
        "name": "林荫街道值班群", "channel": "webhook", "org": "linyin",
        "config": {"url": HOOK}, **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def queued(world: World, label: str) -> list[Message]:
    with world.services.db.read() as conn:
        rows = conn.execute(select(delivery_t.c.message).where(
            delivery_t.c.key.like(f"%->{label}")).order_by(delivery_t.c.id)).all()
    return [Message.from_dict(r.message) for r in rows]


def test_the_sweep_words_each_subscriptions_messages_in_its_language(
    client: TestClient, world: World,
) -> None:
    english_sub = subscribe(client, world, lang="en")
    chinese_sub = subscribe(client, world)
    assert english_sub["lang"] == "en" and chinese_sub["lang"] == "zh"
    assert [s["lang"] for s in client.get("/subscriptions",
                                          headers=world.auth("locality")).json()] == ["en", "zh"]
    texts.set_default("zh")  # the deployment's default: the log's language
    planned_hazard(world)
    world.clock.now = local("2023-07-24")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()

    told_en = queued(world, f"sub{english_sub['id']}")
    told_zh = queued(world, f"sub{chinese_sub['id']}")
    logged = queued(world, "log")
    assert {m.kind for m in told_en} >= {"remind", "check_reminder"}
    about = [(m.kind, m.subject) for m in told_en]
    assert about == [(m.kind, m.subject) for m in told_zh]  # the same messages, other words
    assert set(about) <= {(m.kind, m.subject) for m in logged}
    assert {m.lang for m in told_en} == {"en"} and {m.lang for m in told_zh} == {"zh"}
    assert {m.lang for m in logged} == {"zh"}
    remind_en = next(m for m in told_en if m.kind == "remind")
    remind_zh = next(m for m in told_zh if m.kind == "remind")
    assert remind_en.title.startswith("Deadline reminder: 示例化工有限公司 (")
    assert remind_zh.title.startswith("到期提醒：示例化工有限公司（")
    assert remind_en.context["kind_name"] == "Deadline reminder"
    assert remind_zh.context["kind_name"] == "到期提醒"
    text = plain(remind_en)
    assert " at 示例化工有限公司: " in text and "Unit: 示例化工有限公司" in text
    assert "Reference: " in text and "编号" not in text
    assert "单位：示例化工有限公司" in plain(remind_zh) and "的" in render(remind_zh, "text")
    for sent in told_en:
        assert '<html lang="en">' in html(sent)
    for sent in told_zh:
        assert '<html lang="zh-CN">' in html(sent)


def test_the_log_speaks_the_deployments_language(client: TestClient, world: World) -> None:
    texts.set_default("en")
    planned_hazard(world)
    world.clock.now = local("2023-07-24")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    logged = queued(world, "log")
    assert logged and {m.lang for m in logged} == {"en"}
    assert next(m for m in logged if m.kind == "remind").title.startswith("Deadline reminder: ")


def test_a_digest_is_worded_in_its_subscriptions_language(
    client: TestClient, world: World,
) -> None:
    english_sub = subscribe(client, world, lang="en", delivery={"mode": "digest"})
    chinese_sub = subscribe(client, world, delivery={"mode": "digest"})
    planned_hazard(world)
    world.clock.now = local("2023-07-24")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert Digests(world.services.db, world.services.registry.calendars).build(
        world.clock()) == 2
    with world.services.db.read() as conn:
        rows = {r.subscription_id: Message.from_dict(r.message) for r in conn.execute(
            select(delivery_t).where(delivery_t.c.kind == "digest"))}
    sent_en, sent_zh = rows[english_sub["id"]], rows[chinese_sub["id"]]
    count = sent_en.extra["count"]
    assert sent_en.lang == "en" and sent_en.title == f"Digest: {count} item(s)"
    assert sent_zh.lang == "zh" and sent_zh.title == f"待办汇总：{count}项"
    headings = [line for line in sent_en.text.split("\n") if line.startswith("**")]
    assert headings and all(re.search(r"\*\* \(\d+ item\(s\)\)$", h) for h in headings)
    assert any(h.startswith("**Deadline reminder · due ") for h in headings)
    assert "**到期提醒·" in sent_zh.text
    assert markdown(sent_en).startswith(f"**Digest: {count} item(s)**")


# The subscription's language, checked

def test_a_language_paicha_does_not_speak_is_refused(client: TestClient, world: World) -> None:
    for lang in ("fr", "EN", "", None, 1):
        answer = client.post("/subscriptions", headers=world.auth("locality"), json={
            "name": "群", "channel": "webhook", "org": "linyin", "config": {"url": HOOK},
            "lang": lang})
        assert answer.status_code == 422, (lang, answer.text)
        assert "lang" in answer.text
    created = subscribe(client, world)
    changed = client.patch(f"/subscriptions/{created['id']}", headers=world.auth("locality"),
                           json={"lang": "en"})
    assert changed.status_code == 200 and changed.json()["lang"] == "en"
    refused = client.patch(f"/subscriptions/{created['id']}", headers=world.auth("locality"),
                           json={"lang": "fr"})
    assert refused.status_code == 422
    assert client.get("/subscriptions", headers=world.auth("locality")).json()[0]["lang"] == "en"


# Migration 0013

def test_the_migration_gives_every_subscription_chinese(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0012")
    engine = create_engine(database_url, poolclass=NullPool)
    now = dt.datetime(2023, 6, 1, 1, tzinfo=dt.UTC)
    old = table("subscription", *(column(name, subscription_t.c[name].type) for name in (
        "id", "name", "channel", "config", "org_id", "org_path", "campaign_id", "kinds",
        "roles", "created_by", "created_at")))
    try:
        with engine.begin() as conn:
            conn.execute(insert(org_t).values(
                id="a", name="a", level="street", parent_id=None, path="/a/", version=1,
                created_at=now, updated_at=now))
            conn.execute(insert(old).values(
                id=1, name="sub1", channel="webhook", config={"url": HOOK}, org_id="a",
                org_path="/a/", campaign_id=None, kinds=[], roles=[], created_by="t",
                created_at=now))
        command.upgrade(config, "head")
        with engine.begin() as conn:
            assert conn.execute(select(subscription_t.c.lang)).scalar_one() == "zh"
            conn.execute(insert(subscription_t).values(
                id=2, name="sub2", channel="webhook", config={"url": HOOK}, org_id="a",
                org_path="/a/", campaign_id=None, kinds=[], roles=[], created_by="t",
                created_at=now, lang="en"))
        command.downgrade(config, "0012")
        command.upgrade(config, "head")
        with engine.begin() as conn:
            assert dict(conn.execute(select(subscription_t.c.id, subscription_t.c.lang)
                                     ).all()) == {1: "zh", 2: "zh"}
    finally:
        engine.dispose()


# The other words of deadlines/: channel settings, refusals, a digest's settings

def test_a_channels_settings_are_refused_in_the_requests_language(
    client: TestClient, world: World,
) -> None:
    body = {"name": "群", "channel": "webhook", "org": "linyin",
            "config": {"url": "http://127.0.0.1:8080/hook", "secret": "short", "secert": "x"}}
    for lang, words in (("zh", ("推送渠道配置无效", "未知的键", "回环地址", "至少应有 16 个字符")),
                        ("en", ("channel config invalid", "unknown key; known keys",
                                "is a loopback address", "must be at least 16 characters"))):
        answer = client.post("/subscriptions", json=body, headers={
            **world.auth("locality"), "Accept-Language": lang})
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert all(word in detail for word in words), (lang, detail)
        assert bool(CJK.search(detail)) == (lang == "zh")
        assert "127.0.0.1" in detail and "PAICHA_OUTBOUND_ALLOW" in detail


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_digest_settings_and_a_destination_are_refused_in_either_language(
    lang: str,
) -> None:
    from deadlines.channels import ChannelConfigInvalid, build_channel
    from deadlines.digests import delivery_problems
    from deadlines.outbound import PUBLIC_ONLY, DestinationRefused

    with texts.use(lang):
        problems = dict(delivery_problems({"mode": "digest", "at": ["9:00"],
                                           "timezone": "Mars/Olympus"}))
        with pytest.raises(ChannelConfigInvalid) as refused:
            build_channel("email", {"host": "10.0.0.1", "from_address": "a@b.cn",
                                    "to": ["nobody"]})
        with pytest.raises(DestinationRefused) as refused_at_send:
            PUBLIC_ONLY.addresses("192.168.1.1", 443)
        with pytest.raises(ChannelConfigInvalid) as unknown:
            build_channel("pager", {})
    said = [problems["at[0]"], problems["timezone"], str(refused.value),
            refused_at_send.value.reason, str(unknown.value)]
    assert "'9:00'" in said[0] and "Mars/Olympus" in said[1]
    assert "10.0.0.1" in said[2] and "'nobody'" in said[2] and "192.168.1.1" in said[3]
    assert "pager" in said[4] and "webhook" in said[4]
    for text in said:
        assert bool(CJK.search(text)) == (lang == "zh"), text
