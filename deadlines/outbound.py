"""Where deliveries may go: public addresses only, unless the operator allows a host.

A subscription names its destination (a webhook URL, a robot's `base_url`, an SMTP `host`), so
whoever may subscribe could otherwise point the server at itself (127.0.0.1), at a cloud's
metadata service (169.254.169.254) or at the office's private network, and read the answer
back. The policy is checked twice: on the config when a subscription is made, and on the
addresses a host name resolves to when a message is sent — and the connection then goes to the
very address that was checked, so an answer that changes between check and connect (DNS
rebinding) gains nothing.

`PAICHA_OUTBOUND_ALLOW` lists what an on-prem deployment allows besides: host names, IP
addresses and networks (CIDR), separated by commas or spaces.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine import texts

ALLOW_ENV = "PAICHA_OUTBOUND_ALLOW"


def _hint() -> str:
    """What follows a refusal: how an operator allows a private destination."""
    return texts.t("deadlines.outbound.hint", env=ALLOW_ENV)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# 100.64.0.0/10 (RFC 6598): neither private nor global to `ipaddress`, and inside a carrier's
# or a cloud's network all the same.
SHARED = ipaddress.IPv4Network("100.64.0.0/10")
# NAT64 (RFC 6052): the last 32 bits are an IPv4 address a gateway connects to.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")

# A last label of digits or 0x-hex makes a host an IPv4 address to browsers and to the C
# resolver (`2130706433`, `0x7f000001`, `0177.0.0.1` and `127.1` are all 127.0.0.1).
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_SEPARATORS = re.compile(r"[\s,]+")


class DestinationRefused(Exception):
    """A destination the policy does not send to; the message names the host and why."""

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(reason)


class _BadHost(ValueError):
    pass


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host` from the system's resolver, in its order, without repeats."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def refusal(address: Address) -> str | None:
    """Why `address` is no place to send to (e.g. "a loopback address"), or None when it is a
    public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in LOCAL_NAT64:
            return texts.t("deadlines.outbound.local_nat64")
        for form, embedded in (("IPv4-mapped", address.ipv4_mapped),
                               ("6to4", address.sixtofour),
                               ("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
                                if address in NAT64 else None)):
            if embedded is not None:
                inner = refusal(embedded)
                return texts.t("deadlines.outbound.embedded", inner=inner, form=form) \
                    if inner else None
    if address.is_unspecified:
        return texts.t("deadlines.outbound.unspecified")
    if address.is_loopback:
        return texts.t("deadlines.outbound.loopback")
    if address.is_link_local:
        return texts.t("deadlines.outbound.link_local")
    if address.is_multicast:
        return texts.t("deadlines.outbound.multicast")
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED:
        return texts.t("deadlines.outbound.shared")
    if address.is_reserved:
        return texts.t("deadlines.outbound.reserved")
    if address.is_private:
        return texts.t("deadlines.outbound.private")
    if not address.is_global:
        return texts.t("deadlines.outbound.not_public")
    return None


