"""Where deliveries may go: every form of a loopback, link-local, private or otherwise
non-public destination is refused when a channel's config is read and again when a message is
sent (after DNS), the connection goes to the address that was checked, and an operator's
allow-list lets a local receiver through. Everything here stays on this machine: refused
destinations point at a local receiver, which must get nothing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from deadlines.channels import ChannelConfigInvalid, EmailChannel, WebhookChannel, build_channel
from deadlines.channels.email import EmailConfig
from deadlines.channels.webhook import WebhookConfig
from deadlines.channels.wecom import WecomChannel, WecomConfig
from deadlines.outbound import ALLOW_ENV, DestinationRefused, OutboundPolicy
from tests.deadlines.messages import NOW, MakeMessage, make_message_fixture  # noqa: F401
from tests.deadlines.receiver import LOCAL, Receiver, receiver_fixture  # noqa: F401

SECRET = "whsec-0123456789abcdef"

# Hosts that are this machine, its link, its network or nobody, as a URL may spell them.
REFUSED_HOSTS = [
    "127.0.0.1", "127.0.0.2", "localhost", "api.localhost", "[::1]", "[::ffff:127.0.0.1]",
    "[0:0:0:0:0:ffff:7f00:1]", "169.254.169.254", "[fe80::1]", "10.0.0.1", "172.16.0.1",
    "192.168.1.1", "100.64.0.1", "0.0.0.0", "[::]", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "[fc00::1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
    # other IPv4 notations: integer, hex, octal, short, trailing dot
    "2130706433", "0x7f000001", "0x7f.0.0.1", "0177.0.0.1", "017700000001", "127.1",
    "127.0.1", "127.000.000.001", "127.0.0.1.",
]
# Addresses a resolver might answer with for a name that looks harmless.
REFUSED_ANSWERS = ["127.0.0.1", "::1", "::ffff:127.0.0.1", "169.254.169.254", "10.1.2.3",
                   "192.168.0.10", "100.100.100.200", "0.0.0.0", "fe80::1", "fd00::1",
                   "224.0.0.251"]


Script = dict[str, list[list[str]]]


@pytest.fixture(name="dns")
def dns_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Script]:
    """The system's resolver, answering the names put in the returned script from it (the
    first list, then the next, … the last again), and every other name as before."""
    script: Script = {}
    calls: dict[str, int] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in script:
            return real(host, port, *args, **kwargs)
        n = calls[host] = calls.get(host, 0) + 1
        answer = script[host][min(n, len(script[host])) - 1]
        port = int(port or 0)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in answer]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield script


@pytest.fixture(name="no_connections")
def no_connections_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Records every outgoing connection instead of making it (refused at once), so that a
    test may name a public address without anything leaving this machine."""
    attempts: list[Any] = []

    def refuse(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts


# When a config is read (a subscription being made)


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_each_non_public_host_is_refused_in_every_url_field_and_as_smtp_host(host: str) -> None:
    url = f"http://{host}:8080/hook"
    configs = [("webhook", {"url": url, "secret": SECRET}, "url"),
               ("wecom", {"key": "k-1", "base_url": url}, "base_url"),
               ("dingtalk", {"access_token": "t-1", "base_url": url}, "base_url"),
               ("email", {"host": host.strip("[]"), "from_address": "a@b.cn", "to": "c@d.cn"},
                "host")]
    for kind, config, field in configs:
        with pytest.raises(ChannelConfigInvalid) as caught:
            build_channel(kind, config)
        assert caught.value.fields == [field], (kind, caught.value)


REFUSED_URLS = [
    ("ftp://hooks.example.org/x", "must be an http(s) URL"),
    ("file:///etc/passwd", "must be an http(s) URL"),
    ("gopher://hooks.example.org:70/", "must be an http(s) URL"),
    ("https://paicha:s3cr3t-pw@hooks.example.org/x", "must not carry a user name or password"),
    ("https://token@hooks.example.org/x", "must not carry a user name or password"),
    ("https://hooks.example.org:99999/x", "invalid port"),
    ("https://hooks.example.org:0/x", "invalid port"),
    ("https://hooks.example.org:http/x", "invalid port"),
    ("https://hooks.example.org\\@127.0.0.1/x", "backslashes"),
    ("https://hooks.example.org\t/x", "control characters"),
]


def test_schemes_credentials_and_ports_are_refused() -> None:
    for url, problem in REFUSED_URLS:
        with pytest.raises(ChannelConfigInvalid) as caught:
            build_channel("webhook", {"url": url, "secret": SECRET})
        assert caught.value.fields == ["url"] and problem in str(caught.value), url
        assert "s3cr3t" not in str(caught.value)  # the URL is not quoted: it may hold secrets


def test_public_hosts_pass_and_an_allowed_private_one_too() -> None:
    for url in ("https://hooks.example.org/paicha", "https://8.8.8.8/x",
                "https://[2001:4860:4860::8888]/x", "https://政府.cn/hook"):
        build_channel("webhook", {"url": url, "secret": SECRET}).close()  # type: ignore[attr-defined]
    private = {"url": "http://10.20.0.5:8080/hook", "secret": SECRET}
    with pytest.raises(ChannelConfigInvalid, match=f"unless {ALLOW_ENV} lists the host"):
        build_channel("webhook", private)
    allowed = OutboundPolicy.allowing("10.20.0.0/16")
    build_channel("webhook", private, outbound=allowed).close()  # type: ignore[attr-defined]
    by_name = OutboundPolicy.allowing("robots.internal")
    build_channel("email", {"host": "robots.internal", "from_address": "a@b.cn", "to": "c@d.cn"},
                  outbound=by_name)


def test_the_allow_list_is_read_from_the_environment_and_refuses_what_it_cannot_read() -> None:
    policy = OutboundPolicy.from_env({ALLOW_ENV: "127.0.0.1, robots.internal  10.20.0.0/16"})
    assert policy.hosts == frozenset({"robots.internal"})
    assert [str(n) for n in policy.networks] == ["127.0.0.1/32", "10.20.0.0/16"]
    assert OutboundPolicy.from_env({}) == OutboundPolicy()
    with pytest.raises(ValueError, match=f"{ALLOW_ENV}: '0x7f000001', 'bad/host'"):
        OutboundPolicy.from_env({ALLOW_ENV: "0x7f000001, bad/host"})


# When a message is sent


def loopback_webhook(receiver: Receiver, host: str, policy: OutboundPolicy) -> WebhookChannel:
    """A webhook to the receiver's port on `host`, made without the config check (as one
    stored before this release, or by another way in) so that only the send-time check
    stands between it and the receiver."""
    port = receiver.url.rsplit(":", 1)[1]
    config = WebhookConfig(url=f"http://{host}:{port}/hook", secret=SECRET)
    return WebhookChannel(config, outbound=policy)


# (httpx itself refuses a URL with 0177.0.0.1; the C resolver takes the others as 127.0.0.1)
@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "2130706433",
                                  "0x7f000001", "0x7f.1", "017700000001", "127.1", "localhost"])
