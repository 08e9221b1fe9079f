"""通知 on the screens: the outbox with its filters and badges, dead letters sent again through
the form, subscriptions made, rotated and deleted through forms, and who may do what."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select

from storage.tables import Delivery, Subscription
from tests.support.world import World
from tests.web.conftest import Person

People = Callable[[str | None], Person]

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
subscription_t = Subscription.__table__  # type: ignore[attr-defined]

WEBHOOK = {"name": "林荫街道安委办值班群", "channel": "webhook", "org": "linyin",
           "webhook_url": "https://hooks.example.org/paicha", "kinds": ["overdue", "escalate"],
           "lang": "zh"}


def outbox(world: World, status: str, count: int, org_path: str = "/dongsheng/linyin/",
           **values: Any) -> list[int]:
    """Deliveries of `status` in the outbox, as the sweep leaves them."""
    now = world.clock()
    with world.services.db.write() as conn:
        return [conn.execute(insert(delivery_t).values(
            key=f"{status}-{org_path}-{n}", channel="log", kind="overdue",
            subject=f"case-{status}-{n}", message={"title": f"逾期提醒：{status} {n}"},
            org_path=org_path, status=status, attempts=12 if status == "dead" else 1,
            last_error="HTTP 503 Service Unavailable" if status == "dead" else None,
            next_attempt_at=now, created_at=now, **values).returning(delivery_t.c.id)
        ).scalar_one() for n in range(count)]


def statuses(world: World, ids: list[int]) -> list[str]:
    with world.services.db.read() as conn:
        return list(conn.execute(select(delivery_t.c.status).where(delivery_t.c.id.in_(ids))
                                 .order_by(delivery_t.c.id)).scalars())


def live_subscriptions(world: World) -> list[str]:
    with world.services.db.read() as conn:
        return list(conn.execute(select(subscription_t.c.name)
                                 .where(subscription_t.c.deleted_at.is_(None))).scalars())


def test_the_outbox_lists_deliveries_with_badges_and_filters(people: People,
                                                               world: World) -> None:
    outbox(world, "delivered", 2)
    dead = outbox(world, "dead", 1)
    elsewhere = outbox(world, "dead", 1, org_path="/dongsheng/jiaotong/")
    person = people("safety_office")
    page = person.get("/ui/notices")
    assert page.status_code == 200, page.text
    assert page.text.count('data-status="delivered"') == 2
    assert 'class="badge bad" data-status="dead"' in page.text
    assert f'value="{dead[0]}"' in page.text and f'value="{elsewhere[0]}"' not in page.text
    assert "HTTP 503 Service Unavailable" in page.text
    only_dead = person.get("/ui/notices?status=dead")
    assert 'data-status="delivered"' not in only_dead.text
    assert 'data-status="dead"' in only_dead.text
    one = person.get("/ui/notices?subject=case-delivered-1")
    assert one.text.count('data-status="delivered"') == 1


def test_the_outbox_pages_by_cursor(people: People, world: World) -> None:
    outbox(world, "delivered", 55)
    page = people("locality").get("/ui/notices?status=delivered")
    assert page.text.count('data-status="delivered"') == 50
    more = re.search(r'href="([^"]+)" rel="next"', page.text)
    assert more is not None
    second = people("locality").get(more.group(1).replace("&amp;", "&"))
    assert second.text.count('data-status="delivered"') == 5


def test_dead_letters_are_sent_again_through_the_form(people: People, world: World) -> None:
    dead = outbox(world, "dead", 3)
    person = people("locality")
    answer = person.post("/ui/notices/redrive", {"ids": [dead[0]]}, follow_redirects=False)
    assert answer.status_code == 303
    assert statuses(world, dead) == ["pending", "dead", "dead"]
    shown = person.get(answer.headers["location"])
    assert "1 dead letter(s) sent again" in shown.text
    every = person.post("/ui/notices/redrive", {"all": "yes"})
    assert every.status_code == 200 and "2 dead letter(s) sent again" in every.text
    assert statuses(world, dead) == ["pending", "pending", "pending"]


def test_a_subscription_is_made_rotated_and_deleted_through_forms(people: People,
                                                                   world: World) -> None:
    person = people("safety_office")
    form = person.get("/ui/notices/subscriptions")
    assert form.status_code == 200 and 'action="/ui/notices/subscriptions"' in form.text
    made = person.post("/ui/notices/subscriptions", WEBHOOK)
    assert made.status_code == 201, made.text
    secret = re.search(r"<code class=\"secret\" data-secret>(whsec_[^<]+)</code>", made.text)
    assert secret is not None
    assert live_subscriptions(world) == ["林荫街道安委办值班群"]
    listed = person.get("/ui/notices/subscriptions")
    assert "林荫街道安委办值班群" in listed.text and secret.group(1) not in listed.text
    sub_id = re.search(r'action="/ui/notices/subscriptions/(\d+)/rotate"', listed.text)
    assert sub_id is not None
    rotated = person.post(f"/ui/notices/subscriptions/{sub_id.group(1)}/rotate")
    assert rotated.status_code == 200
    fresh = re.search(r"data-secret>(whsec_[^<]+)</code>", rotated.text)
    assert fresh is not None and fresh.group(1) != secret.group(1)
    gone = person.post(f"/ui/notices/subscriptions/{sub_id.group(1)}/delete",
                       follow_redirects=False)
    assert gone.status_code == 303
    assert live_subscriptions(world) == []
    assert "林荫街道安委办值班群" not in person.get(gone.headers["location"]).text


def test_a_bad_subscription_is_refused_inline(people: People, world: World) -> None:
    person = people("safety_office")
    no_url = person.post("/ui/notices/subscriptions", {**WEBHOOK, "webhook_url": ""})
    assert no_url.status_code == 422
    assert "url" in no_url.text and 'role="alert"' in no_url.text
    assert 'value="林荫街道安委办值班群"' in no_url.text  # what was typed stays
    nameless = person.post("/ui/notices/subscriptions", {**WEBHOOK, "name": ""})
    assert nameless.status_code == 422
    assert 'id="s-name" name="name" required maxlength="200" value="" aria-invalid="true"' \
        in nameless.text
    elsewhere = person.post("/ui/notices/subscriptions", {**WEBHOOK, "org": "jiaotong"})
    assert elsewhere.status_code == 403
    assert live_subscriptions(world) == []


def test_who_sees_and_who_manages(people: People, world: World) -> None:
    dead = outbox(world, "dead", 1)
    principal = people("principal")
    for url in ("/ui/notices", "/ui/notices/subscriptions"):
        refused = principal.get(url)
        assert refused.status_code == 403
        assert "HTTP 503" not in refused.text
    assert principal.post("/ui/notices/redrive", {"all": "yes"}).status_code == 403
    assert statuses(world, dead) == ["dead"]
    # a community's grid worker reads the outbox and the subscriptions, but does not
    # subscribe: no form, and the API's refusal when posted anyway
    community = people("community")
    assert community.get("/ui/notices").status_code == 200
    page = community.get("/ui/notices/subscriptions")
    assert page.status_code == 200 and 'action="/ui/notices/subscriptions"' not in page.text
    refused = community.post("/ui/notices/subscriptions", {**WEBHOOK, "org": "linyin-c1"})
    assert refused.status_code == 403 and "safety_office" in refused.text
    assert live_subscriptions(world) == []
    assert people(None).get("/ui/notices", follow_redirects=False).status_code == 303


def test_forms_without_the_csrf_token_are_refused(people: People, world: World) -> None:
    dead = outbox(world, "dead", 1)
    person = people("safety_office")
    answer = person.client.post("/ui/notices/redrive", data={"all": "yes"})
    assert answer.status_code == 403
    assert statuses(world, dead) == ["dead"]
    answer = person.client.post("/ui/notices/subscriptions", data=WEBHOOK)
    assert answer.status_code == 403
    assert live_subscriptions(world) == []


@pytest.mark.usefixtures("chinese")
def test_the_pages_speak_chinese(people: People, world: World) -> None:
    outbox(world, "dead", 1)
    person = people("safety_office")
    page = person.get("/ui/notices")
    assert "投递记录" in page.text and "全部重新投递" in page.text and "死信" in page.text
    assert "企业微信群机器人" in person.get("/ui/notices/subscriptions").text
