"""What every request meets before a route reads it: its token (401 before one byte of the body
is read), the checks of api.door (422), a cap on its body while it streams in (413), and a time
budget (503).

FastAPI reads and parses a body before it solves a route's dependencies, so a check made by a
dependency comes too late: an anonymous caller could make the server hold and parse a body of
any size. This thin ASGI middleware sits in front of the routes instead. It resolves the token
once and leaves the principal in the request's scope (`PRINCIPAL`), where `api.deps` picks it
up, so no route resolves it twice.

The hot path (POST /cases/{id}/events) pays for one pass over the headers and two dict writes:
a body with a Content-Length under its cap is not wrapped (the server already holds the client
to its Content-Length), and the time budget is kept by one watchdog per event loop instead of a
timer per request (bench/README.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import door
from api.deps import INTERNAL, PRINCIPAL, resolve_token
from api.errors import Unauthenticated, invalid, problem
from api.offload import WorkStopped
from api.services import Services
from engine.texts import t

log = logging.getLogger("paicha.api")


@dataclass(frozen=True)
class Limits:
    """What one route may take: body bytes (and the code of the 413 past them), seconds."""

    body_bytes: int
    body_code: str
    what: str  # the body, in the 413's message: "a JSON body", "a campaign", "an import file"
    seconds: float


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body without a Content-Length streams past its cap."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")


class RequestGuard:
    """The ASGI middleware; `routes` maps (method, path) to the limits of routes that differ
    from `default`; `public` paths, and paths under `public_prefixes`, need no token."""

    def __init__(self, app: ASGIApp, *, services: Services, default: Limits,
                 routes: Mapping[tuple[str, str], Limits], public: frozenset[str],
                 public_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.services = services
        self.default = default
        self.routes = dict(routes)
        self.public = public
        # the screens (web/): they answer a request without a session themselves, with the
        # sign-in page rather than a 401
        self.public_prefixes = public_prefixes
        shortest = min([default.seconds, *(limits.seconds for limits in routes.values())])
        self.watchdogs = Watchdogs(tick=min(1.0, max(0.005, shortest / 10)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if INTERNAL in scope:  # a screen's call (web.client): its page passed this guard
            refused = door.refusals(scope)
            if refused:
                await invalid(refused)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        limits = self.routes.get((scope["method"], scope["path"]), self.default)
        task = asyncio.current_task()
        assert task is not None
        watchdog = self.watchdogs.of(asyncio.get_running_loop())
        watchdog.watch(task, limits.seconds)
        try:
            await self._guarded(scope, receive, send, limits)
        except asyncio.CancelledError:
            # Ours only if the watchdog cancelled this task, and nobody else did too (a server
            # shutting down cancels its requests as well: that cancellation goes on).
            if not watchdog.expired(task) or task.uncancel() > 0:
                raise
            await _answer(scope, receive, send, 503, "time_budget_exceeded", t(
                "problem.time_budget_exceeded.detail", seconds=f"{limits.seconds:g}"))
        except WorkStopped as stopped:
            # said here, in the caller's language, not on the worker thread that stopped
            await _answer(scope, receive, send, 503, stopped.code,
                          t(f"problem.{stopped.code}.detail"))
        finally:
            watchdog.forget(task)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send,
                       limits: Limits) -> None:
        authorization = length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
        path: str = scope["path"]
        if path not in self.public and not path.startswith(self.public_prefixes):
            try:
                scope[PRINCIPAL] = await resolve_token(
                    self.services, None if authorization is None
                    else authorization.decode("latin-1"))
            except Unauthenticated as error:
                await problem(401, error.code, str(error))(scope, receive, send)
                return
        refused = door.refusals(scope)  # NUL, undeclared query parameters (api.door)
        if refused:
            await invalid(refused)(scope, receive, send)
            return
        if length is not None and length.isdigit():
            if int(length) > limits.body_bytes:
                await self._too_large(scope, receive, send, limits)
                return
            # the server delivers no more than the Content-Length: nothing to count
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, limits)

    async def _counted(self, scope: Scope, receive: Receive, send: Send,
                       limits: Limits) -> None:
        """A body without a length (chunked): counted as it arrives, and refused once past
        the cap; whatever the route then answers is replaced by the 413."""
        size = 0
        over = False

        async def counting_receive() -> Message:
            nonlocal size, over
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limits.body_bytes:
                    over = True
                    raise BodyTooLarge()
            return message

        async def send_unless_over(message: Message) -> None:
            if not over:
                await send(message)

        try:
            await self.app(scope, counting_receive, send_unless_over)
        except Exception:
            if not over:
                raise
        if over:
            await self._too_large(scope, receive, send, limits)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send,
                         limits: Limits) -> None:
        await problem(413, limits.body_code, t(
            "api.limit.body_too_large", size=_size(limits.body_bytes), what=_what(limits.what)),
            limit_bytes=limits.body_bytes)(scope, receive, send)


async def _answer(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                  detail: str) -> None:
    """A problem for a request whose route was stopped: sent unless the route had begun its
    own response (the server then refuses a second one, and the connection is closed)."""
    try:
        await problem(status, code, detail)(scope, receive, send)
    except Exception:  # which error a server raises then is its own choice
        log.info("no 503 (%s) for %s %s: its response had begun", code, scope["method"],
                 scope["path"])


def _size(count: int) -> str:
    if count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MiB"
    if count % 1024 == 0:
        return f"{count // 1024} KiB"
    return t("api.size.bytes", count=f"{count:,}")


# The bodies of the routes' limits (api.app), as the caller's language names them.
_WHAT = {"a JSON body": "api.limit.what.json_body", "a campaign": "api.limit.what.campaign",
         "an import file": "api.limit.what.import_file"}


def _what(what: str) -> str:
    key = _WHAT.get(what)
    return what if key is None else t(key)


class Watchdog:
    """The requests in flight on one event loop and when each is due; a timer that runs only
    while some are in flight cancels the overdue ones."""

    def __init__(self, loop: asyncio.AbstractEventLoop, tick: float) -> None:
        self.loop = loop
        self.tick = tick
        self.due: dict[asyncio.Task[Any], float] = {}
        self.cancelled: set[asyncio.Task[Any]] = set()
        self.timer: asyncio.TimerHandle | None = None

    def watch(self, task: asyncio.Task[Any], seconds: float) -> None:
        self.due[task] = self.loop.time() + seconds
        if self.timer is None:
            self.timer = self.loop.call_later(self.tick, self._check)

    def forget(self, task: asyncio.Task[Any]) -> None:
        self.due.pop(task, None)
        self.cancelled.discard(task)

    def expired(self, task: asyncio.Task[Any]) -> bool:
        return task in self.cancelled

    def _check(self) -> None:
        self.timer = None
        now = self.loop.time()
        for task, due in list(self.due.items()):
            if task.done():  # its loop stopped under it (a test client's portal)
                self.forget(task)
            elif due <= now and task not in self.cancelled:
                self.cancelled.add(task)
                task.cancel()
        if self.due:
            self.timer = self.loop.call_later(self.tick, self._check)


class Watchdogs:
    """One watchdog per event loop (a server has one; test clients may start several)."""

    def __init__(self, tick: float) -> None:
        self.tick = tick
        # (loop, its watchdog) of the last request, as one tuple: loops in other threads
        # replace it whole
        self._last: tuple[asyncio.AbstractEventLoop, Watchdog] | None = None
        self._all: dict[asyncio.AbstractEventLoop, Watchdog] = {}

    def of(self, loop: asyncio.AbstractEventLoop) -> Watchdog:
        last = self._last
        if last is not None and last[0] is loop:
            return last[1]
        found = self._all.get(loop)
        if found is None:
            for stale in [old for old in list(self._all) if old.is_closed()]:
                self._all.pop(stale, None)
            found = self._all.setdefault(loop, Watchdog(loop, self.tick))
        self._last = (loop, found)
        return found
