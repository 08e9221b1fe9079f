"""The HTTP and log channels against a local receiver: what goes on the wire, how replies
and failures become results, and how configs are checked."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from deadlines.channels import (
    CHANNEL_KINDS,
    ChannelConfigInvalid,
    DeliveryResult,
    DingtalkChannel,
    EmailChannel,
    LogChannel,
    Message,
    WebhookChannel,
    WecomChannel,
    build_channel,
    verify_signature,
)
from deadlines.channels import dingtalk as dingtalk_module
from deadlines.channels import wecom as wecom_module
from deadlines.channels._http import status_text
from tests.deadlines.messages import NOW, MakeMessage, make_message_fixture  # noqa: F401
from tests.deadlines.receiver import LOCAL, Receiver, receiver_fixture  # noqa: F401

SECRET = "whsec-0123456789abcdef"
DING_SECRET = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def webhook(receiver: Receiver, **config: object) -> WebhookChannel:
    channel = build_channel("webhook", {"url": f"{receiver.url}/hooks/paicha", "secret": SECRET,
                                        **config}, outbound=LOCAL)
    assert isinstance(channel, WebhookChannel)
    return channel


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# The message contract


def test_as_json_is_stable_sorted_and_keeps_chinese(make_message: MakeMessage) -> None:
    message = make_message(extra={"b": 1, "a": "二"})
    assert message.as_json() == (
        '{"at":"2023-06-28T01:00:00Z","campaign":"zdyh-2023","context":{},"due_date":"2023-06-30",'
        '"extra":{"a":"二","b":1},"idempotency_key":"case-1/rectify/2023-06-30/remind/-3d",'
        '"kind":"remind","late":false,"roles":["unit","street"],"subject":"case-1",'
        '"text":"整改期限（2023-06-30）3日后到期","title":"整改期限提醒","version":1}'
    )
    assert make_message(extra={"a": "二", "b": 1}).as_json() == message.as_json()


def test_a_message_comes_back_from_its_dict(make_message: MakeMessage) -> None:
    message = make_message(late=True, due_date=None)
    assert Message.from_dict(message.as_dict()) == message
    assert Message.from_dict(json.loads(message.as_json())) == message
    with pytest.raises(ValueError, match="message field 'title' is missing"):
        Message.from_dict({k: v for k, v in message.as_dict().items() if k != "title"})


def test_a_message_is_normalised_to_utc_and_refuses_naive_times(
    make_message: MakeMessage,
) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert make_message(at=dt.datetime(2023, 6, 28, 9, tzinfo=shanghai)).at == NOW
    assert make_message(roles=["unit"]).roles == ("unit",)
    with pytest.raises(ValueError, match=r"Message\.at must be timezone-aware"):
        make_message(at=dt.datetime(2023, 6, 28, 9))
    with pytest.raises(ValueError, match="JSON-serialisable"):
        make_message(extra={"when": dt.date(2023, 6, 30)})


def test_a_delivered_result_cannot_be_retryable() -> None:
    with pytest.raises(ValueError, match="cannot be retryable"):
        DeliveryResult(True, 200, "ok", True)


# Webhook


def test_webhook_posts_signed_json_that_verifies(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    message = make_message()
    with webhook(receiver) as channel:
        result = channel.send(message, now=NOW)
    assert result == DeliveryResult(True, 200, "HTTP 200", False)
    request = receiver.last
    assert request.method == "POST" and request.path == "/hooks/paicha"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == message.idempotency_key
    assert request.headers["x-paicha-timestamp"] == str(int(NOW.timestamp()))
    assert request.body == message.as_json().encode("utf-8")
    timestamp, signature = request.headers["x-paicha-timestamp"], request.headers[
        "x-paicha-signature"]
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body,
                        hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert verify_signature(SECRET, timestamp, request.body, signature, now=NOW)
    assert verify_signature(SECRET, timestamp, request.body.decode(), signature,
                            now=NOW + dt.timedelta(seconds=300))


def test_a_tampered_stale_or_wrongly_keyed_webhook_fails_verification(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    with webhook(receiver) as channel:
        channel.send(make_message(), now=NOW)
    request = receiver.last
    timestamp, signature = request.headers["x-paicha-timestamp"], request.headers[
        "x-paicha-signature"]
    tampered = request.body.replace("3日后".encode(), "30日后".encode())
    assert tampered != request.body
    assert not verify_signature(SECRET, timestamp, tampered, signature, now=NOW)
    assert not verify_signature(SECRET, timestamp, request.body, signature,
                                now=NOW + dt.timedelta(seconds=301))
    assert not verify_signature(SECRET, timestamp, request.body, signature,
                                now=NOW - dt.timedelta(seconds=301))
    assert not verify_signature("another-secret-of-length", timestamp, request.body, signature,
                                now=NOW)
    assert not verify_signature(SECRET, str(int(timestamp) + 1), request.body, signature,
                                now=NOW)
    assert not verify_signature(SECRET, "1e9", request.body, signature, now=NOW)
    assert not verify_signature(SECRET, timestamp, request.body, signature[7:], now=NOW)


def test_the_receivers_snippet_in_the_docs_verifies_a_real_request(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "channels.md").read_text("utf-8")
    snippet = next(block for block in docs.split("```python\n")[1:] if "def verify(" in block)
    namespace: dict[str, Any] = {}
    exec(snippet.split("```")[0], namespace)
    verify = namespace["verify"]
    now = dt.datetime.now(dt.UTC)  # the snippet reads the real clock, as a receiver would
    with webhook(receiver) as channel:
        channel.send(make_message(), now=now)
    request = receiver.last
    args = (request.headers["x-paicha-timestamp"], request.body,
            request.headers["x-paicha-signature"])
    assert verify(SECRET, *args)
    assert not verify(SECRET, args[0], args[1] + b" ", args[2])


def test_each_attempt_is_signed_at_its_own_time(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    later = NOW + dt.timedelta(minutes=5)
    with webhook(receiver) as channel:
        channel.send(make_message(), now=NOW)
        channel.send(make_message(), now=later)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert second.headers["x-paicha-timestamp"] == str(int(later.timestamp()))
    assert first.headers["x-paicha-signature"] != second.headers["x-paicha-signature"]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (502, True), (503, True), (429, True), (408, True),
     (400, False), (401, False), (404, False), (410, False), (422, False)],
)
def test_webhook_status_decides_whether_to_retry(
    receiver: Receiver, make_message: MakeMessage, status: int, retryable: bool,
) -> None:
    receiver.answer(status, b'{"error":"nope"}')
    with webhook(receiver) as channel:
        result = channel.send(make_message(), now=NOW)
    assert not result.ok
    assert result.status == status
    assert result.retryable is retryable
    assert result.detail == status_text(status)  # the code and its phrase; not the reply
    assert "nope" not in result.detail


def test_webhook_keeps_the_receivers_retry_after(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    receiver.answer(429, headers={"Retry-After": "120"})
    with webhook(receiver) as channel:
        result = channel.send(make_message(), now=NOW)
    assert result.retryable and result.retry_after == dt.timedelta(seconds=120)


def test_a_redirect_is_not_followed(receiver: Receiver, make_message: MakeMessage) -> None:
    receiver.answer(302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    with webhook(receiver) as channel:
        result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.status, result.retryable) == (False, 302, False)
    assert len(receiver.requests) == 1


def test_a_hanging_receiver_times_out_retryably(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    receiver.answer(hang=True)
    with webhook(receiver, timeout=0.2) as channel:
        result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.status, result.retryable) == (False, None, True)
    assert result.detail.startswith("timed out")


def test_a_refused_connection_is_retryable(make_message: MakeMessage) -> None:
    channel = build_channel("webhook", {"url": f"http://127.0.0.1:{closed_port()}/",
                                        "secret": SECRET}, outbound=LOCAL)
    assert isinstance(channel, WebhookChannel)
    with channel:
        result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, True)
    assert result.detail.startswith("connection failed")


def test_webhook_config_names_every_field_at_fault() -> None:
    with pytest.raises(ChannelConfigInvalid) as caught:
        build_channel("webhook", {"secret": "short", "timeout": "10", "secert": "x"})
    assert isinstance(caught.value, ValueError)
    assert caught.value.fields == ["secert", "url", "secret", "timeout"]
    message = str(caught.value)
    assert message.startswith("webhook channel config invalid: secert: unknown key")
    assert "url: is required" in message
    assert "secret: must be at least 16 characters" in message
    assert "timeout: must be a number, got str" in message
    with pytest.raises(ValueError, match="secret: is empty or a placeholder"):
        build_channel("webhook", {"url": "https://example.invalid/", "secret": "changethis"})
    with pytest.raises(ValueError, match="url: must be an http"):
        build_channel("webhook", {"url": "ftp://example.invalid/", "secret": SECRET})


def test_the_secret_stays_out_of_repr(receiver: Receiver) -> None:
    with webhook(receiver) as channel:
        assert SECRET not in repr(channel.config)


# WeCom group robot


def wecom(receiver: Receiver, **config: object) -> WecomChannel:
    channel = build_channel("wecom", {"key": "693a91f6-7xxx", "base_url":
                                      f"{receiver.url}/cgi-bin/webhook/send", **config},
                            outbound=LOCAL)
    assert isinstance(channel, WecomChannel)
    return channel


def test_wecom_posts_markdown_to_the_robot(receiver: Receiver, make_message: MakeMessage) -> None:
    with wecom(receiver) as channel:
        result = channel.send(make_message(), now=NOW)
    assert result.ok and result.detail == "errcode 0"
    request = receiver.last
    assert request.path == "/cgi-bin/webhook/send"
    assert request.raw_query == "key=693a91f6-7xxx"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"msgtype": "markdown", "markdown": {"content": (
        "**整改期限提醒**\n\n整改期限（2023-06-30）3日后到期\n\n> 类型：到期提醒\n"
        "> 行动：zdyh-2023\n> 对象：case-1\n> 期限：2023-06-30\n> 通知：unit、street"
    )}}


def test_wecom_marks_a_late_message_and_keeps_within_4096_bytes(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    with wecom(receiver) as channel:
        channel.send(make_message(late=True), now=NOW)
        channel.send(make_message(text="隐患" * 3000), now=NOW)
    late, long = (r.json()["markdown"]["content"] for r in receiver.requests)
    assert late.endswith('\n\n<font color="warning">补发：系统停机期间错过的提醒</font>')
    assert len(long.encode("utf-8")) <= 4096 and long.endswith("…")


@pytest.mark.parametrize(
    ("errcode", "retryable"), [(45009, True), (-1, True), (93000, False), (40058, False)],
)
def test_wecom_errcode_under_http_200_is_a_failure(
    receiver: Receiver, make_message: MakeMessage, errcode: int, retryable: bool,
) -> None:
    receiver.answer(200, {"errcode": errcode, "errmsg": "refused"})
    with wecom(receiver) as channel:
        result = channel.send(make_message(), now=NOW)
    # the errcode and our reason for it; the robot's errmsg is not kept
    reason = wecom_module.KNOWN_ERRCODES[errcode]
    assert result == DeliveryResult(False, 200, f"errcode {errcode}: {reason}", retryable)


def test_a_robot_reply_that_is_not_json_is_not_retried(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    receiver.answer(200, b"<html>portal</html>", headers={"Content-Type": "text/html"})
    with wecom(receiver) as channel:
        result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, False)
    assert "unexpected reply" in result.detail


def test_wecom_http_errors_are_classified_like_the_webhooks(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    receiver.answer(503)
    with wecom(receiver) as channel:
        assert channel.send(make_message(), now=NOW).retryable


def test_robot_secrets_stay_out_of_results(make_message: MakeMessage) -> None:
    base = f"http://127.0.0.1:{closed_port()}/send"
    key, token = "wecom-key-0042", "ding-token-0042"
    results = []
    for kind, config in (("wecom", {"key": key}), ("dingtalk", {"access_token": token})):
        channel = build_channel(kind, {**config, "base_url": base}, outbound=LOCAL)
        assert isinstance(channel, WecomChannel | DingtalkChannel)
        with channel:
            results.append(channel.send(make_message(), now=NOW))
    assert all(r.retryable and key not in r.detail and token not in r.detail for r in results)


def test_wecom_config_wants_the_key_not_the_url() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    with pytest.raises(ValueError, match="key: is the key alone"):
        build_channel("wecom", {"key": url})
    with pytest.raises(ValueError, match="key: is required"):
        build_channel("wecom", {})


# DingTalk custom robot


def dingtalk(receiver: Receiver, **config: object) -> DingtalkChannel:
    channel = build_channel("dingtalk", {"access_token": "tok123", "base_url":
                                         f"{receiver.url}/robot/send", **config},
                            outbound=LOCAL)
    assert isinstance(channel, DingtalkChannel)
    return channel


def test_dingtalk_signs_with_the_documented_algorithm(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    with dingtalk(receiver, secret=DING_SECRET) as channel:
        result = channel.send(make_message(), now=NOW)
    assert result.ok
    request = receiver.last
    # Worked out here from DingTalk's description, not with the channel's own code.
    timestamp = "1687914000000"
    string_to_sign = f"{timestamp}\n{DING_SECRET}".encode()
    digest = hmac.new(DING_SECRET.encode(), string_to_sign, hashlib.sha256).digest()
    b64 = base64.b64encode(digest).decode()
    assert request.path == "/robot/send"
    assert request.raw_query == f"access_token=tok123&timestamp={timestamp}&sign={quote_plus(b64)}"
    assert request.query["sign"] == b64
    assert request.json() == {"msgtype": "markdown", "markdown": {
        "title": "整改期限提醒",
        "text": "**整改期限提醒**\n\n整改期限（2023-06-30）3日后到期\n\n> 类型：到期提醒\n"
                "> 行动：zdyh-2023\n> 对象：case-1\n> 期限：2023-06-30\n> 通知：unit、street",
    }}


def test_dingtalk_without_a_secret_sends_the_token_alone(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    with dingtalk(receiver) as channel:
        channel.send(make_message(late=True), now=NOW)
    assert receiver.last.raw_query == "access_token=tok123"
    assert receiver.last.json()["markdown"]["text"].endswith("\n\n补发：系统停机期间错过的提醒")


@pytest.mark.parametrize(
    ("errcode", "retryable"), [(130101, True), (-1, True), (310000, False), (300001, False)],
)
def test_dingtalk_errcode_under_http_200_is_a_failure(
    receiver: Receiver, make_message: MakeMessage, errcode: int, retryable: bool,
) -> None:
    receiver.answer(200, {"errcode": errcode, "errmsg": "sign not match"})
    with dingtalk(receiver, secret=DING_SECRET) as channel:
        result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.status, result.retryable) == (False, 200, retryable)
    assert result.detail == f"errcode {errcode}: {dingtalk_module.KNOWN_ERRCODES[errcode]}"


def test_dingtalk_config_is_checked() -> None:
    with pytest.raises(ChannelConfigInvalid) as caught:
        build_channel("dingtalk", {"access_token": "https://oapi.dingtalk.com/robot/send?x",
                                   "secret": "abc", "base_url": "oapi.dingtalk.com"})
    assert caught.value.fields == ["access_token", "secret", "base_url"]


# Log channel


def test_the_log_channel_writes_one_structured_line(
    make_message: MakeMessage, caplog: pytest.LogCaptureFixture,
) -> None:
    channel = build_channel("log", {})
    with caplog.at_level(logging.INFO, logger="paicha.deliveries"):
        result = channel.send(make_message(late=True), now=NOW)
    assert result == DeliveryResult(True, None, "logged", False)
    (record,) = caplog.records
    assert record.name == "paicha.deliveries" and record.levelno == logging.INFO
    line = json.loads(record.getMessage())
    assert line == {
        "action": "deliver_message",
        "idempotency_key": "case-1/rectify/2023-06-30/remind/-3d",
        "kind": "remind", "campaign": "zdyh-2023", "subject": "case-1",
        "roles": ["unit", "street"], "due_date": "2023-06-30", "late": True,
        "title": "整改期限提醒", "text": "整改期限（2023-06-30）3日后到期",
        "sent_at": "2023-06-28T01:00:00Z",
    }
    assert vars(record)["action"] == "deliver_message"
    assert vars(record)["idempotency_key"] == line["idempotency_key"]


def test_the_log_level_is_configurable(
    make_message: MakeMessage, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="paicha.deliveries"):
        build_channel("log", {"level": "warning"}).send(make_message(), now=NOW)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    with pytest.raises(ValueError, match="level: must be one of debug, info, warning"):
        build_channel("log", {"level": "loud"})


# Registry


def test_build_channel_knows_five_kinds_and_names_them_on_a_miss() -> None:
    assert sorted(CHANNEL_KINDS) == ["dingtalk", "email", "log", "webhook", "wecom"]
    with pytest.raises(ChannelConfigInvalid) as caught:
        build_channel("sms", {})
    assert str(caught.value) == (
        "sms channel config invalid: kind: unknown channel kind; "
        "known: dingtalk, email, log, webhook, wecom"
    )


def test_each_kind_builds_its_channel_under_its_name() -> None:
    configs = {
        "webhook": {"url": "https://example.invalid/hook", "secret": SECRET},
        "wecom": {"key": "k-1"},
        "dingtalk": {"access_token": "t-1", "secret": DING_SECRET},
        "email": {"host": "smtp.example.invalid", "from_address": "paicha@example.invalid",
                  "to": ["safety@example.invalid"]},
        "log": {},
    }
    classes = {"webhook": WebhookChannel, "wecom": WecomChannel, "dingtalk": DingtalkChannel,
               "email": EmailChannel, "log": LogChannel}
    for kind, config in configs.items():
        channel = build_channel(kind, config)
        assert isinstance(channel, classes[kind]) and channel.name == kind
        close = getattr(channel, "close", None)
        assert callable(close)
        close()
    named = build_channel("wecom", {"key": "k-2", "name": "wecom-街道群"})
    assert named.name == "wecom-街道群"
    assert isinstance(named, WecomChannel)
    named.close()
