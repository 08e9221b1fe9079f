"""What the sweep puts in a message besides ids: the unit's and org's names, the case's type,
summary and grade, the deadline's date and days, the roles' names and the people holding them,
and a link only when the deployment has a public address — read in a few queries per batch."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from deadlines.channels import Message
from deadlines.channels._render import markdown, plain
from deadlines.context import Links
from deadlines.rendering import render
from deadlines.sweep import Sweeper
from engine.errors import CampaignInvalid
from engine.templates import VARIABLES
from storage.campaigns import latest
from storage.tables import Delivery
from tests.deadlines.test_sweep import local, planned_hazard
from tests.support.world import LINYIN, World

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
PUBLIC = "https://paicha.example.gov.cn/"


def sent(world: World, links: Links, *days: str) -> list[Message]:
    """The log channel's messages after sweeping on each of `days`."""
    sweeper = Sweeper(world.services.db, world.services.registry, clock=world.clock,
                      links=links)
    for day in days:
        world.clock.now = local(day)
        sweeper.sweep()
    with world.services.db.read() as conn:
        rows = conn.execute(select(delivery_t.c.message).where(delivery_t.c.channel == "log")
                            .order_by(delivery_t.c.id)).all()
    return [Message.from_dict(r.message) for r in rows]


def first(messages: list[Message], kind: str) -> Message:
    return next(m for m in messages if m.kind == kind)


def test_a_case_reminder_names_the_enterprise_the_hazard_and_the_date(world: World,
                                                                     chinese: None) -> None:
    case_id = planned_hazard(world)
    messages = sent(world, Links.from_env({"PAICHA_PUBLIC_URL": PUBLIC}), "2023-07-24",
                    "2023-08-01")
    remind = next(m for m in messages if m.kind == "remind" and m.subject == case_id)
    context = remind.context
    assert context["unit"] == {"id": "u-chem-01", "name": "示例化工有限公司"}
    assert context["org"]["name"] == "林荫街道第一社区"
    assert context["case"]["summary"] == "储罐区可燃气体报警装置失效"
    assert context["case"]["grade"] == "重大事故隐患"  # the label, not `major`
    assert context["case"]["type_name"] == "事故隐患"
    assert context["deadline"] | {} == {
        "date": "2023-07-31", "day": "2023年7月31日", "text": "7月31日到期，还有7日",
        "days_left": 7, "days_overdue": 0, "working": False, "span": "日", "overdue": False,
        "provisional": False}
    assert context["roles"] == ["企业主要负责人"]
    assert context["people"] == ["demo principal"]  # the token issued for the unit's role
    assert context["link"] == f"{PUBLIC}cases/{case_id}"
    assert remind.title == "到期提醒：示例化工有限公司（事故隐患）"
    robot = markdown(remind)
    assert "示例化工有限公司的事故隐患（重大事故隐患）“储罐区可燃气体报警装置失效”" in robot
    assert "00b9" not in robot and case_id not in robot.split("](")[0]
    overdue = first(messages, "overdue")
    assert overdue.context["deadline"]["text"] == "7月31日到期，已逾期1日"
    assert overdue.context["roles"] == ["企业主要负责人", "安委会办公室",
                                        "负有安全监管职责的部门/行业主管部门"]
    assert "请企业主要负责人、安委会办公室" in plain(overdue)


def test_every_message_of_a_sweep_carries_the_variables_of_its_kind(world: World) -> None:
    planned_hazard(world)
    messages = sent(world, Links(), "2023-06-05", "2023-06-28", "2023-07-24", "2023-08-01",
                    "2023-08-02")
    kinds = {m.kind for m in messages}
    assert {"remind", "overdue", "overdue_repeat", "check_reminder", "check_due",
            "phase_due"} <= kinds
    for message in messages:
        assert set(message.context) == set(VARIABLES[message.kind]), message.kind
        assert message.context["link"] == ""  # no public address: no link, never a broken one
        assert "查看详情" not in markdown(message)
    check = first(messages, "check_reminder")
    assert check.context["check"]["name"] and check.context["org"]["name"] == "林荫街道"
    assert check.context["roles"] == ["林荫街道办事处"]


def test_names_are_read_per_batch_not_per_message(world: World) -> None:
    for _ in range(6):
        planned_hazard(world)
    statements: list[str] = []
    engine = world.services.db.engine

    def count(*args: Any) -> None:
        statement = " ".join(str(args[2]).lower().split())
        if any(f"from {table} " in statement for table in ("unit", "org", "token")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        messages = sent(world, Links(), "2023-07-24")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sum(m.kind == "remind" for m in messages) == 6
    # one query for units, one for orgs, one for tokens per batch (a batch held them all)
    assert sorted(s.split(" from ")[1].split()[0] for s in statements) == [
        "org", "token", "unit"], statements


def test_a_public_address_that_is_no_http_address_gives_no_link() -> None:
    assert Links.from_env({"PAICHA_PUBLIC_URL": "paicha.example.gov.cn"}).case("c") == ""
    assert Links.from_env({"PAICHA_PUBLIC_URL": "ftp://x.example"}).case("c") == ""
    assert Links.from_env({}).case("c") == ""
    assert Links.from_env({"PAICHA_PUBLIC_URL": "https://x.example/a)b"}).case("c") == ""
    links = Links.from_env({"PAICHA_PUBLIC_URL": "https://x.example/paicha/"})
    assert links.case("a/b c") == "https://x.example/paicha/cases/a%2Fb%20c"
    assert links.obligation(4) == "https://x.example/paicha/obligations/4"


OWN_WORDING = """
messages:
  remind: |
    【林荫街道安委办】{{ unit.name }}：{{ case.grade }}“{{ case.summary }}”
    应于{{ deadline.day }}前整改完毕（{{ deadline.text }}）。
"""


def test_a_campaigns_own_wording_goes_out_and_is_refused_with_its_line(world: World,
                                                                      chinese: None) -> None:
    with world.services.db.read() as conn:
        text = latest(conn, LINYIN).text
    with world.services.db.write() as conn:
        world.services.registry.publish(conn, text + OWN_WORDING, "api", by="demo admin",
                                        now=world.clock())
    case_id = planned_hazard(world)
    remind = next(m for m in sent(world, Links(), "2023-07-24")
                  if m.kind == "remind" and m.subject == case_id)
    assert remind.template is not None
    assert render(remind, "text") == ("【林荫街道安委办】示例化工有限公司：重大事故隐患“储罐区可燃"
                                      "气体报警装置失效”\n应于2023年7月31日前整改完毕（7月31日到期，"
                                      "还有7日）。")
    broken = text + OWN_WORDING.replace("{{ deadline.day }}", "{{ deadline.due }}")
    with world.services.db.write() as conn, pytest.raises(CampaignInvalid) as refused:
        world.services.registry.publish(conn, broken, "api", by="demo admin",
                                        now=world.clock())
    line = len((text + OWN_WORDING).splitlines())
    assert [(p.line, p.path, p.message) for p in refused.value.problems
            if p.severity == "error"] == [
        (line, "$.messages.remind", "remind 消息中没有变量 deadline.due")]
