"""What the HTTP channels share: one reused httpx client whose every connection goes to an
address the outbound policy vetted, and the translation of httpx errors and HTTP replies into
DeliveryResults — by status code and fixed reasons, never the reply's text."""

from __future__ import annotations

import datetime as dt
import json
import typing
from collections.abc import Mapping
from http import HTTPStatus

import httpcore
import httpx

from deadlines.channels.base import DeliveryResult
from deadlines.outbound import DestinationRefused, OutboundPolicy
from deadlines.retry import parse_retry_after

USER_AGENT = "paicha-deliveries/1"

# 408 is the server saying it gave up waiting for us: as retryable as our own timeout.
RETRYABLE_STATUS = frozenset({408, 429})


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with each secret replaced: robot URLs carry their key and token in the query."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class VettingBackend(httpcore.SyncBackend):
    """httpcore's network backend, resolving the host itself: it connects only to addresses
    the policy vetted, so nothing resolves the name again between check and connect. TLS is
    still set up by httpcore with the URL's host name, which the certificate must match."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._policy.addresses(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve") from exc
        last: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address,
                                           socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # `addresses` returns at least one
        raise last


def vetting_transport(policy: OutboundPolicy) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through `VettingBackend`."""
    # Certificates as httpx verifies them (SSL_CERT_FILE / SSL_CERT_DIR are honoured).
    context = httpx.create_ssl_context(trust_env=True)
    transport = httpx.HTTPTransport(verify=context, trust_env=False)
    limits = httpx.Limits()
    # httpx 0.28 takes no network backend, so the pool it built is replaced by one like it
    # around ours (what HTTPTransport builds without a proxy).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context, max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry, http1=True, http2=False,
        network_backend=VettingBackend(policy))
    return transport


def _os_reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection (refused, unreachable …), found
    along the exception's causes; these are ours, not the receiver's."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return f" ({seen.strerror})"
        seen = seen.__cause__ or seen.__context__
    return ""


class HttpSender:
    """Posts bodies with a reused client; never raises for a network or protocol problem."""

    def __init__(self, *, timeout: float, outbound: OutboundPolicy,
                 secrets: tuple[str, ...] = ()) -> None:
        self._secrets = secrets
        # Redirects are not followed: a signed body must not be forwarded to another host.
        # The environment is not trusted: an HTTP(S)_PROXY variable would send every request
        # to the proxy, whose address is not the destination the policy vetted.
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
            transport=vetting_transport(outbound), headers={"User-Agent": USER_AGENT},
        )

    def post(
        self, url: str, *, content: bytes, headers: Mapping[str, str],
    ) -> httpx.Response | DeliveryResult:
        """The response, or a failed result when no usable response came back."""
        try:
            return self._client.post(url, content=content, headers=dict(headers))
        except DestinationRefused as exc:
            return self._failed(f"destination refused: {exc}", retryable=False)
        except httpx.TimeoutException:
            return self._failed("timed out", retryable=True)
        except httpx.ConnectError as exc:
            return self._failed(f"connection failed{_os_reason(exc)}", retryable=True)
        except (httpx.NetworkError, httpx.ProxyError):
            return self._failed("connection lost", retryable=True)
        except httpx.RemoteProtocolError:
            # Its message quotes what the receiver sent; the reason stays fixed.
            return self._failed("the receiver broke the HTTP protocol", retryable=True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # Unsupported scheme, a malformed request, too many redirects: retrying the same
            # message to the same URL cannot succeed.
            return self._failed(f"request failed ({type(exc).__name__})", retryable=False)

    def _failed(self, detail: str, *, retryable: bool) -> DeliveryResult:
        return DeliveryResult.failed(redact(detail, self._secrets), retryable=retryable)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


def status_text(status: int) -> str:
    """`HTTP 503 Service Unavailable`: the code and its standard phrase, never the reply."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def status_result(response: httpx.Response, *, now: dt.datetime) -> DeliveryResult:
    """A result from the HTTP status alone: 2xx delivered; 5xx, 408 and 429 retryable. The
    reply's body is not kept: it is the receiver's to show, not ours (a private host's page
    read back through the outbox is how a server is turned into a probe)."""
    status = response.status_code
    if 200 <= status < 300:
        return DeliveryResult.delivered(status, f"HTTP {status}")
    retryable = status >= 500 or status in RETRYABLE_STATUS
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    return DeliveryResult.failed(status_text(status), status=status, retryable=retryable,
                                 retry_after=retry_after if retryable else None)


def robot_result(
    response: httpx.Response, *, now: dt.datetime, retryable_codes: frozenset[int],
    known_codes: Mapping[int, str],
) -> DeliveryResult:
    """A group robot's reply: its HTTP status first, then `errcode` in the JSON body, which
    is how both WeCom and DingTalk report a refusal under HTTP 200. A failure is recorded by
    its errcode and the reason `known_codes` gives it; `errmsg` is not kept."""
    result = status_result(response, now=now)
    if not result.ok:
        return result
    status = response.status_code
    try:
        code = json.loads(response.content)["errcode"]
    except (ValueError, TypeError, KeyError):
        code = None
    if not isinstance(code, int) or isinstance(code, bool):
        # Robots always answer JSON; anything else is a proxy or portal page. Not retried:
        # the message may have arrived, and a robot has no idempotency key to dedupe a repeat.
        return DeliveryResult.failed("unexpected reply (no errcode in JSON)", status=status,
                                     retryable=False)
    if code == 0:
        return DeliveryResult.delivered(status, "errcode 0")
    reason = known_codes.get(code, "unknown error code")
    return DeliveryResult.failed(f"errcode {code}: {reason}", status=status,
                                 retryable=code in retryable_codes)
