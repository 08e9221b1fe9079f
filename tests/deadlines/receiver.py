"""A local HTTP receiver for channel tests: records every request and answers as told,
including not at all (to exercise timeouts). Listens on 127.0.0.1 only.

The outbound policy refuses loopback by default; the tests allow the receivers' host as an
operator allows an on-prem robot (`PAICHA_OUTBOUND_ALLOW=127.0.0.1`), through `LOCAL`."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from deadlines.outbound import OutboundPolicy
from tests.support.world import World

# The policy of the tests that talk to a local receiver: public addresses, and 127.0.0.1.
LOCAL = OutboundPolicy.allowing("127.0.0.1")


@dataclass(frozen=True)
class Request:
    """One request as it arrived: the raw path and query, headers, and body bytes."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        """The query decoded, one value a name."""
        return {k: v[0] for k, v in parse_qs(self.raw_query, keep_blank_values=True).items()}

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Reply:
    """What the receiver answers; `hang` keeps the connection open without answering."""

    status: int = 200
    body: bytes = b'{"errcode":0,"errmsg":"ok"}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    hang: bool = False


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        parts = urlsplit(self.path)
        self.server.receiver.requests.append(Request(
            self.command, parts.path, parts.query,
            {k.lower(): v for k, v in self.headers.items()}, body,
        ))
        reply = self.server.receiver.reply
        if reply.hang:
            # Held until the fixture ends, long past any client timeout the tests set.
            self.server.receiver.release.wait(timeout=10)
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    receiver: Receiver


class Receiver:
    """Records requests on a random local port; set `reply` to change the answer."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.reply = Reply()
        self.release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        # A short poll so that stopping (which waits for the loop to notice) takes milliseconds.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:53122."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, status: int = 200, body: bytes | dict[str, Any] = b"", *,
               headers: dict[str, str] | None = None, hang: bool = False) -> None:
        """Answer every following request so; a dict body is sent as JSON."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        self.reply = Reply(status, raw, headers or {"Content-Type": "application/json"}, hang)

    @property
    def last(self) -> Request:
        """The one request received; fails if there was not exactly one."""
        assert len(self.requests) == 1, f"expected one request, got {len(self.requests)}"
        return self.requests[0]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    """A running receiver, stopped after the test."""
    running = Receiver()
    running.start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def local_receivers(world: World) -> None:
    """The API allows the receivers' host, as PAICHA_OUTBOUND_ALLOW=127.0.0.1 would."""
    world.services.settings = dataclasses.replace(world.services.settings, outbound=LOCAL)