def test_a_loopback_url_that_skipped_the_config_check_is_refused_when_sent(
    receiver: Receiver, make_message: MakeMessage, host: str,
) -> None:
    with loopback_webhook(receiver, host, OutboundPolicy()) as channel:
        result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, False)
    assert result.detail.startswith("destination refused: ")
    assert receiver.requests == []


@pytest.mark.parametrize("answer", REFUSED_ANSWERS)
def test_a_name_resolving_to_a_non_public_address_is_refused_when_sent(
    receiver: Receiver, make_message: MakeMessage, dns: Script, answer: str,
) -> None:
    dns["hooks.example.org"] = [[answer]]
    with loopback_webhook(receiver, "hooks.example.org", OutboundPolicy()) as channel:
        result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, False)
    assert result.detail.startswith("destination refused: hooks.example.org resolves to ")
    assert receiver.requests == []


def test_a_mixed_answer_is_refused_whole(
    receiver: Receiver, make_message: MakeMessage, dns: Script,
) -> None:
    dns["hooks.example.org"] = [["8.8.8.8", "127.0.0.1"]]
    with pytest.raises(DestinationRefused, match=r"resolves to 127\.0\.0\.1 is a loopback"):
        OutboundPolicy().addresses("hooks.example.org", 443)
    with loopback_webhook(receiver, "hooks.example.org", OutboundPolicy()) as channel:
        assert channel.send(make_message(), now=NOW).detail.startswith("destination refused")
    assert receiver.requests == []


def test_dns_rebinding_gains_nothing_the_connection_goes_to_the_checked_address(
    make_message: MakeMessage, dns: Script, no_connections: list[Any],
) -> None:
    """The name answers a public address first and 127.0.0.1 after: a check that resolved
    apart from the connection would pass the first answer and connect to the second."""
    dns["rebind.example.org"] = [["93.184.215.14"], ["127.0.0.1"]]
    config = WebhookConfig(url="http://rebind.example.org:8080/hook", secret=SECRET)
    with WebhookChannel(config, outbound=OutboundPolicy()) as channel:
        result = channel.send(make_message(), now=NOW)
        second = channel.send(make_message(), now=NOW)  # the next resolution: 127.0.0.1
    assert (result.ok, result.retryable) == (False, True)  # refused by the (fake) network
    assert no_connections == [("93.184.215.14", 8080)]  # never 127.0.0.1
    assert second.detail.startswith("destination refused: rebind.example.org resolves to "
                                    "127.0.0.1 is a loopback address")


