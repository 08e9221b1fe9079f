"""What the HTTP channels share: one reused httpx client, and the translation of httpx errors
and HTTP replies into DeliveryResults."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import httpx

from deadlines.channels.base import DeliveryResult, clip
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


class HttpSender:
    """Posts bodies with a reused client; never raises for a network or protocol problem."""

    def __init__(
        self, *, timeout: float, secrets: tuple[str, ...] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._secrets = secrets
        # Redirects are not followed: a signed body must not be forwarded to another host.
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, transport=transport,
            headers={"User-Agent": USER_AGENT},
        )

    def post(
        self, url: str, *, content: bytes, headers: Mapping[str, str],
    ) -> httpx.Response | DeliveryResult:
        """The response, or a failed result when no usable response came back."""
        try:
            return self._client.post(url, content=content, headers=dict(headers))
        except httpx.TimeoutException as exc:
            return self._failed("timed out", exc, retryable=True)
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            return self._failed("connection failed", exc, retryable=True)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # Unsupported scheme, a malformed request, too many redirects: retrying the same
            # message to the same URL cannot succeed.
            return self._failed("request failed", exc, retryable=False)

    def _failed(self, what: str, exc: Exception, *, retryable: bool) -> DeliveryResult:
        reason = redact(str(exc), self._secrets) or type(exc).__name__
        return DeliveryResult.failed(f"{what}: {clip(reason)}", retryable=retryable)

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


def status_result(response: httpx.Response, *, now: dt.datetime) -> DeliveryResult:
    """A result from the HTTP status alone: 2xx delivered; 5xx, 408 and 429 retryable."""
    status = response.status_code
    if 200 <= status < 300:
        return DeliveryResult.delivered(status, f"HTTP {status}")
    retryable = status >= 500 or status in RETRYABLE_STATUS
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    body = clip(response.text) if response.content else ""
    detail = f"HTTP {status}" + (f": {body}" if body else "")
    return DeliveryResult.failed(detail, status=status, retryable=retryable,
                                 retry_after=retry_after if retryable else None)


def robot_result(
    response: httpx.Response, *, now: dt.datetime, retryable_codes: frozenset[int],
) -> DeliveryResult:
    """A group robot's reply: its HTTP status first, then `errcode` in the JSON body, which
    is how both WeCom and DingTalk report a refusal under HTTP 200."""
    result = status_result(response, now=now)
    if not result.ok:
        return result
    status = response.status_code
    try:
        reply = json.loads(response.content)
        code = reply["errcode"]
    except (ValueError, TypeError, KeyError) as exc:
        # Robots always answer JSON; anything else is a proxy or portal page. Not retried:
        # the message may have arrived, and a robot has no idempotency key to dedupe a repeat.
        return DeliveryResult.failed(
            f"unexpected reply ({type(exc).__name__}): {clip(response.text)}",
            status=status, retryable=False,
        )
    if code == 0:
        return DeliveryResult.delivered(status, "errcode 0")
    message = clip(str(reply.get("errmsg", "")))
    return DeliveryResult.failed(f"errcode {code}: {message}", status=status,
                                 retryable=code in retryable_codes)
