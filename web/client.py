"""The REST API, asked in-process as the person at the screen.

A page does what an integrator would: it calls the API's routes, with the principal of its
person's session put straight into the request (`api.deps.PRINCIPAL`, where the request guard
leaves a token's principal). So a screen meets exactly the API's scopes, validation, refusals
(their problem details, in the person's language, become the form's inline errors) and audit,
and no rule is written twice. Only the server can put a principal into a request's scope: no
header or cookie can, so the API's own door stays as it is for everyone else.

The call runs the app's routes and error handlers, not its outer layers: the page's own
request has passed the telemetry and the request guard (its time budget covers the calls it
makes), and is the one request logged and counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.types import Message

from api.deps import INTERNAL, PRINCIPAL
from engine.access import Principal

Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class Answer:
    """What a route answered: its status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status < 400

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    @property
    def problem(self) -> dict[str, Any]:
        """A refusal's problem details (api.errors), or a bare one for anything else."""
        if self.ok:
            return {}
        try:
            found = self.json()
        except orjson.JSONDecodeError:
            found = None
        return found if isinstance(found, dict) else {"status": self.status, "detail": ""}


class Api:
    """The API as one person: `await api.get("/cases", state="reported")`."""

    def __init__(self, request: Request, principal: Principal) -> None:
        self.request = request
        self.principal = principal

    async def get(self, path: str, params: Params | None = None) -> Answer:
        return await self.call("GET", path, params)

    async def post(self, path: str, body: Any = None, params: Params | None = None) -> Answer:
        return await self.call("POST", path, params, orjson.dumps(body), "application/json")

    async def call(self, method: str, path: str, params: Params | None = None,
                   body: bytes = b"", content_type: str | None = None) -> Answer:
        items = params.items() if isinstance(params, Mapping) else params or ()
        query = urlencode([(k, _text(v)) for k, v in items if v is not None and v != ""])
        headers = [(b"host", b"paicha.internal")]
        if content_type is not None:
            headers += [(b"content-type", content_type.encode("latin-1")),
                        (b"content-length", str(len(body)).encode("ascii"))]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query.encode("ascii"), "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 0), "server": ("paicha.internal", 80),
            PRINCIPAL: self.principal, INTERNAL: True,
        }
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if sent:
                # past its body the call hears what the page's own request hears: its person
                # leaving (a route that offloads work waits on this: api.offload)
                return await self.request.receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        answer_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                answer_headers.update((k.decode("latin-1").lower(), v.decode("latin-1"))
                                      for k, v in message.get("headers", ()))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.request.app(scope, receive, send)
        return Answer(status, answer_headers, b"".join(chunks))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