def test_dns_rebinding_against_a_real_local_receiver(
    receiver: Receiver, make_message: MakeMessage, dns: Script,
) -> None:
    """The same, end to end on this machine: 127.0.0.2 (allowed) stands for the public first
    answer; nothing listens there, while the receiver on 127.0.0.1 would take the request."""
    dns["rebind.example.org"] = [["127.0.0.2"], ["127.0.0.1"]]
    policy = OutboundPolicy.allowing("127.0.0.2")
    with loopback_webhook(receiver, "rebind.example.org", policy) as channel:
        first = channel.send(make_message(), now=NOW)
        second = channel.send(make_message(), now=NOW)
    assert (first.ok, first.retryable) == (False, True)
    assert first.detail.startswith("connection failed")
    assert second.detail.startswith("destination refused")
    assert receiver.requests == []


def test_proxy_variables_do_not_route_around_the_check(
    receiver: Receiver, make_message: MakeMessage, monkeypatch: pytest.MonkeyPatch,
    dns: Script,
) -> None:
    """A proxy in the environment (here: the local receiver) would be asked to fetch any URL,
    and only its own address would be checked."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, receiver.url)
    dns["hooks.example.org"] = [["127.0.0.1"]]
    with loopback_webhook(receiver, "hooks.example.org", OutboundPolicy()) as channel:
        result = channel.send(make_message(), now=NOW)
    assert result.detail.startswith("destination refused")
    assert receiver.requests == []


def test_an_smtp_host_resolving_to_loopback_is_refused_when_sent(
    make_message: MakeMessage, dns: Script, no_connections: list[Any],
) -> None:
    dns["mail.example.org"] = [["127.0.0.1"]]
    policy = OutboundPolicy()
    for security in ("none", "ssl"):
        config = EmailConfig(host="mail.example.org", from_address="a@b.cn", to=("c@d.cn",),
                             port=2525, security=security)  # type: ignore[arg-type]
        result = EmailChannel(config, outbound=policy).send(make_message(), now=NOW)
        assert (result.ok, result.retryable) == (False, False)
        assert result.detail.startswith("destination refused: mail.example.org resolves to")
    assert no_connections == []


def test_an_smtp_connection_goes_to_the_checked_address(
    make_message: MakeMessage, dns: Script, no_connections: list[Any],
) -> None:
    dns["mail.example.org"] = [["93.184.215.14"], ["127.0.0.1"]]
    config = EmailConfig(host="mail.example.org", from_address="a@b.cn", to=("c@d.cn",),
                         port=2525, security="none")
    channel = EmailChannel(config, outbound=OutboundPolicy())
    result = channel.send(make_message(), now=NOW)
    second = channel.send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, True)
    assert second.detail.startswith("destination refused")
    assert no_connections == [("93.184.215.14", 2525)]


# The allow-list


def test_the_allow_list_lets_a_local_receiver_through(
    receiver: Receiver, make_message: MakeMessage,
) -> None:
    url = f"{receiver.url}/cgi-bin/webhook/send"
    with pytest.raises(ChannelConfigInvalid, match=r"127\.0\.0\.1 is a loopback address"):
        build_channel("wecom", {"key": "k-1", "base_url": url})
    channel = build_channel("wecom", {"key": "k-1", "base_url": url}, outbound=LOCAL)
    assert isinstance(channel, WecomChannel)
    with channel:
        assert channel.send(make_message(), now=NOW).ok
    assert len(receiver.requests) == 1


def test_an_allowed_host_name_may_resolve_to_a_private_address(
    receiver: Receiver, make_message: MakeMessage, dns: Script,
) -> None:
    port = receiver.url.rsplit(":", 1)[1]
    url = f"http://robots.internal:{port}/cgi-bin/webhook/send"
    dns["robots.internal"] = [["127.0.0.1"]]
    refusing = OutboundPolicy()
    with WecomChannel(WecomConfig(key="k-1", base_url=url), outbound=refusing) as channel:
        assert channel.send(make_message(), now=NOW).detail.startswith("destination refused")
    allowing = OutboundPolicy.allowing("robots.internal")
    with WecomChannel(WecomConfig(key="k-1", base_url=url), outbound=allowing) as channel:
        assert channel.send(make_message(), now=NOW).ok
    assert len(receiver.requests) == 1
