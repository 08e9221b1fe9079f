"""CPU-heavy or blocking work of an `async def` route, run on a worker thread so that the event
loop goes on answering every other request meanwhile; and the means to stop it.

Python cannot stop a thread from outside, so the work stops itself: it calls its `checkpoint`
now and then (an import every few hundred rows), which raises WorkStopped once the client has
left, the request was cancelled (its time budget ran out, api.guard) or the server is stopping
(SIGTERM). Work that never calls it (a campaign's validation, bounded by the campaign's size)
runs to its end on the thread; its result is then dropped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.types import Receive

from engine.texts import t

T = TypeVar("T")
Checkpoint = Callable[[], None]


class WorkStopped(Exception):
    """Work stopped before it was done; `code` says why, for the 503 (api.guard)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class Stop:
    """The flags a piece of work checks: its request ended, or the server is stopping."""

    def __init__(self, server_stopping: threading.Event) -> None:
        self.ended = threading.Event()
        self.server_stopping = server_stopping

    def check(self) -> None:
        """The work's checkpoint: raises WorkStopped when it should not go on."""
        if self.server_stopping.is_set():
            raise WorkStopped(t("problem.server_stopping.detail"), "server_stopping")
        if self.ended.is_set():
            raise WorkStopped(t("problem.request_ended.detail"), "request_ended")


async def offload(request: Request, work: Callable[..., T], *args: Any) -> T:
    """`work(*args, checkpoint=…)` on a worker thread; WorkStopped if the client leaves first.

    The request's body must have been read: what arrives after it is the client leaving."""
    stop = Stop(request.app.state.services.stopping)
    running = asyncio.ensure_future(anyio.to_thread.run_sync(
        partial(work, *args, checkpoint=stop.check), abandon_on_cancel=True))
    leaving = asyncio.ensure_future(_client_leaves(request.receive))
    try:
        await asyncio.wait((running, leaving), return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            return running.result()
        raise WorkStopped(t("problem.client_left.detail"), "client_left")
    finally:
        stop.ended.set()  # harmless when the work is done; stops it at its next checkpoint
        leaving.cancel()
        running.cancel()


async def _client_leaves(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