def parse_host(host: str) -> Address | str:
    """An IP literal as an address, a DNS name as its lower-case ASCII form; raises ValueError
    for anything else, including IPv4 addresses in another notation than a.b.c.d."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not text:
        raise _BadHost(texts.t("deadlines.outbound.no_host"))
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            raise _BadHost(texts.t("deadlines.outbound.not_ipv6", host=host)) from None
    name = text.lower()
    name = name[:-1] if name.endswith(".") else name
    labels = name.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            address = ipaddress.IPv4Address(name)
        except ValueError:
            address = None
        if address is None or str(address) != name:
            raise _BadHost(texts.t("deadlines.outbound.ipv4_notation", host=host))
        return address
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise _BadHost(texts.t("deadlines.outbound.bad_name", host=host)) from None
        labels = name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise _BadHost(texts.t("deadlines.outbound.bad_name", host=host))
    return name


def _is_localhost(name: str) -> bool:
    # RFC 6761: these names are the loopback interface, whatever a DNS server says.
    return name == "localhost" or name.endswith(".localhost")


@dataclass(frozen=True)
class OutboundPolicy:
    """Public destinations, plus the host names and networks an operator allows."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def allowing(cls, entries: str | Iterable[str]) -> OutboundPolicy:
        """A policy allowing `entries`: host names, IP addresses and CIDR networks (a string
        is split at commas and spaces). Raises ValueError naming every unusable entry."""
        items = _SEPARATORS.split(entries) if isinstance(entries, str) else list(entries)
        hosts: set[str] = set()
        networks: list[Network] = []
        bad: list[str] = []
        for item in (i.strip() for i in items):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            try:
                parsed = parse_host(item)
            except ValueError:
                bad.append(item)
                continue
            if isinstance(parsed, str):
                hosts.add(parsed)
            else:
                networks.append(ipaddress.ip_network(parsed))
        if bad:
            raise ValueError(texts.t("deadlines.outbound.allow_invalid", env=ALLOW_ENV,
                                     items=", ".join(repr(b) for b in bad)))
        return cls(frozenset(hosts), tuple(networks))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OutboundPolicy:
        """The policy `PAICHA_OUTBOUND_ALLOW` sets (none allowed when it is unset)."""
        return cls.allowing((os.environ if environ is None else environ).get(ALLOW_ENV, ""))

    def _allowed(self, address: Address) -> bool:
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        return any(a in net for net in self.networks for a in (address, mapped) if a)

    def address_problem(self, address: Address) -> str | None:
        """Why the policy refuses `address`, or None."""
        if self._allowed(address):
            return None
        reason = refusal(address)
        return texts.t("deadlines.outbound.refused", address=address, reason=reason) + _hint() \
            if reason else None

    def host_problem(self, host: str) -> str | None:
        """What is wrong with `host` as a destination without resolving it (a name is checked
        again, resolved, when a message is sent), or None."""
        try:
            parsed = parse_host(host)
        except ValueError as exc:
            return str(exc)
        if isinstance(parsed, str):
            if _is_localhost(parsed) and parsed not in self.hosts:
                return texts.t("deadlines.outbound.loopback_name", host=parsed) + _hint()
            return None
        return self.address_problem(parsed)

    def url_problem(self, url: str) -> str | None:
        """What is wrong with `url` as a destination, or None. The URL itself is not echoed:
        it may carry credentials."""
        if any(ch.isspace() or ord(ch) < 32 or ch in "\\\x7f" for ch in url):
            return texts.t("deadlines.outbound.url_characters")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return texts.t("deadlines.outbound.not_http")
        if "@" in parts.netloc:
            return texts.t("deadlines.outbound.credentials")
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0 or parts.netloc.endswith(":"):
            return texts.t("deadlines.outbound.port")
        return self.host_problem(parts.hostname or "")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, every one vetted. Raises DestinationRefused,
        or OSError when the name does not resolve."""
        try:
            parsed = parse_host(host)
        except ValueError as exc:
            raise DestinationRefused(host, str(exc)) from None
        if not isinstance(parsed, str):
            problem = self.address_problem(parsed)
            if problem:
                raise DestinationRefused(host, problem)
            return [str(parsed)]
        named = parsed in self.hosts
        if _is_localhost(parsed) and not named:
            raise DestinationRefused(host, texts.t("deadlines.outbound.loopback_name",
                                                   host=parsed) + _hint())
        found = system_resolver(parsed, port)
        if not found:
            raise OSError(f"{parsed} has no address")
        vetted = []
        for text in found:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise DestinationRefused(host, texts.t("deadlines.outbound.resolves_to_junk",
                                                       host=parsed, text=text)) from None
            # A name the operator allows may resolve anywhere; any other must resolve to
            # public addresses only (all of them: a mixed answer is a rebinding attempt).
            problem = None if named else self.address_problem(address)
            if problem:
                raise DestinationRefused(host, texts.t("deadlines.outbound.resolves_to",
                                                       host=parsed, problem=problem))
            vetted.append(str(address))
        return vetted

    def connect(self, host: str, port: int, *, timeout: float | None,
                source_address: tuple[str, int] | None = None) -> socket.socket:
        """A TCP connection to a vetted address of `host` (tried in the resolver's order)."""
        last: OSError | None = None
        for address in self.addresses(host, port):
            try:
                return socket.create_connection((address, port), timeout, source_address)
            except OSError as exc:
                last = exc
        assert last is not None  # `addresses` returns at least one
        raise last


# The default everywhere a policy is not given: public addresses only.
PUBLIC_ONLY = OutboundPolicy()
